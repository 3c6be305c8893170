"""The SQLite backend: several processes writing one database at once."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

from tests.server import REPO
from vortex.kv import KV
from vortex.kv.sqlite import SqliteKVStore

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
