"""Two schedulers (two nodes) against one real Redis: each tick runs once, not twice."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.cron.conftest import FakeClock
from tests.fixtures.redis import RedisServer
from vortex.backends import make_tick_lock
from vortex.config import Settings
from vortex.cron import MemorySchedules, Scheduler, TickLock
from vortex.cron.lock import RedisTickLock

NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FUNCTIONS = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(3)]


def t(minutes: float = 0, seconds: float = 0) -> datetime:
    return NOON + timedelta(minutes=minutes, seconds=seconds)


@pytest.fixture
async def locks(redis_server: RedisServer) -> AsyncIterator[Callable[[], TickLock]]:
    made: list[TickLock] = []

    def make() -> TickLock:
        lock = make_tick_lock(Settings.from_env({"REDIS_ADDR": redis_server.addr}))
        assert isinstance(lock, RedisTickLock)
        made.append(lock)
        return lock

    yield make
    for lock in made:
        await lock.close()


async def test_two_nodes_run_each_tick_once(locks: Callable[[], TickLock]) -> None:
    runs: list[tuple[str, str, datetime]] = []

    def recorder(node: str) -> Callable[[str, datetime, str], object]:
        async def run(function_id: str, tick: datetime, cron: str) -> None:
            runs.append((node, function_id, tick))

        return run

    source = MemorySchedules(dict.fromkeys(FUNCTIONS, "* * * * *"))
    nodes = [
        Scheduler(source, locks(), recorder(name))  # type: ignore[arg-type]
        for name in ("a", "b")
    ]
    for minute in range(5):
        now = t(minute, 1)
        await asyncio.gather(*(node.check(now) for node in nodes))
        await asyncio.gather(*(node.check(now + timedelta(seconds=5)) for node in nodes))
    await asyncio.sleep(0.01)
    per_tick = Counter((fid, tick) for _, fid, tick in runs)
    assert set(per_tick) == {(fid, t(m)) for fid in FUNCTIONS for m in range(5)}
    assert set(per_tick.values()) == {1}
    claimed = sum(node.stats.fired for node in nodes)
    elsewhere = sum(node.stats.claimed_elsewhere for node in nodes)
    assert (claimed, elsewhere) == (15, 15)


async def test_two_looping_nodes_on_one_clock(locks: Callable[[], TickLock]) -> None:
    clock = FakeClock(t(0, 30))
    runs: list[tuple[str, datetime]] = []

    async def run(function_id: str, tick: datetime, cron: str) -> None:
        runs.append((function_id, tick))

    source = MemorySchedules({FUNCTIONS[0]: "* * * * *"})
    nodes = [Scheduler(source, locks(), run, clock=clock) for _ in range(2)]
    for node in nodes:
        node.start()
    try:
        await clock.advance(5 * 60, sleepers=2)
    finally:
        for node in nodes:
            await node.stop()
    assert sorted(tick for _, tick in runs) == [t(m) for m in range(6)]


async def test_redis_outage_skips_logs_and_recovers(
    locks: Callable[[], TickLock], redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[datetime] = []

    async def run(function_id: str, tick: datetime, cron: str) -> None:
        runs.append(tick)

    scheduler = Scheduler(MemorySchedules({FUNCTIONS[0]: "* * * * *"}), locks(), run)
    assert await scheduler.check(t(0, 1)) == [(FUNCTIONS[0], t(0))]
    redis_server.stop()
    with caplog.at_level(logging.WARNING, "vortex.cron"):
        assert await scheduler.check(t(1, 1)) == []
        assert await scheduler.check(t(2, 30)) == []  # 12:01 out of grace, 12:02 waits
        assert not (await scheduler.lock.health()).ok
        redis_server.start()
        assert await scheduler.check(t(2, 40)) == [(FUNCTIONS[0], t(2))]
        assert await scheduler.check(t(3, 1)) == [(FUNCTIONS[0], t(3))]
    assert "unreachable" in caplog.text and "reachable again" in caplog.text
    await asyncio.sleep(0.01)
    assert runs == [t(0), t(2), t(3)]


async def test_lock_keys_expire(locks: Callable[[], TickLock], redis_server: RedisServer) -> None:
    lock = locks()
    assert await lock.claim(FUNCTIONS[0], t(0))
    assert not await lock.claim(FUNCTIONS[0], t(0))
    assert await lock.claim(FUNCTIONS[0], t(1))
    key = RedisTickLock.key(FUNCTIONS[0], t(0))
    ttl = redis_server.client().pttl(key)
    assert 3_500_000 < ttl <= 3_600_000


async def test_two_nodes_run_each_expression_of_several_once(
    locks: Callable[[], TickLock],
) -> None:
    runs: list[tuple[str, datetime, str]] = []

    async def run(function_id: str, tick: datetime, cron: str) -> None:
        runs.append((function_id, tick, cron))

    # Both expressions fire every minute: each is its own tick, claimed once across nodes.
    source = MemorySchedules({FUNCTIONS[0]: ("* * * * *", "*/1 * * * *")})
    nodes = [Scheduler(source, locks(), run) for _ in range(2)]
    for minute in range(3):
        await asyncio.gather(*(node.check(t(minute, 1)) for node in nodes))
    await asyncio.sleep(0.01)
    assert sorted(runs) == sorted(
        (FUNCTIONS[0], t(m), cron) for m in range(3) for cron in ("* * * * *", "*/1 * * * *")
    )
