"""The function index in Redis, for the S3 store when Redis is configured: one sorted set whose
members are the index's keys (``vortex.storage.keyindex``), all with score 0, so that Redis
orders them by their bytes and ``ZRANGEBYLEX`` reads a range after a key.

Beside S3's empty objects this saves four to five S3 PUTs per deploy and a LIST per page, and
every node reads the same set. Redis may lose it (no persistence, a flush, a failover to an
empty replica): the set's ``ready`` member goes with it, which makes the next ``ensure`` of each
node rebuild it from the records in S3 (``volatile``: nodes check for it every few seconds,
not once). The set is named after the bucket, so two clusters sharing a Redis keep apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.exceptions import RedisError

from vortex.errors import StorageUnavailable
from vortex.redisconn import redis_client, redis_where

PREFIX = "vortex:index:"
_AFTER_EVERY_KEY = b"\xff"
"""Sorts after every key byte (keys are ASCII): a prefix ``p`` is the range ``[p, p + this)``."""
WRITE_BATCH = 1000


class RedisKeyIndex:
    volatile = True

    def __init__(self, url: str, bucket: str) -> None:
        self.where = redis_where(url)
        self.set_key = f"{PREFIX}{bucket}"
        self._redis = redis_client(url, "index")

    def _failed(self, exc: RedisError) -> StorageUnavailable:
        return StorageUnavailable(f"the function index in Redis at {self.where} failed: {exc}")

    async def _write(self, command: str, keys: Iterable[str]) -> None:
        batch = list(keys)
        try:
            for start in range(0, len(batch), WRITE_BATCH):
                chunk = batch[start : start + WRITE_BATCH]
                if command == "add":
                    await self._redis.zadd(self.set_key, dict.fromkeys(chunk, 0))
                else:
                    await self._redis.zrem(self.set_key, *chunk)
        except RedisError as exc:
            raise self._failed(exc) from exc

    async def add(self, keys: Iterable[str]) -> None:
        await self._write("add", keys)

    async def remove(self, keys: Iterable[str]) -> None:
        await self._write("remove", keys)

    async def keys(
        self, prefix: str, after: str | None = None, limit: int | None = None
    ) -> list[str]:
        low = b"[" + prefix.encode()
        if after is not None and after >= prefix:
            low = b"(" + after.encode()
        high = b"(" + prefix.encode() + _AFTER_EVERY_KEY
        try:
            if limit is None:
                found = await self._redis.zrangebylex(self.set_key, low, high)
            else:
                found = await self._redis.zrangebylex(self.set_key, low, high, 0, limit)
        except RedisError as exc:
            raise self._failed(exc) from exc
        return [k.decode() if isinstance(k, bytes) else str(k) for k in found]

    async def close(self) -> None:
        await self._redis.aclose()
