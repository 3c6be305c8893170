"""Dashboard sessions: what a browser keeps instead of the API key.

The dashboard logs in once with a key (``POST /session``) and gets back a random session id in an
HttpOnly cookie: no script of the page, nor any other of its origin, can read a credential, and
the key itself is never kept in the browser. The store keeps, under the SHA-256 of the session id
(a reader of Redis cannot use what it reads), the digest and id of the key the session was made
from, a CSRF token and when the session ends.

Every use looks the key up again by its digest, through ``ApiKeys``' cache: revoking a key ends
its sessions within the key cache's period, on every node, with no list of sessions per key.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from vortex.auth.base import ApiKey
from vortex.auth.service import ApiKeys
from vortex.cache import BoundedCache

SESSION_SECONDS = 7 * 24 * 3600
"""A session ends a week after its login, whatever happens in between."""
MEMORY_SESSIONS = 10_000
"""Sessions one node keeps without Redis; past it the least recently used end."""
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
"""What ``secrets.token_urlsafe(32)`` makes: anything else is refused before any lookup."""


@dataclass(frozen=True, slots=True)
class Session:
    key_digest: str
    key_id: str
    csrf_token: str
    """Sent back by the page in ``X-Vortex-CSRF`` with every request that changes something: a
    page of another origin can make the browser send the cookie, never this header."""
    expires_at: float
    """Unix time."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        return cls(
            key_digest=str(data["key_digest"]),
            key_id=str(data["key_id"]),
            csrf_token=str(data["csrf_token"]),
            expires_at=float(data["expires_at"]),
        )


class SessionStore(Protocol):
    """Where sessions live, by ``handle`` (the SHA-256 of the session id). Raises
    ``AuthUnavailable`` when it cannot be read or written."""

    async def put(self, handle: str, session: Session) -> None: ...

    async def get(self, handle: str) -> Session | None: ...

    async def delete(self, handle: str) -> None: ...

    async def close(self) -> None: ...


class MemorySessionStore:
    """One node's sessions, in its memory: a restart logs every browser out, as the embedded
    key store's node is alone anyway."""

    def __init__(self, max_entries: int = MEMORY_SESSIONS) -> None:
        self._sessions: BoundedCache[str, Session] = BoundedCache(max_entries)

    async def put(self, handle: str, session: Session) -> None:
        self._sessions.put(handle, session)

    async def get(self, handle: str) -> Session | None:
        return self._sessions.get(handle)

    async def delete(self, handle: str) -> None:
        self._sessions.discard(handle)

    async def close(self) -> None:
        return None


def session_handle(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    def __init__(
        self, store: SessionStore, keys: ApiKeys, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.keys = keys
        self._clock = clock

    async def open(self, key: ApiKey) -> tuple[str, Session]:
        """A new session of ``key``: its id (for the cookie, shown nowhere else) and record."""
        session_id = secrets.token_urlsafe(32)
        session = Session(
            key_digest=key.digest,
            key_id=key.id,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=self._clock() + SESSION_SECONDS,
        )
        await self.store.put(session_handle(session_id), session)
        return session_id, session

    async def find(self, session_id: str) -> tuple[Session, ApiKey] | None:
        """The live session of that id and its key, or None: unknown, ended, expired, or its
        key revoked (the session is then dropped)."""
        if not _SESSION_ID.match(session_id):
            return None
        handle = session_handle(session_id)
        session = await self.store.get(handle)
        if session is None:
            return None
        key = None
        if session.expires_at > self._clock():
            key = await self.keys.by_digest(session.key_digest)
        if key is None or key.id != session.key_id:
            await self.store.delete(handle)
            return None
        return session, key

    async def end(self, session_id: str) -> None:
        if _SESSION_ID.match(session_id):
            await self.store.delete(session_handle(session_id))

    async def close(self) -> None:
        await self.store.close()
