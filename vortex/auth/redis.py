"""The shared key store: one Redis hash, ``vortex:auth:keys``, digest → the key's JSON record.

One hash, so a request is checked with one ``HGET`` and "are there any keys" is one ``HLEN``;
every node sees a key created or revoked through any of them (within the service's cache time).
"""

from __future__ import annotations

import orjson
from redis.exceptions import RedisError

from vortex.auth.base import ApiKey
from vortex.auth.errors import AuthUnavailable
from vortex.health import BackendHealth
from vortex.redisconn import redis_client, redis_where

HASH = "vortex:auth:keys"


class RedisKeyStore:
    def __init__(self, url: str) -> None:
        self.where = redis_where(url)
        self._redis = redis_client(url, "auth")

    def _unavailable(self, exc: Exception) -> AuthUnavailable:
        return AuthUnavailable(f"the API key store (Redis at {self.where}) is unreachable: {exc}")

    async def add(self, key: ApiKey) -> None:
        try:
            await self._redis.hset(HASH, key.digest, orjson.dumps(key.to_json()))
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def find(self, digest: str) -> ApiKey | None:
        try:
            raw = await self._redis.hget(HASH, digest)
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        return None if raw is None else _parse(raw)

    async def all(self) -> list[ApiKey]:
        try:
            raw = await self._redis.hgetall(HASH)
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        keys = [_parse(value) for value in raw.values()]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    async def remove(self, key_id: str) -> ApiKey | None:
        for key in await self.all():
            if key.id == key_id:
                try:
                    await self._redis.hdel(HASH, key.digest)
                except RedisError as exc:
                    raise self._unavailable(exc) from exc
                return key
        return None

    async def count(self) -> int:
        try:
            return int(await self._redis.hlen(HASH))
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def health(self) -> BackendHealth:
        try:
            count = await self.count()
        except AuthUnavailable as exc:
            return BackendHealth("redis", False, exc.message, {"url": self.where})
        return BackendHealth("redis", True, None, {"url": self.where, "keys": count})

    async def close(self) -> None:
        await self._redis.aclose()


def _parse(raw: bytes | str) -> ApiKey:
    try:
        return ApiKey.from_json(orjson.loads(raw))
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthUnavailable(f"a stored API key record is damaged: {exc}") from exc
