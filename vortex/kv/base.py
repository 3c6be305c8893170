"""What a KV backend does: text values under text keys, in one namespace per function.

Backends trust their arguments: keys, values, TTLs and limits are checked once, in
``vortex.kv.service.KV``, so that every backend enforces the same documented limits. Keys sort
by their UTF-8 bytes in every backend (so ``list`` pages are the same whatever the backend).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from vortex.health import BackendHealth


@dataclass(frozen=True, slots=True)
class KVKey:
    name: str
    expiration: int | None = None
    """When the key expires, in whole seconds since the Unix epoch (as Workers KV reports it)."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name}
        if self.expiration is not None:
            body["expiration"] = self.expiration
        return body


@dataclass(frozen=True, slots=True)
class KVPage:
    """One page of a listing as a backend returns it: ``more`` says whether keys may follow
    ``keys[-1]`` (or ``resume_after``, when a backend stopped early on a run of expired keys)."""

    keys: list[KVKey]
    more: bool
    resume_after: str | None = None


class KVStore(Protocol):
    async def get(self, namespace: str, key: str) -> str | None:
        """The value, or ``None`` when absent or expired."""
        ...

    async def put(self, namespace: str, key: str, value: str, ttl_ms: int | None) -> None:
        """Create or replace; ``ttl_ms`` ``None`` means the key never expires (and clears any
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
