"""Past its memory ceiling a host ends the running run charged the most, and only a run that
holds a real share of it (pressure.py); the collection after an ending waits for a turn of its
own, charged to no run."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

from vortex.isolates.growth import GrowthWatch
from vortex.isolates.pressure import SHED_STEP, MemoryPressure
from vortex.isolates.turnclock import TurnClock

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB_PAGES = (1 << 20) // PAGE


async def test_the_run_charged_most_is_ended_once_past_the_ceiling(tmp_path: Path) -> None:
    clock = TurnClock(tmp_path / "clock", create=True)
    statm = tmp_path / "statm"
    statm.write_text("0 0 0 0 0 0 0\n")
    faults = itertools.count()
    growth = GrowthWatch(clock, str(statm), lambda: next(faults))
    active = {1, 2, 3}
    ended: list[tuple[int, str]] = []
    collections: list[int] = []

    def abort(run: int, code: str, _message: str) -> None:
        ended.append((run, code))
        active.discard(run)  # as the harness ends it

    pressure = MemoryPressure(clock, growth, active, abort, lambda: collections.append(1))
    clock.set_memory_ceiling(800 << 20)

    def turn(invocation: int, mib: int) -> None:
        statm.write_text(f"999999 {mib * MIB_PAGES} 10 10 0 100 0\n")
        growth.after_turn(invocation, active, always=True)
        pressure.after_turn()

    turn(1, 100)  # the baseline
    turn(1, 450)  # run 1: +350 MiB
    turn(2, 700)  # run 2: +250 MiB
    turn(3, 720)  # run 3: +20 MiB
    assert ended == []  # below the ceiling
    turn(3, 810)  # run 3 takes it past: +110 MiB, yet run 1 holds the most (350)
    assert ended == [(1, "memory_limit_exceeded")]
    assert pressure.shed == 1
    turn(2, 812)  # past it still, but the collection after the ending has not run yet
    assert len(ended) == 1
    turn(2, 812 + int(800 * SHED_STEP) + 1)  # grew on meanwhile by a step: the next one
    assert ended[-1][0] == 2
    await asyncio.sleep(0)  # the collection's own turn
    assert collections == [1]
    growth.close()
    clock.close()


async def test_no_small_run_is_ended_for_memory_nobody_running_holds(tmp_path: Path) -> None:
    clock = TurnClock(tmp_path / "clock", create=True)
    statm = tmp_path / "statm"
    statm.write_text("0 0 0 0 0 0 0\n")
    faults = itertools.count()
    growth = GrowthWatch(clock, str(statm), lambda: next(faults))
    active = {1}
    ended: list[int] = []
    pressure = MemoryPressure(
        clock, growth, active, lambda run, _code, _message: ended.append(run), None
    )
    clock.set_memory_ceiling(800 << 20)
    statm.write_text(f"999999 {900 * MIB_PAGES} 10 10 0 100 0\n")  # what ended runs left
    growth.after_turn(1, active, always=True)
    for mib in (901, 905):
        statm.write_text(f"999999 {mib * MIB_PAGES} 10 10 0 100 0\n")
        growth.after_turn(1, active, always=True)
        pressure.after_turn()
    assert ended == []  # 5 MiB is no share of it: the supervisor's recycling deals with it
    growth.close()
    clock.close()
