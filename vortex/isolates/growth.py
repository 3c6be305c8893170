"""Which run grew the host most, measured turn by turn while the supervisor asks (turnclock.py).

Reading the host's resident size costs a few microseconds, so it is done only while watching:
after each turn, the growth since the end of the previous one is charged to the turn's run.
Time between turns belongs to nobody, but little is allocated there (frames, timers).
"""

from __future__ import annotations

import os
from collections.abc import Container

from vortex.isolates.turnclock import NO_INVOCATION, TurnClock

_PAGE = os.sysconf("SC_PAGE_SIZE")
_KEPT = 4096
"""Runs remembered at most; past that, those no longer running are forgotten."""


class GrowthWatch:
    def __init__(self, clock: TurnClock, statm: str = "/proc/self/statm") -> None:
        self.clock = clock
        self._statm = os.open(statm, os.O_RDONLY)
        self._growth: dict[int, int] = {}
        self._last = 0
        self._top = NO_INVOCATION

    def after_turn(self, invocation: int, active: Container[int]) -> None:
        if not self.clock.watching_memory():
            if self._last:
                self._growth.clear()
                self._last, self._top = 0, NO_INVOCATION
                self.clock.name_grower(NO_INVOCATION)
            return
        resident = int(os.pread(self._statm, 64, 0).split()[1]) * _PAGE
        previous, self._last = self._last, resident
        if not previous or invocation == NO_INVOCATION:
            return  # the first reading is the baseline; turns of no run are nobody's
        total = self._growth.get(invocation, 0) + resident - previous
        self._growth[invocation] = total
        if self._top not in active or total > self._growth.get(self._top, 0):
            self._top = invocation
            self.clock.name_grower(invocation)
        if len(self._growth) > _KEPT:
            self._growth = {run: size for run, size in self._growth.items() if run in active}

    def close(self) -> None:
        os.close(self._statm)
