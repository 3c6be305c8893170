"""Claiming a tick, so that with several nodes each tick runs on exactly one.

``claim(function_id, tick)`` is true for the one node that gets there first (the scheduler passes
``<id>:<expression>`` for a function with several schedules, each claimed on its own). With Redis,
that is ``SET vortex:cron:{<id>}:<tick> <node> NX PX <ttl>``: atomic, and the key outlives the
window in which any node could still consider that tick (the scheduler's grace, plus clock skew
between nodes), then disappears by itself. The embedded default has one node, so it needs no lock at
all.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Protocol

from redis.exceptions import RedisError

from vortex.cron.errors import LockUnavailable
from vortex.health import BackendHealth
from vortex.redisconn import redis_client, redis_where

PREFIX = "vortex:cron:"
LOCK_TTL = timedelta(hours=1)


class TickLock(Protocol):
    async def claim(self, function_id: str, tick: datetime) -> bool:
        """True if this node is to run the tick; ``LockUnavailable`` if that cannot be known."""
        ...

    async def health(self) -> BackendHealth: ...

    async def close(self) -> None: ...


class LocalTickLock:
    """One node: every tick is this node's."""

    async def claim(self, function_id: str, tick: datetime) -> bool:
        return True

    async def health(self) -> BackendHealth:
        return BackendHealth("local", True)

    async def close(self) -> None:
        return None


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RedisTickLock:
    def __init__(self, url: str, *, ttl: timedelta = LOCK_TTL, node: str | None = None) -> None:
        self.where = redis_where(url)
        self.ttl_ms = int(ttl.total_seconds() * 1000)
        self.node = node or node_name()
        self._redis = redis_client(url, "cron")

    @staticmethod
    def key(function_id: str, tick: datetime) -> str:
        return f"{PREFIX}{{{function_id}}}:{int(tick.timestamp())}"

    async def claim(self, function_id: str, tick: datetime) -> bool:
        try:
            taken = await self._redis.set(
                self.key(function_id, tick), self.node, nx=True, px=self.ttl_ms
            )
        except RedisError as exc:
            raise LockUnavailable(f"Redis is unreachable: {exc}") from exc
        return bool(taken)

    async def health(self) -> BackendHealth:
        try:
            await self._redis.ping()
        except RedisError as exc:
            return BackendHealth(
                "redis", False, f"Redis is unreachable: {exc}", {"url": self.where}
            )
        return BackendHealth("redis", True, None, {"url": self.where})

    async def close(self) -> None:
        await self._redis.aclose()
