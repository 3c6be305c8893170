"""The supervisor's backstop: what it reads of a host from outside (``/proc``, the turn clock) to
stop a turn its host did not stop itself, by killing the host.

A host stops its own runaways (interrupt.py); a turn that does not take its interrupt (a native
call stuck, a host that cannot interrupt) is found here by the pool's watchdog, past the grace
``limits.backstop_cpu_ms`` / ``backstop_memory_bytes`` allow a host that interrupts.
"""

from __future__ import annotations

import os

from vortex.isolates.host_process import HostProcess
from vortex.isolates.limits import (
    MEMORY_OVER_GRACE_S,
    Limits,
    backstop_cpu_ms,
    backstop_memory_bytes,
)
from vortex.isolates.outcome import CPU_TIME_EXCEEDED, MEMORY_LIMIT_EXCEEDED, WALL_TIME_EXCEEDED
from vortex.isolates.turnclock import NO_INVOCATION

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> float | None:
    """CPU time of a host's main thread (where its JavaScript runs), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/task/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def run_past_its_memory_in_a_turn(
    host: HostProcess, invocation: int, started: float, now: float
) -> bool:
    """Kill ``host`` if the run in its turn (begun at ``started``) is past its own memory
    limit: a run between turns is ended by its host (growth.py), one in a turn that does not
    end cannot be. A host that interrupts has ``MEMORY_OVER_GRACE_S`` to end the turn itself.
    True if it was killed."""
    pending = host.runs.get(invocation)
    limit = (pending.limits.memory_mb if pending else 0) << 20
    if not limit:
        return False
    turn_invocation, resident_before, charged_before = host.clock.read_turn_memory()
    if turn_invocation != invocation or not resident_before:
        return False
    charged = charged_before + rss_bytes(host.pid) - resident_before
    if charged <= backstop_memory_bytes(limit, host.interrupts):
        return False
    if host.interrupts:
        over = host.memory_over_since
        if over is None or over[0] != started:
            host.memory_over_since = (started, now)
            return False
        if now - over[1] < MEMORY_OVER_GRACE_S:
            return False
    host.kill(
        MEMORY_LIMIT_EXCEEDED,
        f"Memory limit of {limit >> 20} MiB per run exceeded in one turn (it had added "
        f"{charged >> 20} MiB to the host); the host was replaced",
        invocation,
    )
    return True


def turn_overran(
    host: HostProcess,
    defaults: Limits,
    now: float,
    started: float,
    invocation: int,
    cpu_started: float,
) -> bool:
    """Kill ``host`` if its current turn used more CPU than the limit (or, descheduled or
    blocked, outlived the whole wall limit). True if it was killed."""
    pending = host.runs.get(invocation)
    limits = pending.limits if pending else defaults
    wall_ms = (now - started) * 1000
    cpu_ms = backstop_cpu_ms(limits.cpu_ms, host.interrupts)
    # CPU time never exceeds wall time: /proc is read only for a turn that might be over.
    if wall_ms <= cpu_ms:
        return False
    cpu = thread_cpu_seconds(host.pid)
    culprit = None if invocation == NO_INVOCATION else invocation
    # /proc counts in clock ticks: a turn may show up to one tick less than it used.
    if cpu is not None and (cpu - cpu_started) * 1000 > cpu_ms:
        if pending is not None:
            # The host dies with the turn: this is all the run's CPU anyone will know of.
            pending.cpu_ms_at_kill = round((cpu - cpu_started) * 1000, 3)
        host.kill(
            CPU_TIME_EXCEEDED,
            f"CPU time limit of {limits.cpu_ms} ms exceeded by one synchronous turn; "
            "the host process running it was replaced",
            culprit,
        )
        return True
    if wall_ms > limits.wall_ms:
        host.kill(
            WALL_TIME_EXCEEDED,
            f"Wall time limit of {limits.wall_ms} ms exceeded by one synchronous turn; "
            "the host process running it was replaced",
            culprit,
        )
        return True
    return False
