"""What one invocation may use. Each limit has its own error code (see ``outcome.py``)."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Limits:
    cpu_ms: int = 1_000
    """CPU time of the invocation's JavaScript turns (the host thread's), summed. One
    synchronous turn that uses more cannot be interrupted, so the supervisor kills the host that
    runs it."""
    wall_ms: int = 30_000
    output_bytes: int = 1 << 20
    log_bytes: int = 1 << 20
    log_lines: int = 10_000
    timers: int = 1_000
    """Timers pending at once (``setTimeout`` and ``setInterval`` together)."""
    subrequests: int = 50
    """Outbound ``fetch()`` calls per invocation, as Workers' free plan allows."""
    response_bytes: int = 32 << 20
    """Body of the Response a module function's ``fetch`` handler returns."""
    binding_calls: int = 1_000
    """Calls to bindings (KV operations) per invocation, as Workers allows KV operations."""
    memory_mb: int = 128
    """Memory the invocation's turns add to its host, as Workers give an isolate 128 MB; 0 for
    none (the host's limit still holds). Measured after each turn (growth.py): a run past it is
    ended, its host kept; one turn that allocates past the host's limit kills the host."""

    def to_json(self) -> dict[str, Any]:
        """The same dict for equal limits, to read, not to change: every run frame holds one,
        and building it anew was 4% of the server's time under load."""
        return _as_json(self)


@functools.lru_cache(maxsize=64)
def _as_json(limits: Limits) -> dict[str, Any]:
    return asdict(limits)
