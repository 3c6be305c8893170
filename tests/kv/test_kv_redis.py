"""The Redis backend: expired names in the index, an outage, and a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from tests.fixtures.redis import RedisServer
from vortex.kv import KV, KVEntry
from vortex.kv.errors import KVUnavailable
from vortex.kv.redis import LIST_ROUNDS, RedisKVStore

FN = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
async def redis_kv(redis_server: RedisServer) -> AsyncIterator[KV]:
    kv = KV(RedisKVStore(redis_server.url))
    yield kv
    await kv.close()


async def test_list_skips_a_long_run_of_expired_names_and_resumes(redis_kv: KV) -> None:
    # More expired names than one list call examines (LIST_ROUNDS rounds of limit + 1 names).
    expired = 2 * (LIST_ROUNDS * 2) + 3
    for i in range(expired):
        await redis_kv.put(FN, f"a{i:04d}", "gone", expiration_ttl=1)
    await redis_kv.put(FN, "b-live", "here")
    await asyncio.sleep(1.2)
    seen: list[str] = []
    cursor = None
    calls = 0
    while True:
        page = await redis_kv.list(FN, limit=1, cursor=cursor)
        calls += 1
        seen += [k.name for k in page.keys]
        if page.list_complete:
            break
        cursor = page.cursor
    assert seen == ["b-live"]
    assert calls >= 2  # the first call stopped early with a cursor, and the listing went on


async def test_puts_prune_the_index_of_expired_names(
    redis_kv: KV, redis_server: RedisServer
) -> None:
    for i in range(10):
        await redis_kv.put(FN, f"t{i}", "v", expiration_ttl=1)
    await asyncio.sleep(1.2)
    await redis_kv.put(FN, "fresh", "v")
    client = redis_server.client()
    assert client.zrange(f"vortex:kv:{{{FN}}}:keys", 0, -1) == [b"fresh"]
    assert client.zcard(f"vortex:kv:{{{FN}}}:exp") == 0


async def test_ttl_is_a_redis_expiry(redis_kv: KV, redis_server: RedisServer) -> None:
    await redis_kv.put(FN, "k", "v", expiration_ttl=100)
    ttl = redis_server.client().pttl(f"vortex:kv:{{{FN}}}:v:k")
    assert 98_000 < ttl <= 100_000


async def test_outage_is_kv_unavailable_and_recovers(
    redis_kv: KV, redis_server: RedisServer
) -> None:
    await redis_kv.put(FN, "k", "before")
    redis_server.stop()
    started = time.monotonic()
    for call in (
        redis_kv.get(FN, "k"),
        redis_kv.put(FN, "k", "v"),
        redis_kv.delete(FN, "k"),
        redis_kv.list(FN),
    ):
        with pytest.raises(KVUnavailable) as caught:
            await call
        assert caught.value.status == 503 and caught.value.code == "kv_unavailable"
    assert time.monotonic() - started < 10
    health = await redis_kv.store.health()
    assert not health.ok and health.error
    redis_server.start()  # same port, empty (no persistence)
    await redis_kv.put(FN, "k", "after")
    assert await redis_kv.get(FN, "k") == "after"


async def test_values_of_the_text_only_version_read_back(
    redis_kv: KV, redis_server: RedisServer
) -> None:
    # As the version before bytes and metadata wrote them: a value key and the index, no
    # metadata key.
    client = redis_server.client()
    client.set(f"vortex:kv:{{{FN}}}:v:old", "héllo 🚀".encode())
    client.zadd(f"vortex:kv:{{{FN}}}:keys", {"old": 0})
    assert await redis_kv.get(FN, "old") == "héllo 🚀"
    assert await redis_kv.get_entry(FN, "old") == KVEntry("héllo 🚀".encode(), None)
    assert (await redis_kv.list(FN)).to_json()["keys"] == [{"name": "old"}]


async def test_metadata_is_a_key_beside_the_value_with_its_expiry(
    redis_kv: KV, redis_server: RedisServer
) -> None:
    client = redis_server.client()
    await redis_kv.put(FN, "k", bytes(range(256)), metadata={"m": 1}, expiration_ttl=100)
    assert client.get(f"vortex:kv:{{{FN}}}:v:k") == bytes(range(256))
    assert client.get(f"vortex:kv:{{{FN}}}:m:k") == b'{"m":1}'
    assert 98_000 < client.pttl(f"vortex:kv:{{{FN}}}:m:k") <= 100_000
    await redis_kv.put(FN, "k", "plain")
    assert client.exists(f"vortex:kv:{{{FN}}}:m:k") == 0
    await redis_kv.put(FN, "k", "again", metadata=[1])
    await redis_kv.delete_function(FN)
    assert client.keys(f"vortex:kv:{{{FN}}}:*") == []
