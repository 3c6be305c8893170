"""Rollups in Redis: a hash of counters per function and bucket, shared by every node.

``vortex:rollup:{<history key>}:<tier>:<number>`` holds the counters (``HINCRBY``: nodes add
to the same buckets) and expires when its tier no longer shows it, so the size of what is kept
is bounded by the functions that ran in the last day. Writes are best effort, batched in one
pipeline per flush; a read of a Redis that is down answers ``503 history_unavailable``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

from redis.exceptions import RedisError

from vortex.errors import HistoryUnavailable
from vortex.health import BackendHealth
from vortex.redisconn import redis_client, redis_where
from vortex.rollups.base import KEPT_SECONDS, TIERS, Bucket, Slot, slots_kept

log = logging.getLogger(__name__)

PREFIX = "vortex:rollup:"


def bucket_key(key: str, tier: str, number: int) -> str:
    # The hash tag keeps one function's buckets in one slot of a Redis Cluster.
    return f"{PREFIX}{{{key}}}:{tier}:{number}"


class RedisRollupStore:
    def __init__(self, url: str) -> None:
        self.where = redis_where(url)
        self._redis = redis_client(url, "rollups")

    async def add(self, increments: Mapping[Slot, Bucket]) -> None:
        if not increments:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for (key, tier, number), counts in increments.items():
                    name = bucket_key(key, tier, number)
                    for field, count in counts.items():
                        pipe.hincrby(name, field, count)
                    # Expire with the tier: from the bucket's end, what the tier keeps.
                    pipe.expireat(name, (number + 1) * TIERS[tier] + KEPT_SECONDS[tier])
                await pipe.execute()
        except RedisError as exc:
            log.warning(
                "could not add %d rollups to Redis at %s: %s", len(increments), self.where, exc
            )

    async def read(self, key: str, tier: str, numbers: Sequence[int]) -> list[Bucket]:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for number in numbers:
                    pipe.hgetall(bucket_key(key, tier, number))
                found = await pipe.execute()
        except RedisError as exc:
            raise HistoryUnavailable(f"Redis at {self.where} is unreachable: {exc}") from exc
        return [{_text(field): int(value) for field, value in bucket.items()} for bucket in found]

    async def forget(self, key: str, now: float) -> None:
        names = []
        for tier, span in TIERS.items():
            newest = math.floor(now / span)
            names += [
                bucket_key(key, tier, n) for n in range(newest - slots_kept(tier), newest + 2)
            ]
        try:
            await self._redis.delete(*names)
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


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
