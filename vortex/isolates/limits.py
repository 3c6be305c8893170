"""What one invocation may use. Each limit has its own error code (see ``outcome.py``)."""

from __future__ import annotations

import functools
from typing import Any

import msgspec


class Limits(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Carried by every ``Run`` frame (protocol.py): an array of ten numbers on the pipe."""

    cpu_ms: int = 1_000
    """CPU time of the invocation's JavaScript turns (the host thread's), summed. The host
    interrupts a turn that reaches it (interrupt.py); one that goes on past the backstop (a
    native call that never returns to JavaScript) is stopped by killing its host."""
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
    none (the host's limit still holds). Measured after each turn (growth.py) and during a long
    one (interrupt.py): a run past it is ended, its host kept; a turn that goes on allocating
    past the backstop, or past the host's own limit, kills the host."""

    def to_json(self) -> dict[str, Any]:
        """The same dict for equal limits, to read, not to change: every run frame holds one,
        and building it anew was 4% of the server's time under load."""
        return _as_json(self)


CPU_GRACE_MS = 2_000
"""How long past its limit the supervisor lets a turn of a host that interrupts run before it
kills the host: the interrupt is taken when JavaScript runs again, and one native call (no
check inside) can run long. Within the run's memory limit such a call is bounded: sorting ten
million doubles (80 MB) takes ~1.1 s here, fifteen million 1.7 s, and with 250 ms of grace
the host was killed with every run on it (the client got no answer). Stopped by the interrupt
after the call, the run gets ``cpu_time_exceeded`` and its neighbours go on. A host stuck for
good is killed this much later."""
MEMORY_GRACE_BYTES = 128 << 20

MEMORY_OVER_GRACE_S = (CPU_GRACE_MS + 1_000) / 1000
"""How long a turn of a host that interrupts may stay past ``backstop_memory_bytes`` before the
supervisor kills the host: a turn that runs on is killed by the CPU backstop before this.
Past that size, one native call (no check inside) had allocated it: `'a'.repeat(1e8).split('')`
is an 800 MB array made in 1.7 s here; when the call returns, the host's interrupt ends the run
(``memory_limit_exceeded``) and its collection frees the memory. Killed at once, the host took
every run on it along. What one call can allocate is bounded by the host's ``RLIMIT_DATA``
(datalimit.py), and a host past its own memory limit is still killed at once."""


def backstop_cpu_ms(cpu_ms: int, interrupts: bool) -> float:
    """CPU time of one turn past which the supervisor kills its host. A host that interrupts
    its own turns stops them at ``cpu_ms``; the grace covers a late interrupt (a timer that
    fires on the kernel's tick, a busy machine) and only a turn that does not stop is killed."""
    return cpu_ms + max(CPU_GRACE_MS, cpu_ms / 2) if interrupts else cpu_ms


def backstop_memory_bytes(limit: int, interrupts: bool) -> int:
    """What a run may add to its host in one turn before the supervisor kills the host."""
    return limit + max(MEMORY_GRACE_BYTES, limit // 2) if interrupts else limit


@functools.lru_cache(maxsize=64)
def _as_json(limits: Limits) -> dict[str, Any]:
    return msgspec.structs.asdict(limits)
