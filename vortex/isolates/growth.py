"""How much each run grew its host, measured turn by turn: for the memory limit of a run, and
for the supervisor to know whom to blame when the host is too big (turnclock.py).

After each turn, the growth of the host's resident memory since the end of the previous turn is
charged to the turn's run (it may be negative: a collection in its turn freed memory). Time
between turns belongs to nobody, but little is allocated there (frames, timers). A reading costs
a microsecond or two, so it is taken only while runs have a memory limit or the supervisor
watches, and only after a turn in which the thread took new pages (a page fault: counted by
``getrusage``, half the cost); the memory freed in a turn that took none is credited later.

Memory freed outside a run's turns (by a collection in another run's turn, or SpiderMonkey's
background finalization) is credited to whoever's turn is measured next, so a run that
allocates and drops big buffers could gather charges it freed long ago. A run is therefore never
charged more than the host grew since its first measured turn: it cannot hold more than that.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Container

from vortex.isolates.turnclock import NO_INVOCATION, TurnClock

_PAGE = os.sysconf("SC_PAGE_SIZE")
_KEPT = 4096
"""Runs remembered at most; past that, those no longer running are forgotten."""


class GrowthWatch:
    def __init__(
        self,
        clock: TurnClock,
        statm: str = "/proc/self/statm",
        page_faults: Callable[[], int] = lambda: (
            resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        ),
    ) -> None:
        self.clock = clock
        self._page_faults = page_faults
        self._statm = os.open(statm, os.O_RDONLY)
        self._growth: dict[int, int] = {}
        """Per run: the sum of its turns' growth."""
        self._start: dict[int, int] = {}
        """Per run: the host's resident size before its first measured turn."""
        self._charged: dict[int, int] = {}
        """Per run: what it is charged, the lesser of its sum and the host's growth since."""
        self._last = 0
        self._faults = -1
        self._top = NO_INVOCATION
        self._on_behalf = NO_INVOCATION

    def on_behalf_of(self, invocation: int) -> None:
        """The current turn, of no run, works for ``invocation``: it reads the run's WebSocket,
        and what it takes (the frames, the message and its copy) is the run's. Unseen, a run that
        kept the client's messages grew its host past its limit: its own turns took no page."""
        self._on_behalf = invocation

    def after_turn(self, invocation: int, active: Container[int], always: bool) -> int | None:
        """Charge the turn's growth to its run; returns the run's total so far, if measured.
        ``always`` measures whether or not the supervisor watches (runs with a memory limit)."""
        if invocation == NO_INVOCATION and self._on_behalf != NO_INVOCATION:
            invocation, self._on_behalf = self._on_behalf, NO_INVOCATION
        if not (always or self.clock.watching_memory()):
            if self._last:
                self._growth.clear()
                self._start.clear()
                self._charged.clear()
                self._last, self._faults, self._top = 0, -1, NO_INVOCATION
                self.clock.name_grower(NO_INVOCATION)
            return None
        faults = self._page_faults()
        if faults == self._faults:
            return self._charged.get(invocation)
        self._faults = faults
        resident = self.resident()
        previous, self._last = self._last, resident
        if not previous or invocation == NO_INVOCATION:
            return None  # the first reading is the baseline; turns of no run are nobody's
        start = self._start.setdefault(invocation, previous)
        total = self._growth.get(invocation, 0) + resident - previous
        self._growth[invocation] = total
        charged = self._charged[invocation] = min(total, resident - start)
        if self._top not in active or charged > self._charged.get(self._top, 0):
            self._top = invocation
            self.clock.name_grower(invocation)
        if len(self._growth) > _KEPT:
            for table in (self._growth, self._start, self._charged):
                for run in [run for run in table if run not in active]:
                    del table[run]
        return charged

    def before_turn(self, invocation: int) -> tuple[int, int]:
        """(the host's resident size at the last reading, what ``invocation`` is charged): for
        the supervisor to watch a turn that never ends (turnclock.py)."""
        return self._last, self._charged.get(invocation, 0)

    def measure_again(self, invocation: int) -> int | None:
        """After a collection, between turns: what ``invocation`` is charged now (what was
        freed is credited to it)."""
        if not self._last or invocation not in self._charged:
            return None
        self._faults = self._page_faults()
        resident = self.resident()
        previous, self._last = self._last, resident
        total = self._growth[invocation] = self._growth[invocation] + resident - previous
        charged = self._charged[invocation] = min(total, resident - self._start[invocation])
        return charged

    @property
    def last_resident(self) -> int:
        """The host's resident size at the last reading (0: none since it stopped measuring)."""
        return self._last

    def charged(self, invocation: int) -> int:
        return self._charged.get(invocation, 0)

    def most_charged(self, active: Container[int]) -> int | None:
        """The running run charged the most, if any is charged anything."""
        running = [(charged, run) for run, charged in self._charged.items() if run in active]
        best = max(running, default=None)
        return best[1] if best is not None and best[0] > 0 else None

    def resident(self) -> int:
        """The host's resident size now, in bytes."""
        return int(os.pread(self._statm, 64, 0).split()[1]) * _PAGE

    def close(self) -> None:
        os.close(self._statm)
