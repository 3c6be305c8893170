"""The one place that chooses the backends from the settings.

Nothing configured: the embedded defaults (a local directory, an in-process bus, KV and API keys
in the data directory, no cron locks), for one node. An S3 endpoint or bucket: the S3 store; a
Redis address: the Redis bus, KV, API keys and cron locks. Several nodes that share both serve
the same functions and stream each other's logs (docs/scaling.md).

The S3 and Redis modules are imported only when chosen, so a node on the defaults needs neither
aioboto3 nor redis installed (they are the ``s3`` and ``redis`` extras).
"""

from __future__ import annotations

from vortex.auth.service import ApiKeys
from vortex.auth.sessions import MemorySessionStore, Sessions
from vortex.config import Settings
from vortex.cron.lock import LocalTickLock, TickLock
from vortex.history.base import RunHistory
from vortex.kv import KV, KVLimits
from vortex.logbus.base import LogBus
from vortex.logbus.memory import MemoryLogBus
from vortex.rollups.base import RollupStore
from vortex.storage.base import FunctionStore
from vortex.storage.local import LocalStore
from vortex.storage.sealing import load_secrets_key


def make_store(settings: Settings) -> FunctionStore:
    if settings.store == "s3":
        from vortex.storage.s3 import S3Store

        if settings.redis_url is None:
            return S3Store(settings, load_secrets_key(settings))
        # Nodes that share the bucket share Redis too: the index goes there (one command per
        # change, instead of an S3 request per key). The embedded store keeps its own (SQLite):
        # it has one node, and servers of separate data directories may share a Redis.
        from vortex.storage.redis_index import RedisKeyIndex

        index = RedisKeyIndex(settings.redis_url, settings.s3_bucket)
        return S3Store(settings, load_secrets_key(settings), index)
    return LocalStore(settings.data_dir, load_secrets_key(settings))


def make_logbus(settings: Settings) -> LogBus:
    """Called with the event loop running: the Redis bus connects at once, so that /health and
    the logs tell about an unreachable Redis before the first WebSocket does."""
    if settings.logbus == "redis" and settings.redis_url is not None:
        from vortex.logbus.redis import RedisLogBus

        bus = RedisLogBus(settings.redis_url)
        bus.start()
        return bus
    return MemoryLogBus()


def kv_backend(settings: Settings) -> str:
    return "redis" if settings.redis_url is not None else "sqlite"


def api_keys_backend(settings: Settings) -> str:
    return "redis" if settings.redis_url is not None else "local"


def make_kv(settings: Settings) -> KV:
    """Redis when configured, so every node sees the same keys; else SQLite in the data
    directory, shared by the processes of this machine."""
    limits = KVLimits.from_settings(settings)
    if kv_backend(settings) == "redis" and settings.redis_url is not None:
        from vortex.kv.redis import RedisKVStore

        return KV(RedisKVStore(settings.redis_url), limits)
    from vortex.kv.sqlite import SqliteKVStore

    return KV(SqliteKVStore(settings.data_dir), limits)


def make_history(settings: Settings) -> RunHistory:
    """Redis when configured: one capped list per function that every node writes and reads."""
    if settings.redis_url is not None:
        from vortex.history.redis import RedisRunHistory

        return RedisRunHistory(settings.redis_url, settings.history_runs)
    from vortex.history.memory import MemoryRunHistory

    return MemoryRunHistory(settings.history_runs)


def make_rollups(settings: Settings) -> RollupStore:
    """Beside the history: Redis when configured (every node adds to the same counters)."""
    if settings.redis_url is not None:
        from vortex.rollups.redis import RedisRollupStore

        return RedisRollupStore(settings.redis_url)
    from vortex.rollups.memory import MemoryRollupStore

    return MemoryRollupStore()


def make_tick_lock(settings: Settings) -> TickLock:
    """With Redis, nodes share it and claim each cron tick there; alone, a node needs no lock."""
    if settings.redis_url is not None:
        from vortex.cron.lock import RedisTickLock

        return RedisTickLock(settings.redis_url)
    return LocalTickLock()


def make_api_keys(settings: Settings) -> ApiKeys:
    """Redis when configured (every node sees every key at once); else a file in the data
    directory, which the ``vortex keys`` commands write and the server rereads when it changes."""
    cache_seconds = settings.auth_cache_ms / 1000
    if api_keys_backend(settings) == "redis" and settings.redis_url is not None:
        from vortex.auth.redis import RedisKeyStore

        return ApiKeys(RedisKeyStore(settings.redis_url), cache_seconds=cache_seconds)
    from vortex.auth.local import FileKeyStore

    return ApiKeys(FileKeyStore(settings.data_dir), cache_seconds=cache_seconds)


def make_sessions(settings: Settings, keys: ApiKeys) -> Sessions:
    """The dashboard's sessions live where the keys do: in Redis, every node knows them (a
    browser behind a load balancer stays logged in); else in this node's memory."""
    if api_keys_backend(settings) == "redis" and settings.redis_url is not None:
        from vortex.auth.redis_sessions import RedisSessionStore

        return Sessions(RedisSessionStore(settings.redis_url), keys)
    return Sessions(MemorySessionStore(), keys)
