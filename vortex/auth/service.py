"""``ApiKeys``: creating, listing, revoking and checking API keys over a ``KeyStore``.

Checks are cached for ``cache_seconds`` (``VORTEX_AUTH_CACHE_MS``, 2 s by default), positive and
negative, in a bounded map: a busy server asks its store at most once per key per interval, and a
flood of made-up
tokens cannot grow memory. A revoked key therefore stops working within that interval on every
node, as does a first key created while a server ran open (single-tenant).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from vortex.auth.base import ApiKey, KeyStore, Scope
from vortex.auth.errors import ApiKeyNotFound
from vortex.auth.tokens import (
    DEFAULT_NAMESPACE,
    check_namespace,
    looks_like_token,
    new_token,
    token_digest,
)
from vortex.cache import BoundedCache
from vortex.health import BackendHealth

CACHE_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is, as handlers see it (``request[PRINCIPAL]``)."""

    namespace: str | None
    """The namespace whose functions this request may see, run, tail and delete. ``None`` only
    for a metrics key, which reaches no function."""
    scope: Scope | Literal["all"]
    key_id: str | None
    """``None`` in single-tenant mode (no keys exist): every request is the operator."""

    @property
    def authenticated(self) -> bool:
        return self.key_id is not None


SINGLE_TENANT = Principal(DEFAULT_NAMESPACE, "all", None)


class ApiKeys:
    def __init__(
        self,
        store: KeyStore,
        *,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._checked: BoundedCache[str, tuple[float, ApiKey | None]] = BoundedCache(CACHE_ENTRIES)
        self._count: tuple[float, int] | None = None

    # -- the operator's side (``vortex keys``) ---------------------------------------------------
    async def create(
        self, namespace: str | None, *, scope: Scope = "functions", note: str = ""
    ) -> tuple[ApiKey, str]:
        """The record and the token: the token is shown once and never stored."""
        if scope == "functions":
            label = check_namespace(namespace or "")
        else:
            namespace, label = None, "metrics"
        token = new_token(label)
        key = ApiKey(
            id=secrets.token_hex(6),
            digest=token_digest(token),
            namespace=namespace,
            scope=scope,
            created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            note=note,
        )
        await self.store.add(key)
        self._count = None
        return key, token

    async def list(self) -> list[ApiKey]:
        return await self.store.all()

    async def revoke(self, key_id: str) -> ApiKey:
        removed = await self.store.remove(key_id.strip())
        if removed is None:
            raise ApiKeyNotFound(f"no API key with id {key_id!r}")
        self._checked.discard(removed.digest)
        self._count = None
        return removed

    # -- the server's side ----------------------------------------------------------------------
    async def enabled(self) -> bool:
        """Whether any key exists: then every API request needs one."""
        now = self._clock()
        if self._count is None or now - self._count[0] >= self.cache_seconds:
            self._count = (now, await self.store.count())
        return self._count[1] > 0

    async def authenticate(self, token: str) -> ApiKey | None:
        if not looks_like_token(token):
            return None
        return await self.by_digest(token_digest(token))

    async def by_digest(self, digest: str) -> ApiKey | None:
        """The key of that digest, if it still exists (a dashboard session holds the digest)."""
        now = self._clock()
        cached = self._checked.get(digest)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        key = await self.store.find(digest)
        self._checked.put(digest, (now, key))
        return key

    async def health(self) -> BackendHealth:
        return await self.store.health()

    async def close(self) -> None:
        await self.store.close()
