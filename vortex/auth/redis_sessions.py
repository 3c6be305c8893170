"""Dashboard sessions in Redis, shared by every node: one string per session,
``vortex:auth:session:<sha256 of its id>``, that expires with the session."""

from __future__ import annotations

import math
import time

import orjson
from redis.exceptions import RedisError

from vortex.auth.errors import AuthUnavailable
from vortex.auth.sessions import Session
from vortex.redisconn import redis_client, redis_where

PREFIX = "vortex:auth:session:"


class RedisSessionStore:
    def __init__(self, url: str) -> None:
        self.where = redis_where(url)
        self._redis = redis_client(url, "sessions")

    def _unavailable(self, exc: Exception) -> AuthUnavailable:
        return AuthUnavailable(f"the session store (Redis at {self.where}) is unreachable: {exc}")

    async def put(self, handle: str, session: Session) -> None:
        seconds = max(1, math.ceil(session.expires_at - time.time()))
        try:
            await self._redis.set(PREFIX + handle, orjson.dumps(session.to_json()), ex=seconds)
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def get(self, handle: str) -> Session | None:
        try:
            raw = await self._redis.get(PREFIX + handle)
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        if raw is None:
            return None
        try:
            return Session.from_json(orjson.loads(raw))
        except (ValueError, KeyError, TypeError):
            return None  # a damaged session is no session: the browser logs in again

    async def delete(self, handle: str) -> None:
        try:
            await self._redis.delete(PREFIX + handle)
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def close(self) -> None:
        await self._redis.aclose()
