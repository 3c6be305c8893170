"""The shared log bus: Redis pub/sub, one channel per function (``vortex:logs:<function id>``).

Every node publishes the log lines of its runs to the function's channel and delivers the lines
of every node's runs to its own WebSocket subscribers. Per node, two Redis connections whatever
the number of subscribers:

- one pub/sub connection, owned by a listener task: it SUBSCRIBEs a channel when the first local
  subscriber of that function arrives, UNSUBSCRIBEs when the last one leaves, and fans each
  message out to the local subscribers' bounded queues;
- one ordinary connection for PUBLISH (a subscribed connection may not publish), owned by a
  publisher task that drains a bounded queue in pipelined batches.

``publish`` never blocks a run and never fails it: the line is queued and the call returns. When
the queue is full, the *oldest* line is dropped and counted (a live tail wants the newest lines),
so memory stays bounded even when Redis is gone for hours.

When Redis is unreachable, runs go on and return their logs in the HTTP response as always. Each
local subscriber gets a notice as a WebSocket text message, in the shape of a log line so that
naive clients print something sensible, but told apart by ``"type": "notice"``::

    {"type": "notice", "code": "logbus_unavailable", "level": "warn", "message": "...",
     "timestamp": "..."}

The WebSocket stays open. The listener reconnects with capped exponential backoff, subscribes
again to every channel that has local subscribers, and then sends ``"code": "logbus_restored"``
(``"level": "info"``). Lines published elsewhere while this node was cut off are not replayed:
Redis pub/sub keeps nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from typing import Literal
from urllib.parse import urlsplit

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from vortex.functions import iso_utc
from vortex.health import BackendHealth
from vortex.logbus.base import INTERNAL_PREFIX
from vortex.logbus.memory import BUS_CLOSED, QueueSubscription

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "vortex:logs:"
LOGBUS_UNAVAILABLE = "logbus_unavailable"
LOGBUS_RESTORED = "logbus_restored"

CONNECT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 5.0
SUBSCRIBE_TIMEOUT = 2.0
"""How long ``subscribe`` waits for Redis to confirm, so lines published right after the
WebSocket opens are delivered; past it the subscription still works, confirmed late."""
READ_POLL = 1.0
PING_AFTER = 5.0
"""Seconds of silence on the pub/sub connection before it is PINGed."""
DEAD_AFTER = 15.0
"""Seconds of silence, PINGs included, after which the connection is taken for dead (a
half-open TCP connection, a paused server) and replaced."""
BACKOFF_MIN = 0.1
BACKOFF_MAX = 5.0
PUBLISH_BATCH = 500
CLOSE_FLUSH_TIMEOUT = 1.0

State = Literal["connecting", "up", "down"]


def channel_for(function_id: str) -> str:
    return f"{CHANNEL_PREFIX}{function_id}"


def _where(url: str) -> str:
    """The URL without credentials, for logs and /health."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}"


def _backoff(current: float) -> tuple[float, float]:
    """(seconds to sleep now, next backoff): doubling, capped, with jitter so that nodes that
    lost Redis together do not all come back in the same millisecond."""
    return current * random.uniform(0.8, 1.2), min(current * 2, BACKOFF_MAX)


def notice(code: str, level: str, message: str) -> bytes:
    return orjson.dumps(
        {
            "type": "notice",
            "code": code,
            "level": level,
            "message": message,
            "timestamp": iso_utc(time.time()),
        }
    )


