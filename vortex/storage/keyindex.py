"""Ordered sets of short keys, the one primitive the function index is written on.

Both stores offer the same three operations: add keys, remove keys, and list the keys under a
prefix in byte order after a given key. S3 does this natively (empty objects, and
``ListObjectsV2`` with ``Prefix`` and ``StartAfter``); the embedded store keeps them in one SQLite
table in the data directory (``index.sqlite3``). Everything an index entry says is in its key,
so a listing needs no read of the objects themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from vortex.errors import StorageUnavailable

T = TypeVar("T")

FILENAME = "index.sqlite3"
BUSY_TIMEOUT_MS = 5000
_AFTER_EVERY_KEY = "\U0010ffff"
"""Sorts after every key (keys are ASCII): a prefix ``p`` is the range ``[p, p + this)``."""


class KeyIndex(Protocol):
    volatile: bool
    """May lose its keys while servers run (Redis): checked for again every few seconds."""

    async def add(self, keys: Iterable[str]) -> None: ...

    async def remove(self, keys: Iterable[str]) -> None: ...

    async def keys(
        self, prefix: str, after: str | None = None, limit: int | None = None
    ) -> list[str]:
        """Keys starting with ``prefix``, in byte order, each after ``after``; at most
        ``limit`` (all when ``None``)."""
        ...

    async def close(self) -> None: ...


class SqliteKeyIndex:
    """One connection used from one thread, as ``vortex.kv.sqlite`` does, in WAL mode so that
    an operator's ``vortex index rebuild`` can run beside the server."""

    volatile = False

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILENAME
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vortex-index")
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            db.execute("PRAGMA journal_mode=WAL")
            # A lost index is rebuilt from the records: no need to fsync each entry.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS keys (k TEXT PRIMARY KEY) WITHOUT ROWID")
            self._db = db
        return self._db

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            try:
                return work(self._connection())
            except (sqlite3.Error, OSError) as exc:
                raise StorageUnavailable(f"the function index {self.path} failed: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def add(self, keys: Iterable[str]) -> None:
        rows = [(key,) for key in keys]

        def add(db: sqlite3.Connection) -> None:
            with db:
                db.executemany("INSERT OR IGNORE INTO keys (k) VALUES (?)", rows)

        if rows:
            await self._run(add)

    async def remove(self, keys: Iterable[str]) -> None:
        rows = [(key,) for key in keys]

        def remove(db: sqlite3.Connection) -> None:
            with db:
                db.executemany("DELETE FROM keys WHERE k = ?", rows)

        if rows:
            await self._run(remove)

    async def keys(
        self, prefix: str, after: str | None = None, limit: int | None = None
    ) -> list[str]:
        low = max(prefix, after + "\0") if after is not None else prefix

        def select(db: sqlite3.Connection) -> list[str]:
            rows = db.execute(
                "SELECT k FROM keys WHERE k >= ? AND k < ? ORDER BY k LIMIT ?",
                (low, prefix + _AFTER_EVERY_KEY, -1 if limit is None else limit),
            )
            return [row[0] for row in rows]

        return await self._run(select)

    async def close(self) -> None:
        def close() -> None:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=False)
