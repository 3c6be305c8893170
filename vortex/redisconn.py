"""Redis clients for request/response use (KV, API keys, cron locks), made in one way.

The log bus keeps its own connections (pub/sub has other needs). These clients fail fast: short
timeouts, and one immediate retry on a connection error, which is enough to get past a pooled
connection that died with a Redis restart but never hides an outage behind minutes of retries.
Callers map ``RedisError`` to their own ``*_unavailable`` error code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

CONNECT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 5.0


def redis_client(url: str, name: str) -> Redis:
    """A pooled client; ``name`` shows in ``CLIENT LIST`` (``vortex-<name>``)."""
    return Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=COMMAND_TIMEOUT,
        retry=Retry(NoBackoff(), 1),
        client_name=f"vortex-{name}",
    )


def redis_where(url: str) -> str:
    """The URL without credentials, for logs, /health and /metrics."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}"