class RedisLogBus:
    def __init__(
        self,
        url: str,
        *,
        max_queued: int = 1000,
        max_pending_lines: int = 10_000,
        max_pending_bytes: int = 8 << 20,
    ) -> None:
        self.url = url
        self.where = _where(url)
        self.max_queued = max_queued
        self.max_pending_lines = max_pending_lines
        self.max_pending_bytes = max_pending_bytes
        # Local subscribers by channel; a channel is wanted exactly while it has one.
        self._local: dict[str, set[QueueSubscription]] = {}
        self._state: State = "connecting"
        self._error: str | None = None
        self._up = asyncio.Event()
        # Serialises every command on the pub/sub connection and its replacement.
        self._lock = asyncio.Lock()
        self._client: Redis | None = None
        self._pubsub: PubSub | None = None
        self._subscribed: set[str] = set()
        # One future per SUBSCRIBE sent and not yet confirmed, oldest first: Redis confirms in
        # the order it was asked.
        self._acks: dict[str, deque[asyncio.Future[None]]] = {}
        self._pending: deque[tuple[bytes, bytes]] = deque()
        self._pending_bytes = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        """Set while nothing waits to be published."""
        self._idle.set()
        self._publisher_client: Redis | None = None
        self._publish_error: str | None = None
        self.published = 0
        self.dropped = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[object]] = set()
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the listener and publisher tasks; needs a running loop. Idempotent."""
        if self._tasks or self._closed:
            return
        self._tasks = [
            asyncio.create_task(self._run_listener(), name="vortex-logbus-listener"),
            asyncio.create_task(self._run_publisher(), name="vortex-logbus-publisher"),
        ]

    def _redis(self, role: Literal["sub", "pub"]) -> Redis:
        return Redis.from_url(
            self.url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=COMMAND_TIMEOUT,
            # Reconnection is ours (backoff, resubscribe, notices); redis-py's own retries would
            # hide outages from us and reconnect behind our back.
            retry=Retry(NoBackoff(), 0),
            # Each client is used by one task at a time: one connection each, by construction.
            max_connections=1,
            client_name=f"vortex-logbus-{role}",
        )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._tasks and self._publish_error is None:
            # The last lines of runs that finished just before shutdown: give them a moment.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_FLUSH_TIMEOUT):
                    await self._idle.wait()
        for task in [*self._tasks, *self._side_tasks]:
            task.cancel()
        for task in [*self._tasks, *self._side_tasks]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._drop_connection()
        if self._publisher_client is not None:
            await self._close_quietly(self._publisher_client)
            self._publisher_client = None
        for subscribers in list(self._local.values()):
            for subscription in list(subscribers):
                subscription.end(BUS_CLOSED)

    # -- publishing -----------------------------------------------------------------------------
    def publish(self, function_id: str, line: bytes) -> None:
        if self._closed:
            self.dropped += 1
            return
        self.start()
        self._pending.append((channel_for(function_id).encode(), line))
        self._pending_bytes += len(line)
        while self._pending and (
            len(self._pending) > self.max_pending_lines
            or self._pending_bytes > self.max_pending_bytes
        ):
            _, old = self._pending.popleft()
            self._pending_bytes -= len(old)
            self.dropped += 1
        self._idle.clear()
        self._wake.set()

    async def _run_publisher(self) -> None:
        backoff = BACKOFF_MIN
        while True:
            while not self._pending:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
            batch: list[tuple[bytes, bytes]] = []
            while self._pending and len(batch) < PUBLISH_BATCH:
                channel, line = self._pending.popleft()
                self._pending_bytes -= len(line)
                batch.append((channel, line))
            # The batch is held here, outside the bounded queue, until Redis takes it: at most
            # PUBLISH_BATCH lines more than the queue's bound.
            while True:
                try:
                    if self._publisher_client is None:
                        self._publisher_client = self._redis("pub")
                    async with self._publisher_client.pipeline(transaction=False) as pipe:
                        for channel, line in batch:
                            pipe.publish(channel, line)
                        await pipe.execute()
                except (RedisError, OSError) as exc:
                    if self._publish_error is None:
                        log.warning("log bus: cannot publish to Redis at %s: %s", self.where, exc)
                    self._publish_error = f"cannot publish to Redis at {self.where}: {exc}"
                    delay, backoff = _backoff(backoff)
                    await asyncio.sleep(delay)
                    continue
                if self._publish_error is not None:
                    log.info("log bus: publishing to Redis at %s again", self.where)
                self._publish_error = None
                backoff = BACKOFF_MIN
                self.published += len(batch)
                break

    # -- subscribing ----------------------------------------------------------------------------
    async def subscribe(self, function_id: str) -> QueueSubscription:
        subscription = QueueSubscription(self, function_id, self.max_queued)
        if self._closed:
            subscription.end(BUS_CLOSED)
            return subscription
        self.start()
        channel = channel_for(function_id)
        self._local.setdefault(channel, set()).add(subscription)
        if self._state == "connecting":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._up.wait(), SUBSCRIBE_TIMEOUT)
        if self._state == "down":
            subscription.offer(self._unavailable_notice())
            return subscription
        ack = await self._sync_channel(channel)
        if ack is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(ack), SUBSCRIBE_TIMEOUT)
        return subscription

    def forget(self, subscription: QueueSubscription) -> None:
        channel = channel_for(subscription.function_id)
        subscribers = self._local.get(channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._local[channel]
            if not self._closed:
                # forget() is synchronous (a queue overflow calls it); UNSUBSCRIBE is not.
                task = asyncio.create_task(self._sync_channel(channel))
                self._side_tasks.add(task)
                task.add_done_callback(self._side_tasks.discard)

    async def _sync_channel(self, channel: str) -> asyncio.Future[None] | None:
        """Make Redis's subscription to one channel match whether it has local subscribers;
        return the confirmation to wait for, if one is pending."""
        async with self._lock:
            pubsub = self._pubsub
            if pubsub is None or self._state != "up":
                return None  # the next connection subscribes every wanted channel
            wanted = channel in self._local
            try:
                if wanted and channel not in self._subscribed:
                    ack = self._expect_ack(channel)
                    self._subscribed.add(channel)
                    await pubsub.subscribe(channel)
                    return ack
                if not wanted and channel in self._subscribed:
                    self._subscribed.discard(channel)
                    await pubsub.unsubscribe(channel)
                    return None
            except (RedisError, OSError) as exc:
                # The listener's next read fails too and replaces the connection.
                log.debug("log bus: (un)subscribe %s failed: %s", channel, exc)
                return None
            pending = self._acks.get(channel)
            return pending[-1] if pending else None

    def _expect_ack(self, channel: str) -> asyncio.Future[None]:
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks.setdefault(channel, deque()).append(ack)
        return ack

    # -- the listener ---------------------------------------------------------------------------
    async def _run_listener(self) -> None:
        backoff = BACKOFF_MIN
        while True:
            try:
                await self._connect()
                backoff = BACKOFF_MIN
                await self._listen()
            except (RedisError, OSError) as exc:
                error = f"lost Redis at {self.where}: {exc}"
            except Exception as exc:
                # A bug here must not end live tails for the life of the process: log it and
                # go through the same reconnection as for a network failure.
                log.exception("log bus: unexpected error in the Redis listener")
                error = f"log bus error: {exc!r}"
            await self._mark_down(error)
            delay, backoff = _backoff(backoff)
            await asyncio.sleep(delay)

    async def _connect(self) -> None:
        client = self._redis("sub")
        pubsub = client.pubsub()
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]  # redis-py leaves it bare
            async with self._lock:
                self._client, self._pubsub = client, pubsub
                channels = list(self._local)
                acks = [self._expect_ack(channel) for channel in channels]
                if channels:
                    await pubsub.subscribe(*channels)
                self._subscribed = set(channels)
                restored = self._state == "down"
                self._state = "up"
                self._error = None
            # Read the confirmations here, before anyone is told the bus is back, so that a
            # client reacting to "logbus_restored" cannot publish ahead of the subscription.
            async with asyncio.timeout(COMMAND_TIMEOUT):
                while not all(ack.done() for ack in acks):
                    await self._read_one(pubsub)
        except BaseException:
            if self._pubsub is not pubsub:
                await self._close_quietly(pubsub, client)
            raise
        self._up.set()
        if restored:
            log.info("log bus: Redis at %s is back; %d channels subscribed", self.where, len(acks))
            message = notice(LOGBUS_RESTORED, "info", "live log stream restored")
            for subscription in self._all_local():
                subscription.offer(message)
        else:
            log.info("log bus: connected to Redis at %s", self.where)

    async def _listen(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None
        last_heard = last_ping = time.monotonic()
        while True:
            heard = await self._read_one(pubsub)
            now = time.monotonic()
            if heard:
                last_heard = now
            elif now - last_heard > DEAD_AFTER:
                raise ConnectionError(f"no answer from Redis for {DEAD_AFTER:g} s")
            elif now - last_heard > PING_AFTER and now - last_ping > PING_AFTER:
                last_ping = now
                async with self._lock:
                    await pubsub.ping()

    async def _read_one(self, pubsub: PubSub) -> bool:
        """Handle at most one message; whether anything at all came from Redis."""
        message = await pubsub.get_message(timeout=READ_POLL)
        if message is None:
            return False
        kind = message["type"]
        if kind == "message":
            channel = message["channel"].decode()
            data = message["data"]
            for subscription in tuple(self._local.get(channel, ())):
                subscription.offer(data)
        elif kind == "subscribe":
            pending = self._acks.get(message["channel"].decode())
            if pending:
                ack = pending.popleft()
                if not ack.done():
                    ack.set_result(None)
                if not pending:
                    del self._acks[message["channel"].decode()]
        return True

    async def _mark_down(self, error: str) -> None:
        was = self._state
        self._state = "down"
        self._error = error
        self._up.clear()
        await self._drop_connection()
        if was != "down":
            log.warning("log bus: %s; live tails paused, reconnecting", error)
            message = self._unavailable_notice()
            for subscription in self._all_local():
                subscription.offer(message)

    async def _drop_connection(self) -> None:
        async with self._lock:
            pubsub, client = self._pubsub, self._client
            self._pubsub = self._client = None
            self._subscribed.clear()
            for pending in self._acks.values():
                for ack in pending:
                    if not ack.done():
                        ack.set_result(None)  # waiters go on; the next connection resubscribes
            self._acks.clear()
        await self._close_quietly(pubsub, client)

    @staticmethod
    async def _close_quietly(*closables: PubSub | Redis | None) -> None:
        for closable in closables:
            if closable is not None:
                with contextlib.suppress(RedisError, OSError):
                    await closable.aclose()

    def _all_local(self) -> list[QueueSubscription]:
        return [s for subscribers in self._local.values() for s in subscribers]

    def _unavailable_notice(self) -> bytes:
        return notice(
            LOGBUS_UNAVAILABLE,
            "warn",
            "live log stream interrupted: Redis is unreachable; runs go on and return their "
            "logs in their responses; this stream resumes by itself when Redis is back",
        )

    # -- health ---------------------------------------------------------------------------------
    async def health(self) -> BackendHealth:
        self.start()
        # The listener's state first: while it is down, the publisher is usually down too.
        error = (self._error or "connecting to Redis") if self._state != "up" else None
        error = error or self._publish_error
        return BackendHealth(
            "redis",
            error is None,
            error,
            {
                "url": self.where,
                "state": self._state,
                "subscribers": sum(len(s) for c, s in self._local.items() if not _internal(c)),
                "channels": sum(1 for c in self._local if not _internal(c)),
                "pending": len(self._pending),
                "published": self.published,
                "dropped": self.dropped,
            },
        )


def _internal(channel: str) -> bool:
    return channel.startswith(CHANNEL_PREFIX + INTERNAL_PREFIX)
