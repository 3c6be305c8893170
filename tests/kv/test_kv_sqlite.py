"""The SQLite backend: several processes writing one database at once."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import textwrap
import time
from pathlib import Path

from tests.server import REPO
from vortex.kv import KV, KVEntry
from vortex.kv.sqlite import FILENAME, SqliteKVStore

FN = "11111111-1111-4111-8111-111111111111"

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from vortex.kv import KV
    from vortex.kv.sqlite import SqliteKVStore

    async def main():
        kv = KV(SqliteKVStore(Path(sys.argv[1])))
        for i in range(150):
            await kv.put(sys.argv[3], f"{sys.argv[2]}-{i:03d}", str(i))
            await kv.put(sys.argv[3], "shared", sys.argv[2])
        await kv.close()

    asyncio.run(main())
    """
)


async def test_processes_share_one_database(tmp_path: Path) -> None:
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, str(tmp_path), name, FN, cwd=REPO
        )
        for name in ("p1", "p2", "p3")
    ]
    for writer in writers:
        async with asyncio.timeout(60):
            assert await writer.wait() == 0
    kv = KV(SqliteKVStore(tmp_path))
    try:
        page = await kv.list(FN)
        assert len(page.keys) == 3 * 150 + 1
        assert await kv.get(FN, "shared") in ("p1", "p2", "p3")
        assert await kv.get(FN, "p2-149") == "149"
    finally:
        await kv.close()


async def test_unwritable_directory_is_kv_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    kv = KV(SqliteKVStore(blocker / "data"))
    try:
        health = await kv.health()
        assert not health.ok
        try:
            await kv.put(FN, "k", "v")
        except Exception as exc:
            assert getattr(exc, "code", None) == "kv_unavailable"
        else:
            raise AssertionError("put succeeded on an unwritable directory")
    finally:
        await kv.close()


OLD_SCHEMA = """
CREATE TABLE kv (
    ns TEXT NOT NULL,
    key BLOB NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
"""


async def test_a_database_of_the_text_only_version_is_migrated_and_reads_back(
    tmp_path: Path,
) -> None:
    # A file as the version before bytes and metadata left it: no metadata column, TEXT values.
    old = sqlite3.connect(tmp_path / FILENAME)
    old.executescript(OLD_SCHEMA)
    old.executemany(
        "INSERT INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)",
        [(FN, b"greeting", "héllo 🚀", None), (FN, b"session", "s", time.time() + 100)],
    )
    old.commit()
    old.close()
    kv = KV(SqliteKVStore(tmp_path))
    try:
        assert await kv.get(FN, "greeting") == "héllo 🚀"
        assert await kv.get_entry(FN, "greeting") == KVEntry("héllo 🚀".encode(), None)
        keys = (await kv.list(FN)).to_json()["keys"]
        assert keys[0] == {"name": "greeting"} and "metadata" not in keys[1]
        await kv.put(FN, "bin", bytes(range(256)), metadata={"new": True})
        assert await kv.get_entry(FN, "bin") == KVEntry(bytes(range(256)), '{"new":true}')
    finally:
        await kv.close()
    # Opened again (the column exists now), nothing is added twice and nothing is lost.
    again = KV(SqliteKVStore(tmp_path))
    try:
        assert await again.get(FN, "greeting") == "héllo 🚀"
        entry = await again.get_entry(FN, "bin")
        assert entry is not None and entry.metadata_value() == {"new": True}
    finally:
        await again.close()
    # Text values stay TEXT, so a process of the older version sharing the file reads them.
    check = sqlite3.connect(tmp_path / FILENAME)
    kinds = dict(check.execute("SELECT key, typeof(value) FROM kv").fetchall())
    check.close()
    assert kinds == {b"greeting": "text", b"session": "text", b"bin": "blob"}


async def test_processes_opening_an_old_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / FILENAME)
    old.executescript(OLD_SCHEMA)
    old.close()
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, str(tmp_path), name, FN, cwd=REPO
        )
        for name in ("p1", "p2", "p3")
    ]
    for writer in writers:
        async with asyncio.timeout(60):
            assert await writer.wait() == 0
    kv = KV(SqliteKVStore(tmp_path))
    try:
        assert len((await kv.list(FN)).keys) == 3 * 150 + 1
    finally:
        await kv.close()
