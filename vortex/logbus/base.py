"""The log bus: every log line of every run, fanned out to whoever tails that function.

Lines travel as ready-to-send JSON text. A subscriber that cannot keep up is dropped rather than
allowed to grow a buffer without bound; it learns why from ``Subscription.closed_reason``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from vortex.health import BackendHealth

INTERNAL_PREFIX = "~"
"""Channels of the platform itself (route changes: routechanges.py), never a function id's; their
subscribers are not counted as the tails ``/health`` reports."""


class Subscription(Protocol):
    closed_reason: str | None

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def close(self) -> None: ...


class LogBus(Protocol):
    def publish(self, function_id: str, line: bytes) -> None:
        """Never blocks a run: a backend with I/O queues the line (boundedly) and sends it later."""
        ...

    async def subscribe(self, function_id: str) -> Subscription: ...

    async def health(self) -> BackendHealth:
        """Answers from what the bus already knows: never waits on the network."""
        ...

    async def close(self) -> None: ...
