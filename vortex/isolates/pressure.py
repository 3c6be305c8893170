"""A host near its memory limit ends the run that grows it most, itself, and goes on.

Each run has its own memory limit (128 MiB by default), but a host serves many runs at once: 16
concurrent requests to one function that keeps 32 MiB per turn (``for (;;) { keep.push(new
Uint8Array(32 << 20)); await null; }``) took a host past its limit (1 GiB) long before any one
of them reached its own, and the supervisor killed the host with every other run on it
(``host_restarts`` 2 in three such bursts; one neighbour's connection was cut).

The supervisor writes a ceiling below the host's limit into the turn clock
(``TurnClock.set_memory_ceiling``, ``SHED_FROM`` of the limit). Past it, the host ends runs
before the kill would: a turn that grows it past the ceiling is stopped by its interrupt's
memory tick (interrupt.py, ``HOST_MEMORY``), and after a turn that leaves it past the ceiling
the run charged the most (turnclock.py, growth.py) is ended, then the garbage collected; one
run at a time, the next once that collection has shown what is left, or sooner if the host
goes on growing meanwhile.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Container

from vortex.isolates.growth import GrowthWatch
from vortex.isolates.outcome import MEMORY_LIMIT_EXCEEDED
from vortex.isolates.turnclock import TurnClock

SHED_FROM = 0.8
"""Of the host's memory limit: where it begins ending runs itself (the supervisor recycles a
host at 0.75 of it, and kills it at the limit)."""
SHED_STEP = 1 / 32
"""Of the ceiling: how much more the host may grow while the collection after an ending is
pending before the next run is ended too (the runs still going add to it meanwhile)."""

Abort = Callable[[int, str, str], None]


def host_memory_message(charged: int) -> str:
    return (
        "Memory limit exceeded: the host running this function was near its memory limit, "
        f"and this run had grown it most (it had added {charged >> 20} MiB); it was ended so "
        "that the other runs on the host go on"
    )


class MemoryPressure:
    def __init__(
        self,
        clock: TurnClock,
        growth: GrowthWatch,
        active: Container[int],
        abort: Abort,
        collect: Callable[[], object] | None,
    ) -> None:
        self._clock = clock
        self._growth = growth
        self._active = active
        self._abort = abort
        self._collect = collect
        self._collecting = False
        self._shed_at = 0
        """The host's resident size at the last ending, while its collection is pending."""
        self.shed = 0
        """Runs ended for the host's memory, after their turns (the interrupt counts its own)."""

    def after_turn(self) -> None:
        """After every turn, with the host's memory measured by ``GrowthWatch.after_turn``: a
        comparison unless the host is past its ceiling."""
        ceiling = self._clock.memory_ceiling()
        if not ceiling or self._growth.last_resident <= ceiling:
            return
        resident = self._growth.resident()
        if resident <= ceiling:  # freed since that reading
            return
        if self._collecting and resident < self._shed_at + ceiling * SHED_STEP:
            return
        victim = self._growth.most_charged(self._active)
        if victim is None or self._growth.charged(victim) < ceiling * SHED_STEP:
            # Nobody running holds much of it (what ended runs left, say): the supervisor
            # recycles the host, or replaces it at its limit; no small run is ended for it.
            return
        self.shed += 1
        self._shed_at = resident
        self._abort(
            victim, MEMORY_LIMIT_EXCEEDED, host_memory_message(self._growth.charged(victim))
        )
        if self._collect is not None and not self._collecting:
            # Not in this turn: its run, which may not be the one ended, would pay for it.
            self._collecting = True
            asyncio.get_running_loop().call_soon(self._collected, context=contextvars.Context())

    def _collected(self) -> None:
        try:
            if self._collect is not None:
                self._collect()
        finally:
            self._collecting = False
