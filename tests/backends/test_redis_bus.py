"""What only the Redis bus promises: one pub/sub connection per node, channels that follow the
local subscribers, a bounded non-blocking publish while Redis is gone, notices and reconnection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import orjson
import pytest

from tests.backends.conftest import RedisServer, free_port_no_listener
from tests.backends.test_bus_contract import FUNCTION, line, take
from vortex.logbus.redis import (
    LOGBUS_RESTORED,
    LOGBUS_UNAVAILABLE,
    PUBLISH_BATCH,
    RedisLogBus,
    channel_for,
)

FUNCTIONS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(3)]


@pytest.fixture
async def buses() -> AsyncIterator[Callable[..., RedisLogBus]]:
    made: list[RedisLogBus] = []

    def make(url: str, **kwargs: int) -> RedisLogBus:
        bus = RedisLogBus(url, **kwargs)
        bus.start()
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


def pubsub_clients(server: RedisServer) -> list[dict[str, object]]:
    with server.client() as client:
        return [c for c in client.client_list() if c.get("name") == "vortex-logbus-sub"]


def numsub(server: RedisServer, function_id: str) -> int:
    with server.client() as client:
        return int(
            dict(client.pubsub_numsub(channel_for(function_id)))[channel_for(function_id).encode()]
        )


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def healthy(bus: RedisLogBus, within: float = 15.0) -> bool:
    """Wait until the bus reports itself ok, or say it never did."""
    deadline = time.monotonic() + within
    while not (await bus.health()).ok:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_one_pubsub_connection_for_all_subscribers(
    redis_server: RedisServer, buses: Callable[..., RedisLogBus]
) -> None:
    bus = buses(redis_server.url)
    subscriptions = [await bus.subscribe(f) for f in FUNCTIONS for _ in range(10)]
    clients = pubsub_clients(redis_server)
    assert len(clients) == 1, clients
    assert int(str(clients[0]["sub"])) == len(FUNCTIONS)
    assert all(numsub(redis_server, f) == 1 for f in FUNCTIONS)
    for subscription in subscriptions:
        await subscription.close()
    # The last local subscriber of a function gone, the node unsubscribes its channel.
    await eventually(lambda: all(numsub(redis_server, f) == 0 for f in FUNCTIONS))
    assert len(pubsub_clients(redis_server)) == 1


async def test_a_channel_is_kept_while_any_local_subscriber_remains(
    redis_server: RedisServer, buses: Callable[..., RedisLogBus]
) -> None:
    bus = buses(redis_server.url)
    first, second = await bus.subscribe(FUNCTION), await bus.subscribe(FUNCTION)
    await first.close()
    await asyncio.sleep(0.1)
    assert numsub(redis_server, FUNCTION) == 1
    bus.publish(FUNCTION, line(1))
    assert await take(second, 1) == [line(1)]
    await second.close()
    await eventually(lambda: numsub(redis_server, FUNCTION) == 0)


async def test_publish_while_redis_is_unreachable_is_bounded_and_never_blocks(
    buses: Callable[..., RedisLogBus],
) -> None:
    bus = buses(f"redis://127.0.0.1:{free_port_no_listener()}/0", max_pending_lines=100)
    started = time.perf_counter()
    for n in range(20_000):
        bus.publish(FUNCTION, line(n))
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, elapsed
    await asyncio.sleep(0.3)  # the publisher tries, fails and backs off meanwhile
    health = await bus.health()
    assert not health.ok
    assert health.details["pending"] <= 100
    # What is neither queued nor held in the publisher's one batch was dropped and counted.
    assert bus.dropped >= 20_000 - 100 - PUBLISH_BATCH


async def test_subscribers_are_told_when_redis_goes_and_comes_back(
    redis_server: RedisServer, buses: Callable[..., RedisLogBus]
) -> None:
    listener = buses(redis_server.url)
    publisher = buses(redis_server.url)
    subscription = await listener.subscribe(FUNCTION)
    publisher.publish(FUNCTION, line(0))
    assert await take(subscription, 1) == [line(0)]

    redis_server.stop()
    [down] = await take(subscription, 1)
    notice = orjson.loads(down)
    assert notice["type"] == "notice"
    assert notice["code"] == LOGBUS_UNAVAILABLE
    assert notice["level"] == "warn" and notice["message"] and notice["timestamp"]
    health = await listener.health()
    assert not health.ok and health.details["state"] == "down"
    # Runs go on: publishing still returns at once.
    publisher.publish(FUNCTION, line(1, "during-outage"))

    redis_server.start()
    [up] = await take(subscription, 1, within=15)
    assert orjson.loads(up)["code"] == LOGBUS_RESTORED
    assert subscription.closed_reason is None
    await eventually(lambda: numsub(redis_server, FUNCTION) == 1)
    publisher.publish(FUNCTION, line(2, "after"))

    async def line_after() -> None:
        async for item in subscription:
            if orjson.loads(item).get("run_id") == "after":
                return

    await asyncio.wait_for(line_after(), 15)
    assert (await listener.health()).ok
    assert await healthy(publisher)


async def test_a_subscriber_arriving_during_an_outage_is_told_at_once(
    redis_server: RedisServer, buses: Callable[..., RedisLogBus]
) -> None:
    bus = buses(redis_server.url)
    await bus.subscribe(FUNCTION)
    redis_server.stop()
    while (await bus.health()).details["state"] != "down":
        await asyncio.sleep(0.02)
    late = await bus.subscribe(FUNCTION)
    [message] = await take(late, 1, within=1)
    assert orjson.loads(message)["code"] == LOGBUS_UNAVAILABLE
