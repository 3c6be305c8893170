"""The shared KV backend: Redis, for several nodes.

Per function (the ``{id}`` hash tag keeps all of one function's keys in one slot of a Redis
Cluster, so its scripts may touch them together):

- ``vortex:kv:{<id>}:v:<key>``: the value, a string of its bytes, with a Redis expiry (``PX``)
  for a TTL (values put as text before values could be bytes are their UTF-8: the same thing);
- ``vortex:kv:{<id>}:m:<key>``: the key's metadata as JSON text, when it has some, with the
  same expiry; a key without one (every key put before metadata existed) has none;
- ``vortex:kv:{<id>}:keys``: a sorted set of the key names, all of score 0, so ``ZRANGEBYLEX``
  lists them in byte order, by prefix, from a cursor, without ``SCAN``'s repeats and gaps;
- ``vortex:kv:{<id>}:exp``: a sorted set of the names that expire, scored by their expiry time in
  milliseconds, which ``list`` reports and by which puts prune names whose value expired.

A put and a delete are Lua scripts, so the value, its metadata and both sets change together (and
a get reads value and metadata with one ``MGET``), and expiry times
come from the Redis server's own clock (``TIME``), the one that expires the values: nodes whose
clocks disagree still agree on what expired.
"""

from __future__ import annotations

import time
from typing import Any

from redis.exceptions import RedisError

from vortex.health import BackendHealth
from vortex.kv.base import KVEntry, KVKey, KVPage
from vortex.kv.errors import KVUnavailable
from vortex.redisconn import redis_client, redis_where

PREFIX = "vortex:kv:"
PRUNE_BATCH = 64
"""Names of expired keys a put removes from the index, so that TTL'd keys never listed again
do not grow it without bound."""
LIST_ROUNDS = 16
"""Index reads one list may do while skipping names of expired keys before it returns a short
page with a cursor (the caller goes on from there)."""
HEALTH_EVERY = 5.0

# Every script starts from the server's clock. Redis 7 replicates scripts by their effects, so
# reading TIME and then writing is allowed; older servers are told to do so.
_NOW = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: value, index, expiries, metadata. ARGV: name, value, ttl in ms (0: none), value-key
# prefix, metadata ("": none), metadata-key prefix.
PUT = (
    _NOW
    + """
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
  redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
if ARGV[5] == '' then
  redis.call('DEL', KEYS[4])
elseif ttl > 0 then
  redis.call('SET', KEYS[4], ARGV[5], 'PX', ttl)
else
  redis.call('SET', KEYS[4], ARGV[5])
end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, PRUNE_BATCH)
for _, name in ipairs(gone) do
  redis.call('ZREM', KEYS[2], name)
  redis.call('ZREM', KEYS[3], name)
  redis.call('DEL', ARGV[4] .. name, ARGV[6] .. name)
end
return 1
""".replace("PRUNE_BATCH", str(PRUNE_BATCH))
)

# KEYS: value, index, expiries, metadata. ARGV: name.
DELETE = """
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# KEYS: index, expiries. ARGV: min, max (ZRANGEBYLEX bounds), wanted (limit + 1), metadata-key
# prefix. Returns {flat list of name, expiry-or-"", metadata-or-"" triples, last name examined,
# 1 if the range is exhausted}. Metadata is never "": the shortest JSON text is one character.
LIST = (
    _NOW
    + """
