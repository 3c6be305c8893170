"""The embedded KV backend: one SQLite database in the data directory (``kv.sqlite3``).

SQLite (in the standard library) gives what a KV store on one machine needs without a server:
every write is one atomic statement, and in WAL mode several processes on the machine (several
``vortex serve`` sharing a data directory, or ``vortex`` admin commands) read and write the same
file safely, readers never blocking the writer. ``synchronous=FULL`` makes a put that returned
survive a power cut, as the function store's fsyncs do.

Keys are stored as BLOBs of their UTF-8 bytes: SQLite compares BLOBs with ``memcmp``, so keys
sort by bytes, as in Redis, and a prefix ``p`` is the range ``[p, p || 0xFF)`` (no UTF-8 text
contains the byte 0xFF). Expired rows are invisible at once and swept now and then by puts.

A value is stored as TEXT when its bytes are UTF-8, as a BLOB otherwise (SQLite keeps each as
given whatever the column's declared type): rows written before values could be bytes are TEXT
and read back unchanged, and a process of an older version sharing the file still reads every
text value. ``metadata`` (JSON text, NULL for none) was added later: ``_migrate`` adds the
column to a database made before, once, whichever process comes first.

One connection, used from one thread: SQLite connections are not to be shared across threads,
and a single writer per process is all SQLite allows anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from vortex.health import BackendHealth
from vortex.kv.base import KVEntry, KVKey, KVPage
from vortex.kv.errors import KVUnavailable

T = TypeVar("T")

FILENAME = "kv.sqlite3"
BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another process's write before the put fails (kv_unavailable)."""
SWEEP_EVERY = 256
"""Puts between two sweeps of expired rows; one sweep removes at most ``SWEEP_BATCH`` rows."""
SWEEP_BATCH = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    ns TEXT NOT NULL,
    key BLOB NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL,
    metadata TEXT,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
"""


class SqliteKVStore:
    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = data_dir / FILENAME
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vortex-kv")
        self._db: sqlite3.Connection | None = None
        self._puts = 0

    # -- the one thread -------------------------------------------------------------------------
    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, fn)

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return fn(self._connection())
        except sqlite3.Error as exc:
            raise KVUnavailable(f"the KV database could not be used: {exc}") from exc
        except OSError as exc:
            raise KVUnavailable(f"the KV database could not be opened: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        # Opened on first use, so a node starts (and reports the problem in /metrics) even when
        # the data directory is not writable yet.
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.executescript(SCHEMA)
                _migrate(db)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    # -- operations -----------------------------------------------------------------------------
    async def get(self, namespace: str, key: str) -> KVEntry | None:
        def get(db: sqlite3.Connection) -> KVEntry | None:
            row = db.execute(
                "SELECT value, metadata FROM kv WHERE ns = ? AND key = ?"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (namespace, key.encode(), self._clock()),
            ).fetchone()
            return None if row is None else KVEntry(_bytes(row[0]), row[1])

        return await self._call(get)

    async def put(
        self, namespace: str, key: str, value: bytes, metadata: str | None, ttl_ms: int | None
    ) -> None:
        def put(db: sqlite3.Connection) -> None:
            now = self._clock()
            expires_at = None if ttl_ms is None else now + ttl_ms / 1000
            db.execute(
                "INSERT INTO kv (ns, key, value, expires_at, metadata) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value,"
                " expires_at = excluded.expires_at, metadata = excluded.metadata",
                (namespace, key.encode(), _stored(value), expires_at, metadata),
            )
            self._puts += 1
            if self._puts % SWEEP_EVERY == 0:
                self._sweep(db, now)

        await self._call(put)

    def _sweep(self, db: sqlite3.Connection, now: float) -> None:
        db.execute(
            "DELETE FROM kv WHERE (ns, key) IN"
            " (SELECT ns, key FROM kv WHERE expires_at <= ? LIMIT ?)",
            (now, SWEEP_BATCH),
        )

    async def delete(self, namespace: str, key: str) -> None:
        def delete(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM kv WHERE ns = ? AND key = ?", (namespace, key.encode()))

        await self._call(delete)

    async def list(self, namespace: str, prefix: str, after: str | None, limit: int) -> KVPage:
        def list_keys(db: sqlite3.Connection) -> KVPage:
            low = prefix.encode()
            sql = "SELECT key, expires_at, metadata FROM kv WHERE ns = ? AND key >= ?"
            args: list[object] = [namespace, low]
            if prefix:
                sql += " AND key < ?"
                args.append(low + b"\xff")
            if after is not None:
                sql += " AND key > ?"
                args.append(after.encode())
            sql += " AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?"
            args += [self._clock(), limit + 1]
            rows = db.execute(sql, args).fetchall()
            keys = [
                KVKey(bytes(name).decode(), None if exp is None else int(exp), metadata)
                for name, exp, metadata in rows[:limit]
            ]
            return KVPage(keys, more=len(rows) > limit)

        return await self._call(list_keys)

    async def delete_namespace(self, namespace: str) -> int:
        def delete_all(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM kv WHERE ns = ?", (namespace,)).rowcount

        return await self._call(delete_all)

    async def health(self) -> BackendHealth:
        details = {"path": str(self.path)}
        try:
            await self._call(lambda db: db.execute("SELECT 1").fetchone())
        except KVUnavailable as exc:
            return BackendHealth("sqlite", False, exc.message, details)
        return BackendHealth("sqlite", True, None, details)

    async def close(self) -> None:
        def close() -> None:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

        with contextlib.suppress(RuntimeError):  # already shut down
            await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a database made by an earlier version up to ``SCHEMA``. In one write transaction,
    so that two processes opening an old file at once do not both add the column."""
    db.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(kv)")}
        if "metadata" not in columns:
            db.execute("ALTER TABLE kv ADD COLUMN metadata TEXT")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _stored(value: bytes) -> str | bytes:
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value


def _bytes(stored: str | bytes) -> bytes:
    return stored.encode() if isinstance(stored, str) else bytes(stored)
