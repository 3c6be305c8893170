"""Route changes across nodes: a deploy, rollback or delete on one node reaches the others' hosts
at once, not when their copies of the name expire (``POINTER_FRESH_FOR``).

Each node tells the others over the log bus (Redis pub/sub when several nodes share one; the
in-process bus alone, where nobody else listens), on a channel no function id can name. A node
that hears of a change forgets its copy of the name and makes its hosts ask again for every
hostname. The bus keeps nothing: a node cut off from Redis falls back to the caches' 1.5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable

import orjson

from vortex.functions import FunctionRegistry
from vortex.logbus.base import INTERNAL_PREFIX, LogBus, Subscription

log = logging.getLogger(__name__)

CHANNEL = INTERNAL_PREFIX + "routes"


class RouteChanges:
    def __init__(
        self, bus: LogBus, registry: FunctionRegistry, on_change: Callable[[], None]
    ) -> None:
        self._bus = bus
        self._registry = registry
        self._on_change = on_change
        self._node = uuid.uuid4().hex
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._subscription = await self._bus.subscribe(CHANNEL)
        self._task = asyncio.create_task(self._listen(self._subscription))
        self._registry.on_change.append(self.tell_others)

    def tell_others(self, namespace: str, name: str | None) -> None:
        change = {"node": self._node, "namespace": namespace, "name": name}
        self._bus.publish(CHANNEL, orjson.dumps(change))

    async def _listen(self, subscription: Subscription) -> None:
        async for message in subscription:
            try:
                change = orjson.loads(message)
                if change.get("type") == "notice":  # Redis gone or back: nothing to do
                    continue
                if change["node"] == self._node:
                    continue
                self._registry.forget(str(change["namespace"]), change.get("name"))
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.warning("ignored a malformed route change: %r", message[:200])
                continue
            self._on_change()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscription is not None:
            await self._subscription.close()
