"""The host names the run that grew it most, only while the supervisor asks it to watch."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from vortex.isolates.growth import GrowthWatch
from vortex.isolates.turnclock import NO_INVOCATION, TurnClock

PAGE = os.sysconf("SC_PAGE_SIZE")


def test_the_run_that_grew_the_host_most_is_named(tmp_path: Path) -> None:
    clock = TurnClock(tmp_path / "clock", create=True)
    statm = tmp_path / "statm"
    statm.write_text("0 0 0 0 0 0 0\n")
    faults = itertools.count()  # every turn took new pages
    watch = GrowthWatch(clock, str(statm), lambda: next(faults))

    def turn(invocation: int, resident_pages: int, active: set[int]) -> None:
        statm.write_text(f"999999 {resident_pages} 10 10 0 100 0\n")
        watch.after_turn(invocation, active, always=False)

    turn(1, 1000, {1, 2})
    assert clock.grower() == NO_INVOCATION  # not watching: nothing is read
    clock.watch_memory(True)
    turn(1, 1000, {1, 2})  # the baseline
    turn(1, 1010, {1, 2})
    assert clock.grower() == 1
    turn(2, 1110, {1, 2})
    turn(NO_INVOCATION, 1500, {1, 2})  # between runs: nobody's
    turn(1, 1530, {1, 2})
    assert clock.grower() == 2  # 100 pages against 40
    turn(1, 1531, {1})  # run 2 has ended: it can no longer be blamed
    assert clock.grower() == 1
    clock.watch_memory(False)
    turn(1, 1600, {1})
    assert clock.grower() == NO_INVOCATION
    watch.close()
    clock.close()


def test_a_supervisor_sees_what_the_host_writes(tmp_path: Path) -> None:
    supervisor = TurnClock(tmp_path / "clock", create=True)
    host = TurnClock(tmp_path / "clock")
    supervisor.watch_memory(True)
    assert host.watching_memory()
    host.name_grower(42)
    assert supervisor.grower() == 42
    host.enter(1.0, 7, 0.5)
    assert supervisor.read() == (1.0, 7, 0.5) and supervisor.grower() == 42
    host.close()
    supervisor.close()


def test_a_turn_that_took_no_new_page_is_not_measured(tmp_path: Path) -> None:
    clock = TurnClock(tmp_path / "clock", create=True)
    statm = tmp_path / "statm"
    statm.write_text("0 1000 0 0 0 0 0\n")
    faults = [0]
    watch = GrowthWatch(clock, str(statm), lambda: faults[0])
    assert watch.after_turn(1, {1}, always=True) is None  # the baseline
    faults[0] += 1
    statm.write_text("0 1100 0 0 0 0 0\n")
    assert watch.after_turn(1, {1}, always=True) == 100 * PAGE
    statm.write_text("0 1500 0 0 0 0 0\n")  # grown by another thread: not this turn's doing
    assert watch.after_turn(1, {1}, always=True) == 100 * PAGE
    assert watch.after_turn(2, {1, 2}, always=True) is None
    faults[0] += 1
    statm.write_text("0 1400 0 0 0 0 0\n")
    assert watch.after_turn(2, {1, 2}, always=True) == 300 * PAGE
    watch.close()
    clock.close()


def test_a_run_is_never_charged_more_than_the_host_grew_since_it_began(tmp_path: Path) -> None:
    """A run that drops a big buffer and allocates another: the collection that frees the first
    happens in a neighbour's turn, which gets the credit; the run is still charged only what the
    host holds more since its first turn."""
    clock = TurnClock(tmp_path / "clock", create=True)
    statm = tmp_path / "statm"
    statm.write_text("0 1000 0 0 0 0 0\n")
    faults = itertools.count()
    watch = GrowthWatch(clock, str(statm), lambda: next(faults))

    def turn(invocation: int, resident_pages: int) -> int | None:
        statm.write_text(f"0 {resident_pages} 0 0 0 0 0\n")
        return watch.after_turn(invocation, {1, 2}, always=True)

    turn(2, 1000)  # the baseline
    for _ in range(5):
        assert turn(1, 1050) == 50 * PAGE  # a 50-page buffer, the one before it dropped
        turn(2, 1000)  # a collection in the neighbour's turn frees it
    watch.close()
    clock.close()
