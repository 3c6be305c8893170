"""Rollups, in memory and in Redis: the counts behind a function's charts (``vortex.rollups``)."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable

import pytest

from tests.backends.conftest import RedisServer
from vortex.errors import HistoryUnavailable
from vortex.rollups import WINDOWS, RollupRecorder, RollupStore
from vortex.rollups.base import MINUTE, TEN_MINUTES
from vortex.rollups.memory import MemoryRollupStore
from vortex.rollups.redis import RedisRollupStore, bucket_key
from vortex.rollups.series import series
from vortex.rollups.sketch import index_of, middle_of, quantiles

# Near the real time: Redis expires buckets by its own clock.
START_OF_MINUTE = math.floor(time.time() / 60) * 60
NOW = START_OF_MINUTE + 20.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, redis_factory: Callable[[], RedisServer]
) -> AsyncIterator[RollupStore]:
    made: RollupStore
    made = (
        RedisRollupStore(redis_factory().url) if request.param == "redis" else MemoryRollupStore()
    )
    yield made
    await made.close()


def test_quantiles_come_back_within_nine_percent_or_so() -> None:
    for ms in (0.02, 0.4, 1.0, 3.3, 17.0, 250.0, 999.0, 29_000.0):
        assert abs(middle_of(index_of(ms)) - ms) / ms <= 0.0906, ms
    counts: dict[int, int] = {}
    for ms in [1.0] * 98 + [100.0, 100.0]:
        counts[index_of(ms)] = counts.get(index_of(ms), 0) + 1
    p50, p99 = quantiles(counts, (0.5, 0.99))
    assert p50 is not None and abs(p50 - 1.0) < 0.0906
    assert p99 is not None and abs(p99 - 100.0) < 9.06
    assert quantiles({}, (0.5,)) == [None]
    assert index_of(0.0) == 0 and index_of(float("nan")) == 0 and index_of(1e12) == 127


async def test_runs_add_up_per_minute_and_per_ten_minutes(store: RollupStore) -> None:
    clock = Clock()
    recorder = RollupRecorder(store, clock)
    for second in range(0, 180, 10):  # 18 runs over three minutes, one error a minute
        recorder.observe("f", START_OF_MINUTE + second, second % 60 != 0, 2.0, 0.5)
    recorder.observe("other", START_OF_MINUTE, True, 5.0, None)
    clock.now = START_OF_MINUTE + 179
    hour = await series(recorder, "f", WINDOWS["hour"])
    assert hour["step_seconds"] == 60 and len(hour["points"]) == 60
    assert [p["requests"] for p in hour["points"][-3:]] == [6, 6, 6]
    assert [p["errors"] for p in hour["points"][-3:]] == [1, 1, 1]
    assert hour["points"][0]["requests"] == 0 and hour["points"][0]["wall_p50_ms"] is None
    assert hour["total"]["requests"] == 18 and hour["total"]["errors"] == 3
    assert abs(hour["total"]["wall_p99_ms"] - 2.0) < 0.2
    assert abs(hour["total"]["cpu_p50_ms"] - 0.5) < 0.05
    assert hour["points"][-1]["at"].endswith(":00.000Z")
    day = await series(recorder, "f", WINDOWS["day"])
    assert day["step_seconds"] == 600 and len(day["points"]) == 144
    assert sum(p["requests"] for p in day["points"]) == 18
    other = await series(recorder, "other", WINDOWS["hour"])
    assert other["total"]["requests"] == 1 and other["total"]["cpu_p50_ms"] is None


async def test_an_hour_later_the_minutes_are_gone_but_the_day_keeps_them(
    store: RollupStore,
) -> None:
    clock = Clock()
    recorder = RollupRecorder(store, clock)
    recorder.observe("f", clock.now, True, 1.0, 1.0)
    await recorder.flush()
    clock.now += 2 * 3600
    recorder.observe("f", clock.now, True, 1.0, 1.0)  # prunes the memory store's old minutes
    hour = await series(recorder, "f", WINDOWS["hour"])
    assert hour["total"]["requests"] == 1
    day = await series(recorder, "f", WINDOWS["day"])
    assert day["total"]["requests"] == 2


async def test_forget(store: RollupStore) -> None:
    clock = Clock()
    recorder = RollupRecorder(store, clock)
    recorder.observe("f", clock.now, True, 1.0, 1.0)
    recorder.observe("g", clock.now, True, 1.0, 1.0)
    await recorder.flush()
    recorder.observe("f", clock.now, False, 1.0, 1.0)  # still waiting to be written
    await recorder.forget("f")
    assert (await series(recorder, "f", WINDOWS["day"]))["total"]["requests"] == 0
    assert (await series(recorder, "g", WINDOWS["day"]))["total"]["requests"] == 1


async def test_the_memory_store_is_bounded() -> None:
    store = MemoryRollupStore(max_functions=2)
    for minute in range(200):  # a long day of one function: only what the tiers keep stays
        await store.add(
            {("f", MINUTE, minute): {"n": 1}, ("f", TEN_MINUTES, minute // 10): {"n": 1}}
        )
    await store.add({("g", MINUTE, 0): {"n": 1}})
    await store.add({("h", MINUTE, 0): {"n": 1}})
    assert await store.read("f", MINUTE, [199]) == [{}]  # f, least recently run, is gone
    assert await store.read("h", MINUTE, [0]) == [{"n": 1}]
    store = MemoryRollupStore()
    for minute in range(200):
        await store.add({("f", MINUTE, minute): {"n": 1}})
    kept = await store.read("f", MINUTE, list(range(200)))
    assert sum(1 for bucket in kept if bucket) == 66


async def test_redis_buckets_expire_with_their_tier(redis_server: RedisServer) -> None:
    store = RedisRollupStore(redis_server.url)
    try:
        minute = math.floor(NOW / 60)
        await store.add({("f", MINUTE, minute): {"n": 1}})
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(redis_server.url)
        expires_at = await client.expiretime(bucket_key("f", MINUTE, minute))
        await client.aclose()
        assert expires_at == (minute + 1) * 60 + 65 * 60
    finally:
        await store.close()


async def test_a_redis_that_is_down(redis_factory: Callable[[], RedisServer]) -> None:
    server = redis_factory()
    store = RedisRollupStore(server.url)
    server.stop()
    try:
        await store.add({("f", MINUTE, 1): {"n": 1}})  # logged, not raised
        with pytest.raises(HistoryUnavailable):
            await store.read("f", MINUTE, [1])
        assert not (await store.health()).ok
    finally:
        await store.close()
