"""Invocation history in Redis: one capped list per function, shared by every node.

``vortex:runs:<history key>`` holds the entries as JSON, newest first: LPUSH then LTRIM in one
MULTI, so the list never holds more than the configured number of runs. Recording is best
effort (a run's answer never waits on, or fails with, its history); reading answers
``503 history_unavailable`` when Redis is down.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from vortex.errors import HistoryUnavailable
from vortex.health import BackendHealth
from vortex.history.base import RunEntry
from vortex.redisconn import redis_client, redis_where

log = logging.getLogger(__name__)

PREFIX = "vortex:runs:"


class RedisRunHistory:
    def __init__(self, url: str, per_function: int) -> None:
        self.per_function = per_function
        self.where = redis_where(url)
        self._redis = redis_client(url, "history")

    async def record(self, key: str, entry: RunEntry) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.lpush(PREFIX + key, entry.to_bytes())
                pipe.ltrim(PREFIX + key, 0, self.per_function - 1)
                await pipe.execute()
        except RedisError as exc:
            log.warning("could not record run %s in Redis at %s: %s", entry.run_id, self.where, exc)

    async def runs(self, key: str, limit: int | None = None) -> list[RunEntry]:
        stop = (limit or self.per_function) - 1
        try:
            items = await self._redis.lrange(PREFIX + key, 0, stop)
        except RedisError as exc:
            raise HistoryUnavailable(f"Redis at {self.where} is unreachable: {exc}") from exc
        return [
            RunEntry.from_bytes(item if isinstance(item, bytes) else item.encode())
            for item in items
        ]

    async def last(self, key: str) -> RunEntry | None:
        runs = await self.runs(key, 1)
        return runs[0] if runs else None

    async def forget(self, key: str) -> None:
        try:
            await self._redis.delete(PREFIX + key)
        except RedisError as exc:
            raise HistoryUnavailable(f"Redis at {self.where} is unreachable: {exc}") from exc

    async def health(self) -> BackendHealth:
        try:
            await self._redis.ping()
        except RedisError as exc:
            return BackendHealth("redis", False, str(exc), {"url": self.where})
        return BackendHealth("redis", True, None, {"url": self.where})

    async def close(self) -> None:
        await self._redis.aclose()
