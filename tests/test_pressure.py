"""Past its memory ceiling a host ends the running run charged the most, and only a run that
holds a real share of it (pressure.py); the collection after an ending waits for a turn of its
own, charged to no run."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path
from typing import Any

from vortex.isolates.growth import GrowthWatch
from vortex.isolates.pressure import SHED_STEP, MemoryPressure
from vortex.isolates.turnclock import TurnClock

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB_PAGES = (1 << 20) // PAGE


class ShedHost:
    """A turn clock, a statm file and a GrowthWatch, as a host has them, with its pressure: the
    runs it ends leave ``active`` as the harness ends them."""

    def __init__(self, tmp_path: Path, active: set[int], collect: Any = None) -> None:
        self.clock = TurnClock(tmp_path / "clock", create=True)
        self.statm = tmp_path / "statm"
        self.statm.write_text("0 0 0 0 0 0 0\n")
        faults = itertools.count()
        self.growth = GrowthWatch(self.clock, str(self.statm), lambda: next(faults))
        self.active = active
        self.ended: list[tuple[int, str]] = []
        self.pressure = MemoryPressure(self.clock, self.growth, active, self._abort, collect)
        self.clock.set_memory_ceiling(800 << 20)

    def _abort(self, run: int, code: str, _message: str) -> None:
        self.ended.append((run, code))
        self.active.discard(run)

    def turn(self, invocation: int, mib: int) -> None:
        self.statm.write_text(f"999999 {mib * MIB_PAGES} 10 10 0 100 0\n")
        self.growth.after_turn(invocation, self.active, always=True)
        self.pressure.after_turn()

    def close(self) -> None:
        self.growth.close()
        self.clock.close()


async def test_the_run_charged_most_is_ended_once_past_the_ceiling(tmp_path: Path) -> None:
    collections: list[int] = []
    host = ShedHost(tmp_path, {1, 2, 3}, lambda: collections.append(1))
    ended, turn = host.ended, host.turn
    turn(1, 100)  # the baseline
    turn(1, 450)  # run 1: +350 MiB
    turn(2, 700)  # run 2: +250 MiB
    turn(3, 720)  # run 3: +20 MiB
    assert ended == []  # below the ceiling
    turn(3, 810)  # run 3 takes it past: +110 MiB, yet run 1 holds the most (350)
    assert ended == [(1, "memory_limit_exceeded")]
    assert host.pressure.shed == 1
    turn(2, 812)  # past it still, but the collection after the ending has not run yet
    assert len(ended) == 1
    turn(2, 812 + int(800 * SHED_STEP) + 1)  # grew on meanwhile by a step: the next one
    assert ended[-1][0] == 2
    await asyncio.sleep(0)  # the collection's own turn
    assert collections == [1]
    host.close()


async def test_no_small_run_is_ended_for_memory_nobody_running_holds(tmp_path: Path) -> None:
    host = ShedHost(tmp_path, {1})
    host.turn(1, 900)  # what ended runs left: the baseline
    for mib in (901, 905):
        host.turn(1, mib)
    assert host.ended == []  # 5 MiB is no share of it: the supervisor's recycling deals with it
    host.close()
