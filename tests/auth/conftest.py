from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fixtures.redis import RedisServer, redis_factory, redis_server
from vortex.auth import ApiKeys
from vortex.auth.local import FileKeyStore
from vortex.auth.redis import RedisKeyStore

__all__ = ["RedisServer", "redis_factory", "redis_server"]


@pytest.fixture(params=["file", "redis"])
async def api_keys(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ApiKeys]:
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        keys = ApiKeys(RedisKeyStore(server.url), cache_seconds=0)
    else:
        keys = ApiKeys(FileKeyStore(tmp_path / "data"), cache_seconds=0)
    yield keys
    await keys.close()
