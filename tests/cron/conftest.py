from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from tests.fixtures.redis import RedisServer, redis_factory, redis_server

__all__ = ["FakeClock", "RedisServer", "redis_factory", "redis_server"]


class FakeClock:
    """Time that moves only when a test says so; sleepers wake in deadline order."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + timedelta(seconds=seconds), future))
        self._changed.set()
        await future

    async def wait_for_sleepers(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self._sleepers) < count:
                self._changed.clear()
                await self._changed.wait()

    async def advance(self, seconds: float, sleepers: int = 1) -> None:
        """Move time forward, waking each sleeper when its deadline comes and letting it run
        until it (and every other of ``sleepers``) sleeps again."""
        target = self._now + timedelta(seconds=seconds)
        while True:
            await self.wait_for_sleepers(sleepers)
            due = [s for s in self._sleepers if s[0] <= target]
            if not due:
                break
            deadline = min(s[0] for s in due)
            self._now = max(self._now, deadline)
            woken = [s for s in self._sleepers if s[0] <= deadline]
            self._sleepers = [s for s in self._sleepers if s[0] > deadline]
            for _, future in woken:
                future.set_result(None)
        self._now = target
        await asyncio.sleep(0.01)  # the run tasks the last pass created
