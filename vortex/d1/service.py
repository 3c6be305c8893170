"""A server's D1 databases: each a SQLite file under ``<data dir>/d1/<namespace>/``.

Opened on first use (a database exists once something used it, as an R2 bucket does), kept
open, one ``Database`` per namespace and name. Calls to one database wait their turn on the
event loop (an ``asyncio.Lock``, so a waiting call holds no thread) and run in this service's
own threads, so a slow query never stalls the loop nor the threads other code shares. A call
whose run ended is interrupted, not left running to its deadline.

On a server whose nodes share a store (S3 or Redis), a node-local file would give each node
its own copy of a database: D1 is refused there (``d1_unavailable``), at deploy and at a call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from vortex.auth.tokens import NAMESPACE_PATTERN
from vortex.config import Settings
from vortex.d1.database import D1Limits, Database, Statement
from vortex.d1.declaration import check_database_name
from vortex.d1.errors import D1Unavailable

T = TypeVar("T")
THREADS = 8
"""Databases served at once; more wait for a thread (each call is bounded by the time limit)."""
FOLDER = "d1"
SUFFIX = ".sqlite3"
SHARED_STORE = (
    "D1 databases are kept on the node that serves them, and this server shares its store "
    "with other nodes (S3 or Redis): each node would hold its own copy (docs/d1.md)"
)


def limits_of(settings: Settings) -> D1Limits:
    return D1Limits(
        max_database_bytes=settings.d1_max_database_bytes,
        max_result_bytes=settings.d1_max_result_bytes,
        query_ms=settings.d1_query_ms,
    )


def d1_unavailable_reason(settings: Settings) -> str | None:
    if settings.store != "local" or settings.redis_url is not None:
        return SHARED_STORE
    return None


class D1:
    def __init__(
        self, root: Path, limits: D1Limits | None = None, unavailable: str | None = None
    ) -> None:
        self.root = root
        self.limits = limits or D1Limits()
        self.unavailable = unavailable
        self._databases: dict[tuple[str, str], Database] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._threads = concurrent.futures.ThreadPoolExecutor(THREADS, "vortex-d1")

    @classmethod
    def from_settings(cls, settings: Settings) -> D1:
        return cls(settings.data_dir / FOLDER, limits_of(settings), d1_unavailable_reason(settings))

    def path(self, namespace: str, name: str) -> Path:
        # Both are checked names, never a path given as it is: ../ cannot appear in either.
        if not NAMESPACE_PATTERN.match(namespace):
            raise ValueError(f"not a namespace: {namespace!r}")
        return self.root / namespace / (check_database_name(name) + SUFFIX)

    def databases(self, namespace: str) -> list[str]:
        """The names of the namespace's databases, made by a use (a folder's listing: small)."""
        if self.unavailable is not None:
            raise D1Unavailable(self.unavailable)
        folder = self.root / namespace
        if not NAMESPACE_PATTERN.match(namespace) or not folder.is_dir():
            return []
        return sorted(p.name.removesuffix(SUFFIX) for p in folder.glob("*" + SUFFIX))

    async def _call(self, namespace: str, name: str, work: Callable[[Database], T]) -> T:
        if self.unavailable is not None:
            raise D1Unavailable(self.unavailable)
        key = (namespace, name)
        path = self.path(namespace, name)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            database = self._databases.get(key)
            if database is None:
                database = await loop.run_in_executor(self._threads, Database, path, self.limits)
                self._databases[key] = database
            opened = database
            future = loop.run_in_executor(self._threads, work, opened)
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                # The run ended: stop its statement, and keep the lock until it has stopped.
                opened.interrupt()
                with contextlib.suppress(Exception):
                    await future
                raise

    async def run(
        self, namespace: str, name: str, statements: Sequence[Statement], batch: bool = False
    ) -> list[dict[str, Any]]:
        return await self._call(namespace, name, lambda db: db.run(statements, batch))

    async def exec(self, namespace: str, name: str, script: str) -> dict[str, Any]:
        return await self._call(namespace, name, lambda db: db.exec(script))

    async def close(self) -> None:
        for key, database in list(self._databases.items()):
            async with self._locks[key]:
                await asyncio.get_running_loop().run_in_executor(self._threads, database.close)
        self._databases.clear()
        self._threads.shutdown(wait=False)
