"""The scheduler's logic, on explicit times and on a fake clock."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from tests.cron.conftest import FakeClock
from vortex.cron import LocalTickLock, LockUnavailable, MemorySchedules, Scheduler
from vortex.cron.source import Schedules
from vortex.health import BackendHealth

A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def t(minutes: float = 0, seconds: float = 0) -> datetime:
    return NOON + timedelta(minutes=minutes, seconds=seconds)


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[str, datetime]] = []
        self.crons: list[tuple[str, datetime, str]] = []

    async def __call__(self, function_id: str, tick: datetime, cron: str) -> None:
        self.runs.append((function_id, tick))
        self.crons.append((function_id, tick, cron))


def make(schedules: dict[str, Schedules], **kwargs: object) -> tuple[Scheduler, Recorder]:
    recorder = Recorder()
    scheduler = Scheduler(MemorySchedules(schedules), LocalTickLock(), recorder, **kwargs)  # type: ignore[arg-type]
    return scheduler, recorder


async def test_each_tick_fires_once() -> None:
    scheduler, _ = make({A: "* * * * *"})
    assert await scheduler.check(t(0, 1)) == [(A, t(0))]  # start: a tick 1 s old is due
    assert await scheduler.check(t(0, 30)) == []
    assert await scheduler.check(t(0, 59)) == []
    assert await scheduler.check(t(1, 0)) == [(A, t(1))]
    assert await scheduler.check(t(1, 0.5)) == []
    assert scheduler.stats.fired == 2


async def test_a_new_schedule_starts_with_its_next_tick() -> None:
    source = MemorySchedules()
    recorder = Recorder()
    scheduler = Scheduler(source, LocalTickLock(), recorder)
    assert await scheduler.check(t(-1)) == []
    source.set(A, "* * * * *")
    assert await scheduler.check(t(0, 10)) == []  # the 12:00 tick is from before it was seen
    assert await scheduler.check(t(1, 0)) == [(A, t(1))]


async def test_a_changed_schedule_starts_again_after_now() -> None:
    source = MemorySchedules({A: "*/5 * * * *"})
    scheduler = Scheduler(source, LocalTickLock(), Recorder())
    assert await scheduler.check(t(0)) == [(A, t(0))]
    source.set(A, "* * * * *")
    assert await scheduler.check(t(2, 10)) == []
    assert await scheduler.check(t(3)) == [(A, t(3))]


async def test_a_restart_shorter_than_the_grace_loses_no_tick() -> None:
    scheduler, _ = make({A: "0 * * * *"}, grace=timedelta(seconds=60))
    assert await scheduler.check(t(0, 45)) == [(A, t(0))]


async def test_downtime_is_not_replayed_in_a_burst() -> None:
    # Every minute, first seen 5.5 minutes in: only the latest tick, and only if within grace.
    scheduler, _ = make({A: "* * * * *", B: "0 * * * *"}, grace=timedelta(seconds=60))
    assert await scheduler.check(t(5, 30)) == [(A, t(5))]  # not 12:00 to 12:04; B's 12:00 neither
    assert await scheduler.check(t(5, 40)) == []


async def test_a_stalled_loop_skips_old_ticks_and_runs_the_latest() -> None:
    scheduler, _ = make({A: "* * * * *"}, grace=timedelta(seconds=60))
    assert await scheduler.check(t(0, 1)) == [(A, t(0))]
    # The loop was blocked for minutes: only 12:03 runs, not 12:01 and 12:02 as well.
    assert await scheduler.check(t(3, 30)) == [(A, t(3))]
    assert await scheduler.check(t(10, 0.5)) == [(A, t(10))]


async def test_too_late_for_the_latest_tick_runs_nothing() -> None:
    scheduler, _ = make({A: "0 * * * *"}, grace=timedelta(seconds=60))
    assert await scheduler.check(t(-1)) == []
    assert await scheduler.check(t(2)) == []  # 12:00 seen 2 minutes late
    assert scheduler.stats.skipped == 1
    assert await scheduler.check(t(60)) == [(A, t(60))]


async def test_removed_and_invalid_schedules(caplog: pytest.LogCaptureFixture) -> None:
    source = MemorySchedules({A: "* * * * *", B: "not cron"})
    scheduler = Scheduler(source, LocalTickLock(), Recorder())
    with caplog.at_level(logging.ERROR, "vortex.cron"):
        assert await scheduler.check(t(0)) == [(A, t(0))]
        assert await scheduler.check(t(1)) == [(A, t(1))]
    assert "invalid schedule" in caplog.text
    assert caplog.text.count("invalid schedule") == 1  # said once, not on every pass
    assert B in scheduler.stats.invalid
    source.remove(A)
    source.remove(B)
    assert await scheduler.check(t(2)) == []
    assert scheduler.stats.schedules == 0 and scheduler.stats.invalid == {}


class FlakyLock:
    def __init__(self) -> None:
        self.down = False

    async def claim(self, function_id: str, tick: datetime) -> bool:
        if self.down:
            raise LockUnavailable("down")
        return True

    async def health(self) -> BackendHealth:
        return BackendHealth("flaky", not self.down)

    async def close(self) -> None:
        return None


async def test_lock_outage_waits_then_runs_once_or_skips(caplog: pytest.LogCaptureFixture) -> None:
    lock = FlakyLock()
    recorder = Recorder()
    scheduler = Scheduler(MemorySchedules({A: "* * * * *"}), lock, recorder)
    lock.down = True
    with caplog.at_level(logging.WARNING, "vortex.cron"):
        assert await scheduler.check(t(0, 1)) == []
        assert await scheduler.check(t(0, 2)) == []
        assert scheduler.next_wakeup(t(0, 2)) <= 1.0  # retries soon
        lock.down = False
        assert await scheduler.check(t(0, 10)) == [(A, t(0))]  # back within the grace
        assert await scheduler.check(t(0, 20)) == []
        lock.down = True
        assert await scheduler.check(t(1, 1)) == []
        assert await scheduler.check(t(2, 30)) == []  # 12:01 is past its grace: skipped
        lock.down = False
        assert await scheduler.check(t(3)) == [(A, t(3))]
    assert scheduler.stats.lock_errors == 4
    assert "unreachable" in caplog.text and "reachable again" in caplog.text


async def test_a_failing_run_is_logged_and_the_scheduler_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom(function_id: str, tick: datetime, cron: str) -> None:
        raise RuntimeError("the function failed")

    scheduler = Scheduler(MemorySchedules({A: "* * * * *"}), LocalTickLock(), boom)
    with caplog.at_level(logging.ERROR, "vortex.cron"):
        await scheduler.check(t(0))
        await asyncio.sleep(0)
        await scheduler.check(t(1))
        await asyncio.sleep(0)
    assert scheduler.stats.failed == 2 and scheduler.stats.fired == 2
    assert "the function failed" in caplog.text


async def test_the_loop_on_a_fake_clock() -> None:
    clock = FakeClock(t(0, 30))
    scheduler, recorder = make({A: "* * * * *", B: "*/5 * * * *"}, clock=clock)
    scheduler.start()
    try:
        await clock.advance(10 * 60)
    finally:
        await scheduler.stop()
    # Started at 12:00:30: 12:00 (30 s old, within grace) then every tick up to 12:10.
    assert [tick for fid, tick in recorder.runs if fid == A] == [t(m) for m in range(11)]
    assert [tick for fid, tick in recorder.runs if fid == B] == [t(0), t(5), t(10)]


async def test_the_loop_sleeps_until_the_next_tick() -> None:
    scheduler, _ = make({A: "0 * * * *"}, refresh=timedelta(hours=2))
    await scheduler.check(t(0, 1))
    assert scheduler.next_wakeup(t(30)) == pytest.approx(30 * 60, abs=0.1)
    scheduler.refresh = timedelta(seconds=15)
    assert scheduler.next_wakeup(t(30)) == pytest.approx(15, abs=0.1)


async def test_stop_cancels_a_run_that_does_not_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vortex.cron.scheduler.STOP_TIMEOUT", 0.05)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def forever(function_id: str, tick: datetime, cron: str) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    scheduler = Scheduler(MemorySchedules({A: "* * * * *"}), LocalTickLock(), forever)
    await scheduler.check(t(0))
    await started.wait()
    await scheduler.stop()
    assert cancelled.is_set()


async def test_several_schedules_each_fire_with_their_expression() -> None:
    clock = FakeClock(t(0, 30))
    scheduler, recorder = make({A: ("*/5 * * * *", "*/2  * * * *")}, clock=clock)
    scheduler.start()
    try:
        await clock.advance(10 * 60)
    finally:
        await scheduler.stop()
    by_cron: dict[str, list[datetime]] = {}
    for _, tick, cron in recorder.crons:
        by_cron.setdefault(cron, []).append(tick)
    # Spaces normalised; 12:00 and 12:10 are ticks of both, and both run.
    assert by_cron == {
        "*/5 * * * *": [t(0), t(5), t(10)],
        "*/2 * * * *": [t(m) for m in range(0, 11, 2)],
    }
    assert scheduler.stats.schedules == 2


class NamesClaimed(FlakyLock):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    async def claim(self, function_id: str, tick: datetime) -> bool:
        self.names.append(function_id)
        return True


async def test_one_schedule_claims_as_before_several_claim_each() -> None:
    lock = NamesClaimed()
    source = MemorySchedules({A: "0 * * * *"})
    scheduler = Scheduler(source, lock, Recorder())
    await scheduler.check(t(0))
    # One schedule: the lock key of nodes from before several were allowed.
    assert lock.names == [A]
    source.set(A, ("0 * * * *", "0 */2 * * *"))
    await scheduler.check(t(60))  # the new one starts after now
    await scheduler.check(t(120))
    assert lock.names[1:2] == [f"{A}:0 * * * *"]
    assert sorted(lock.names[2:]) == [f"{A}:0 * * * *", f"{A}:0 */2 * * *"]


async def test_one_invalid_schedule_of_several_leaves_the_others() -> None:
    scheduler, recorder = make({A: ("* * * * *", "nope")})
    await scheduler.check(t(0))
    await asyncio.sleep(0)
    assert recorder.crons == [(A, t(0), "* * * * *")]
    assert "nope" in scheduler.stats.invalid[A]
