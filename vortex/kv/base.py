"""What a KV backend does: byte values, each with optional metadata, under text keys, in one
namespace per function.

Backends trust their arguments: keys, values, TTLs and limits are checked once, in
``vortex.kv.service.KV``, so that every backend enforces the same documented limits. Keys sort
by their UTF-8 bytes in every backend (so ``list`` pages are the same whatever the backend).
A value is bytes whether it was put as text or as bytes (as in Workers KV, where text is stored
as its UTF-8); metadata is the JSON text the service made of the caller's value, kept as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from vortex.health import BackendHealth


@dataclass(frozen=True, slots=True)
class KVKey:
    name: str
    expiration: int | None = None
    """When the key expires, in whole seconds since the Unix epoch (as Workers KV reports it)."""
    metadata: str | None = None
    """The key's metadata as JSON text, ``None`` when it has none."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name}
        if self.expiration is not None:
            body["expiration"] = self.expiration
        if self.metadata is not None:
            body["metadata"] = orjson.loads(self.metadata)
        return body


@dataclass(frozen=True, slots=True)
class KVEntry:
    """A stored value and its metadata (JSON text, ``None`` when it has none)."""

    value: bytes
    metadata: str | None = None

    def text(self) -> str:
        # What Workers KV's get(key, "text") does with bytes that are not UTF-8: each bad
        # sequence becomes U+FFFD, never an error (Python's "replace" follows the same
        # maximal-subpart rule as the WHATWG decoder).
        return self.value.decode("utf-8", "replace")

    def metadata_value(self) -> Any:
        return None if self.metadata is None else orjson.loads(self.metadata)


@dataclass(frozen=True, slots=True)
class KVPage:
    """One page of a listing as a backend returns it: ``more`` says whether keys may follow
    ``keys[-1]`` (or ``resume_after``, when a backend stopped early on a run of expired keys)."""

    keys: list[KVKey]
    more: bool
    resume_after: str | None = None


class KVStore(Protocol):
    async def get(self, namespace: str, key: str) -> KVEntry | None:
        """The value and its metadata, or ``None`` when absent or expired."""
        ...

    async def put(
        self, namespace: str, key: str, value: bytes, metadata: str | None, ttl_ms: int | None
    ) -> None:
        """Create or replace, value and metadata together (a put without metadata drops what an
        earlier put gave); ``ttl_ms`` ``None`` means the key never expires (and clears any
        expiry an earlier put gave it)."""
        ...

    async def delete(self, namespace: str, key: str) -> None:
        """Deleting an absent key is not an error."""
        ...

    async def list(self, namespace: str, prefix: str, after: str | None, limit: int) -> KVPage:
        """Up to ``limit`` live keys that start with ``prefix`` and sort after ``after``."""
        ...

    async def delete_namespace(self, namespace: str) -> int:
        """Every key of one function (when the function is deleted); the number removed."""
        ...

    async def health(self) -> BackendHealth: ...

    async def close(self) -> None: ...
