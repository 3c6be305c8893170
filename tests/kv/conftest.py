from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.fixtures.redis import RedisServer, redis_factory, redis_server
from vortex.backends import make_kv
from vortex.config import Settings
from vortex.kv import KV

__all__ = ["RedisServer", "redis_factory", "redis_server"]


@pytest.fixture(params=["sqlite", "redis"])
async def make_node_kv(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], KV]]:
    """KVs of one backend that share their data: two of them are two nodes (or processes)."""
    env = {"VORTEX_DATA_DIR": str(tmp_path / "data")}
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        env["REDIS_ADDR"] = server.addr
    settings = Settings.from_env(env)
    made: list[KV] = []

    def make() -> KV:
        kv = make_kv(settings)
        made.append(kv)
        return kv

    yield make
    for kv in made:
        await kv.close()


@pytest.fixture
def kv(make_node_kv: Callable[[], KV]) -> KV:
    return make_node_kv()
