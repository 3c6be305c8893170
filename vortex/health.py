"""What a backend (store, log bus, KV, API keys) says about itself in ``GET /health``.

Its own module so that every backend can return it without importing the others or
``vortex.backends`` (which imports them all).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

PROBE_TIMEOUT = 3.0
"""Longer than any backend's own probe timeout; a load balancer's check must never hang."""


@dataclass(frozen=True, slots=True)
class BackendHealth:
    backend: str
    """``local`` or ``s3`` for the store; ``memory`` or ``redis`` for the log bus; ``sqlite`` or
    ``redis`` for the KV; ``local`` or ``redis`` for the API keys."""
    ok: bool
    error: str | None = None
    """Why ``ok`` is false, in words for an operator (no secrets)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Counters and facts of the backend (queue depths, drops, bucket), all JSON values."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"backend": self.backend, "ok": self.ok, **self.details}
        if self.error is not None:
            body["error"] = self.error
        return body


async def probe(backend: str, health: Awaitable[BackendHealth]) -> BackendHealth:
    """A backend's own answer, or an unhealthy one naming ``backend`` when it fails to give one:
    a probe that raises or hangs says the same as one that reports itself down."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return await health
    except TimeoutError:
        return BackendHealth(backend, False, f"no answer within {PROBE_TIMEOUT:g} s")
    except Exception as exc:
        return BackendHealth(backend, False, f"{type(exc).__name__}: {exc}")