local wanted = tonumber(ARGV[3])
local min = ARGV[1]
local found = {}
local count = 0
local last = ''
local exhausted = 0
for round = 1, LIST_ROUNDS do
  local want = wanted - count
  local names = redis.call('ZRANGEBYLEX', KEYS[1], min, ARGV[2], 'LIMIT', 0, want)
  for _, name in ipairs(names) do
    last = name
    local exp = redis.call('ZSCORE', KEYS[2], name)
    if not exp or tonumber(exp) > now then
      found[#found + 1] = name
      found[#found + 1] = exp or ''
      found[#found + 1] = redis.call('GET', ARGV[4] .. name) or ''
      count = count + 1
    end
  end
  if #names < want then
    exhausted = 1
    break
  end
  if count >= wanted then break end
  min = '(' .. last
end
return {found, last, exhausted}
""".replace("LIST_ROUNDS", str(LIST_ROUNDS))
)


def _keys(namespace: str) -> tuple[str, str, str]:
    base = f"{PREFIX}{{{namespace}}}:"
    return f"{base}v:", f"{base}keys", f"{base}exp"


def _metadata_prefix(namespace: str) -> str:
    return f"{PREFIX}{{{namespace}}}:m:"


def _lex_bounds(prefix: bytes, after: bytes | None) -> tuple[bytes, bytes]:
    """``after`` starts with ``prefix`` (the service checks cursors), so it is the lower bound."""
    if after is not None:
        return b"(" + after, _upper(prefix)
    return (b"[" + prefix if prefix else b"-"), _upper(prefix)


def _upper(prefix: bytes) -> bytes:
    # No UTF-8 text holds the byte 0xFF: every key that starts with the prefix sorts before it.
    return b"[" + prefix + b"\xff" if prefix else b"+"


class RedisKVStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.where = redis_where(url)
        self._redis = redis_client(url, "kv")
        self._put = self._redis.register_script(PUT)
        self._delete = self._redis.register_script(DELETE)
        self._list = self._redis.register_script(LIST)
        self._health: tuple[float, BackendHealth] | None = None

    async def get(self, namespace: str, key: str) -> KVEntry | None:
        values, _, _ = _keys(namespace)
        name = key.encode()
        try:
            # One command: a put between two reads could pair a value with another's metadata.
            raw, metadata = await self._redis.mget(
                values.encode() + name, _metadata_prefix(namespace).encode() + name
            )
        except RedisError as exc:
            raise _unavailable(exc) from exc
        if raw is None:
            return None
        return KVEntry(_bytes(raw), None if metadata is None else _text(metadata))

    async def put(
        self, namespace: str, key: str, value: bytes, metadata: str | None, ttl_ms: int | None
    ) -> None:
        values, index, expiries = _keys(namespace)
        metas = _metadata_prefix(namespace)
        name = key.encode()
        try:
            await self._put(
                keys=[values.encode() + name, index, expiries, metas.encode() + name],
                args=[name, value, ttl_ms or 0, values, (metadata or "").encode(), metas],
            )
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def delete(self, namespace: str, key: str) -> None:
        values, index, expiries = _keys(namespace)
        name = key.encode()
        meta = _metadata_prefix(namespace).encode() + name
        try:
            await self._delete(keys=[values.encode() + name, index, expiries, meta], args=[name])
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def list(self, namespace: str, prefix: str, after: str | None, limit: int) -> KVPage:
        _, index, expiries = _keys(namespace)
        low, high = _lex_bounds(prefix.encode(), None if after is None else after.encode())
        try:
            found, last, exhausted = await self._list(
                keys=[index, expiries], args=[low, high, limit + 1, _metadata_prefix(namespace)]
            )
        except RedisError as exc:
            raise _unavailable(exc) from exc
        flat: list[Any] = list(found)
        keys = [
            KVKey(
                _text(flat[i]),
                int(flat[i + 1]) // 1000 if flat[i + 1] else None,
                _text(flat[i + 2]) if flat[i + 2] else None,
            )
            for i in range(0, len(flat), 3)
        ]
        if len(keys) > limit:
            return KVPage(keys[:limit], more=True)
        if exhausted:
            return KVPage(keys, more=False)
        # Stopped on a long run of expired names: resume after the last name examined.
        return KVPage(keys, more=True, resume_after=_text(last))

    async def delete_namespace(self, namespace: str) -> int:
        values, index, expiries = _keys(namespace)
        metas = _metadata_prefix(namespace).encode()
        removed = 0
        try:
            while True:
                names = [_bytes(name) for name in await self._redis.zrange(index, 0, 499)]
                if not names:
                    break
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.delete(*(values.encode() + name for name in names))
                    pipe.delete(*(metas + name for name in names))
                    pipe.zrem(index, *names)
                    pipe.zrem(expiries, *names)
                    deleted, _, _, _ = await pipe.execute()
                removed += int(deleted)
            await self._redis.delete(index, expiries)
        except RedisError as exc:
            raise _unavailable(exc) from exc
        return removed

    async def health(self) -> BackendHealth:
        # Scrapes and health checks come often; one PING every few seconds tells enough.
        now = time.monotonic()
        if self._health is not None and now - self._health[0] < HEALTH_EVERY:
            return self._health[1]
        details = {"url": self.where}
        try:
            await self._redis.ping()
            health = BackendHealth("redis", True, None, details)
        except RedisError as exc:
            health = BackendHealth("redis", False, f"Redis is unreachable: {exc}", details)
        self._health = (now, health)
        return health

    async def close(self) -> None:
        await self._redis.aclose()


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _bytes(raw: Any) -> bytes:
    return raw if isinstance(raw, bytes) else str(raw).encode()


def _unavailable(exc: RedisError) -> KVUnavailable:
    return KVUnavailable(f"the KV store (Redis) is unreachable: {exc}")
