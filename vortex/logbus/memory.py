"""The embedded log bus: subscribers of this process only, each with a bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from vortex.health import BackendHealth

SLOW_CONSUMER = "slow_consumer"
BUS_CLOSED = "bus_closed"


class SubscriberRegistry(Protocol):
    """What a subscription tells when it ends: the bus that fans lines out to it."""

    def forget(self, subscription: QueueSubscription) -> None: ...


class QueueSubscription:
    """One local subscriber with a bounded queue; every bus backend fans out to these."""

    def __init__(self, bus: SubscriberRegistry, function_id: str, max_queued: int) -> None:
        self._bus = bus
        self.function_id = function_id
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(max_queued + 1)
        self.max_queued = max_queued
        self.closed_reason: str | None = None

    def offer(self, line: bytes) -> None:
        if self.closed_reason is not None:
            return
        if self.queue.qsize() >= self.max_queued:
            self.end(SLOW_CONSUMER)
            return
        self.queue.put_nowait(line)

    def end(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
            self._bus.forget(self)
            # The queue keeps one slot free for this marker.
            self.queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            line = await self.queue.get()
            if line is None:
                return
            yield line

    async def close(self) -> None:
        if self.closed_reason is None:
            self.closed_reason = "closed"
            self._bus.forget(self)


class MemoryLogBus:
    def __init__(self, max_queued: int = 1000) -> None:
        self.max_queued = max_queued
        self._subscribers: dict[str, set[QueueSubscription]] = {}

    def publish(self, function_id: str, line: bytes) -> None:
        for subscription in tuple(self._subscribers.get(function_id, ())):
            subscription.offer(line)

    async def subscribe(self, function_id: str) -> QueueSubscription:
        subscription = QueueSubscription(self, function_id, self.max_queued)
        self._subscribers.setdefault(function_id, set()).add(subscription)
        return subscription

    def forget(self, subscription: QueueSubscription) -> None:
        subscribers = self._subscribers.get(subscription.function_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.function_id]

    async def health(self) -> BackendHealth:
        subscribers = sum(len(s) for s in self._subscribers.values())
        return BackendHealth("memory", True, details={"subscribers": subscribers})

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.end(BUS_CLOSED)
