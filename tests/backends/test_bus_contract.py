"""The ``LogBus`` contract, for every bus: in-process and Redis. ``make_bus()`` twice gives two
nodes sharing the bus's backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson

from vortex.logbus.base import LogBus, Subscription
from vortex.logbus.memory import MemoryLogBus
from vortex.logbus.redis import RedisLogBus

MakeBus = Callable[[], LogBus]
FUNCTION = "6f1c2a8e-3b7d-4e2f-9a1b-0c4d5e6f7a8b"
OTHER = "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"


def line(n: int, run_id: str = "run") -> bytes:
    return orjson.dumps(
        {
            "level": "log",
            "message": f"line {n}",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "run_id": run_id,
        }
    )


async def take(subscription: Subscription, count: int, within: float = 5.0) -> list[bytes]:
    got: list[bytes] = []

    async def read() -> None:
        async for item in subscription:
            got.append(item)
            if len(got) == count:
                return

    await asyncio.wait_for(read(), within)
    return got


async def nothing_arrives(subscription: Subscription, wait: float = 0.3) -> bool:
    try:
        await take(subscription, 1, wait)
    except TimeoutError:
        return True
    return False


async def test_lines_reach_a_subscriber_in_order(make_bus: MakeBus) -> None:
    bus = make_bus()
    subscription = await bus.subscribe(FUNCTION)
    for n in range(20):
        bus.publish(FUNCTION, line(n))
    assert await take(subscription, 20) == [line(n) for n in range(20)]
    await subscription.close()


async def test_every_subscriber_of_the_function_and_only_they_get_its_lines(
    make_bus: MakeBus,
) -> None:
    bus = make_bus()
    first, second = await bus.subscribe(FUNCTION), await bus.subscribe(FUNCTION)
    other = await bus.subscribe(OTHER)
    bus.publish(FUNCTION, line(1))
    assert await take(first, 1) == [line(1)]
    assert await take(second, 1) == [line(1)]
    assert await nothing_arrives(other)
    for subscription in (first, second, other):
        await subscription.close()


async def test_lines_cross_nodes(make_bus: MakeBus) -> None:
    node_a, node_b = make_bus(), make_bus()
    on_a = await node_a.subscribe(FUNCTION)
    node_b.publish(FUNCTION, line(7, "from-b"))
    assert await take(on_a, 1) == [line(7, "from-b")]
    await on_a.close()


async def test_a_closed_subscription_gets_nothing_more(make_bus: MakeBus) -> None:
    bus = make_bus()
    kept, closed = await bus.subscribe(FUNCTION), await bus.subscribe(FUNCTION)
    await closed.close()
    assert closed.closed_reason == "closed"
    bus.publish(FUNCTION, line(1))
    assert await take(kept, 1) == [line(1)]
    await kept.close()


async def test_publish_never_blocks(make_bus: MakeBus) -> None:
    bus = make_bus()
    subscription = await bus.subscribe(FUNCTION)
    started = time.perf_counter()
    for n in range(500):
        bus.publish(FUNCTION, line(n))
    assert time.perf_counter() - started < 0.1
    assert len(await take(subscription, 500)) == 500
    await subscription.close()


async def test_a_slow_subscriber_is_dropped_not_buffered_forever(make_bus: MakeBus) -> None:
    bus = make_bus()
    slow = await bus.subscribe(FUNCTION)
    assert isinstance(bus, MemoryLogBus | RedisLogBus)
    max_queued = bus.max_queued
    for n in range(max_queued + 10):
        bus.publish(FUNCTION, line(n))
    # Nobody reads while the lines arrive (through Redis, they take a moment).
    async with asyncio.timeout(5):
        while slow.closed_reason is None:
            await asyncio.sleep(0.01)
    # Drain until the end marker: the subscriber got at most max_queued lines, then was ended.
    received = 0

    async def drain() -> None:
        nonlocal received
        async for _ in slow:
            received += 1

    await asyncio.wait_for(drain(), 5)
    assert slow.closed_reason == "slow_consumer"
    assert received <= max_queued


async def test_closing_the_bus_ends_its_subscriptions(make_bus: MakeBus) -> None:
    bus = make_bus()
    subscription = await bus.subscribe(FUNCTION)
    await bus.close()

    async def rest() -> list[bytes]:
        return [item async for item in subscription]

    assert await asyncio.wait_for(rest(), 5) == []
    assert subscription.closed_reason == "bus_closed"


async def test_health_is_ok_and_counts_subscribers(make_bus: MakeBus) -> None:
    bus = make_bus()
    subscription = await bus.subscribe(FUNCTION)
    health = await bus.health()
    assert health.ok, health
    assert health.backend in ("memory", "redis")
    assert health.details["subscribers"] == 1
    await subscription.close()
