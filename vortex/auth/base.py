"""API key records and the protocol of the stores that keep them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from vortex.health import BackendHealth

Scope = Literal["functions", "metrics"]
SCOPES: tuple[Scope, ...] = ("functions", "metrics")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """What is stored about a key: never the token, only its SHA-256 digest."""

    id: str
    """Public, short, for ``vortex keys list`` and ``revoke``; not a secret."""
    digest: str
    namespace: str | None
    """The tenant whose functions the key reaches; ``None`` for a metrics key."""
    scope: Scope
    created_at: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def public_json(self) -> dict[str, Any]:
        """Without the digest: what listings show."""
        body = self.to_json()
        del body["digest"]
        return body

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiKey:
        scope = data["scope"]
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        return cls(
            id=str(data["id"]),
            digest=str(data["digest"]),
            namespace=None if data.get("namespace") is None else str(data["namespace"]),
            scope=scope,
            created_at=str(data["created_at"]),
            note=str(data.get("note", "")),
        )


class KeyStore(Protocol):
    """Where the records live. Raises ``AuthUnavailable`` when it cannot be read or written."""

    async def add(self, key: ApiKey) -> None: ...

    async def find(self, digest: str) -> ApiKey | None: ...

    async def all(self) -> list[ApiKey]: ...

    async def remove(self, key_id: str) -> ApiKey | None:
        """The removed record, or ``None`` when no key has that id."""
        ...

    async def count(self) -> int: ...

    async def health(self) -> BackendHealth: ...

    async def close(self) -> None: ...
