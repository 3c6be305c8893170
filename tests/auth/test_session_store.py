"""``Sessions`` over both stores (a node's memory, and Redis shared by every node): a session
names its key by digest and ends with it, and a store holds no session id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.auth.conftest import RedisServer
from vortex.auth import ApiKeys
from vortex.auth.local import FileKeyStore
from vortex.auth.redis import RedisKeyStore
from vortex.auth.redis_sessions import PREFIX, RedisSessionStore
from vortex.auth.sessions import SESSION_SECONDS, MemorySessionStore, Sessions, session_handle


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
async def sessions(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Sessions]:
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        keys = ApiKeys(RedisKeyStore(server.url), cache_seconds=0)
        made = Sessions(RedisSessionStore(server.url), keys, clock=clock)
    else:
        keys = ApiKeys(FileKeyStore(tmp_path / "data"), cache_seconds=0)
        made = Sessions(MemorySessionStore(), keys, clock=clock)
    yield made
    await made.close()
    await keys.close()


async def test_a_session_is_found_by_its_id_until_it_ends(sessions: Sessions) -> None:
    key, _ = await sessions.keys.create("acme")
    first_id, first = await sessions.open(key)
    second_id, second = await sessions.open(key)
    assert first_id != second_id and first.csrf_token != second.csrf_token
    found = await sessions.find(first_id)
    assert found is not None and found[0] == first and found[1].id == key.id
    await sessions.end(first_id)
    assert await sessions.find(first_id) is None
    assert await sessions.find(second_id) is not None
    for made_up in ("", "x", "A" * 43, first_id + "A", "../" * 20):
        assert await sessions.find(made_up) is None


async def test_a_revoked_key_ends_its_sessions(sessions: Sessions) -> None:
    key, _ = await sessions.keys.create("acme")
    kept, _ = await sessions.keys.create("acme")
    session_id, _ = await sessions.open(key)
    kept_id, _ = await sessions.open(kept)
    await sessions.keys.revoke(key.id)
    assert await sessions.find(session_id) is None
    assert await sessions.store.get(session_handle(session_id)) is None  # dropped, not kept
    assert await sessions.find(kept_id) is not None


async def test_a_session_ends_after_its_lifetime(sessions: Sessions, clock: Clock) -> None:
    key, _ = await sessions.keys.create("acme")
    session_id, session = await sessions.open(key)
    assert session.expires_at == clock.now + SESSION_SECONDS
    clock.now += SESSION_SECONDS - 1
    assert await sessions.find(session_id) is not None
    clock.now += 2
    assert await sessions.find(session_id) is None


async def test_redis_holds_no_session_id_and_expires_sessions(redis_server: RedisServer) -> None:
    keys = ApiKeys(RedisKeyStore(redis_server.url), cache_seconds=0)
    sessions = Sessions(RedisSessionStore(redis_server.url), keys)
    redis = Redis.from_url(redis_server.url)
    try:
        key, _ = await keys.create("acme")
        session_id, session = await sessions.open(key)
        stored = [name.decode() async for name in redis.scan_iter(f"{PREFIX}*")]
        assert stored == [PREFIX + session_handle(session_id)]
        raw = await redis.get(stored[0])
        assert session_id.encode() not in raw and session.csrf_token.encode() in raw
        assert SESSION_SECONDS - 60 < await redis.ttl(stored[0]) <= SESSION_SECONDS
        # Another node (another client of the same Redis) finds it.
        other = Sessions(RedisSessionStore(redis_server.url), keys)
        assert await other.find(session_id) is not None
        await other.close()
    finally:
        await redis.aclose()
        await sessions.close()
        await keys.close()
