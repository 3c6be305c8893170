"""The cron scheduler: fires each due tick of each schedule once, across every node.

Each pass (``check``) reads the schedules from its source, and for each expression of each function
(a function may have several: each fires on its own) looks at the latest tick at or before now. A
tick that this node has not handled yet and that is at most ``grace`` old is claimed through the
``TickLock`` (in Redis with several nodes); the one node that wins the claim calls
``run(function_id, tick, expression)`` in a task of its own, so a slow run never delays other ticks.
Between passes the scheduler sleeps until the earliest next tick (or the refresh interval, to pick
up new schedules).

Missed ticks are never replayed in a burst. Only the *latest* tick is ever considered, and only
while it is at most ``grace`` old: after a pause of the event loop, a clock jump, or downtime of
every node, older ticks are skipped (and logged), and at most the latest one runs if it is still
recent. A node that starts considers ticks up to ``grace`` old, so a restart shorter than the
grace loses no tick (the lock stops it from running one that another node ran); a schedule that
appears or changes while the node runs starts with its next tick, never one from before it was
deployed.

When the lock store is unreachable the tick is not run (running it could run it twice): the
scheduler logs, tries the claim again on its next passes while the tick is within its grace, and
carries on with later ticks once the store is back. The guarantee is thus at most once per tick,
and exactly once whenever a node is up and can reach Redis within the grace; a node that dies
after claiming a tick and before running it loses that tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vortex.cron.clock import Clock, SystemClock
from vortex.cron.errors import InvalidCron, LockUnavailable
from vortex.cron.lock import TickLock
from vortex.cron.schedule import CronSchedule
from vortex.cron.source import Schedules, ScheduleSource, as_tuple

log = logging.getLogger(__name__)

RunCallback = Callable[[str, datetime, str], Awaitable[None]]
"""``(function id, tick, expression that fired)``."""

DEFAULT_GRACE = timedelta(seconds=60)
DEFAULT_REFRESH = timedelta(seconds=15)
RETRY_DELAY = 1.0
"""Seconds between claims of a tick while the lock store is unreachable."""
WAKE_MARGIN = 0.01
"""Sleeps end this long after a tick, so the pass that follows sees it as due."""
STOP_TIMEOUT = 5.0


@dataclass
class _Entry:
    schedule: CronSchedule
    handled_until: datetime
    """Ticks at or before this moment are done: run, claimed elsewhere, or skipped."""
    lock_name: str = ""
    """What its ticks are claimed under: the function id when it has one schedule (as before
    several were allowed, so nodes of both kinds claim the same key), else the id and the
    expression, so that two expressions firing in the same minute both run."""


@dataclass
class SchedulerStats:
    fired: int = 0
    """Ticks this node claimed and ran."""
    claimed_elsewhere: int = 0
    skipped: int = 0
    """Ticks never run: too old when seen, or the lock store was down for all of the grace."""
    lock_errors: int = 0
    failed: int = 0
    """Runs whose callback raised."""
    schedules: int = 0
    invalid: dict[str, str] = field(default_factory=dict)
    """Function id → the error of its schedule (of each invalid one, when several)."""


class Scheduler:
    def __init__(
        self,
        source: ScheduleSource,
        lock: TickLock,
        run: RunCallback,
        *,
        clock: Clock | None = None,
        grace: timedelta = DEFAULT_GRACE,
        refresh: timedelta = DEFAULT_REFRESH,
    ) -> None:
        self.source = source
        self.lock = lock
        self.run = run
        self.clock = clock or SystemClock()
        self.grace = grace
        self.refresh = refresh
        self.stats = SchedulerStats()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._known: Mapping[str, Schedules] = {}
        self._first_pass = True
        self._retrying = False
        self._lock_down = False
        self._runs: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    # -- one pass -------------------------------------------------------------------------------
    async def check(self, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Fire what is due at ``now``; the ticks this node fired (one per expression)."""
        now = now or self.clock.now()
        schedules = await self._schedules()
        self._sync(schedules, now)
        self._first_pass = False
        self._retrying = False
        fired: list[tuple[str, datetime]] = []
        for (function_id, expression), entry in list(self._entries.items()):
            tick = entry.schedule.latest_at_or_before(now)
            if tick <= entry.handled_until:
                continue
            if now - tick > self.grace:
                entry.handled_until = tick
                self.stats.skipped += 1
                log.warning(
                    "cron: skipped the tick %s of function %s: seen %.0f s late (grace %.0f s); "
                    "missed ticks are not replayed",
                    tick.isoformat(),
                    function_id,
                    (now - tick).total_seconds(),
                    self.grace.total_seconds(),
                )
                continue
            try:
                mine = await self.lock.claim(entry.lock_name, tick)
            except LockUnavailable as exc:
                # Not handled: claimed again on the next passes while still within the grace.
                self.stats.lock_errors += 1
                self._retrying = True
                self._note_lock_down(exc)
                continue
            self._note_lock_up()
            entry.handled_until = tick
            if not mine:
                self.stats.claimed_elsewhere += 1
                continue
            self.stats.fired += 1
            fired.append((function_id, tick))
            task = asyncio.create_task(
                self._run(function_id, tick, expression), name=f"vortex-cron-{function_id}"
            )
            self._runs.add(task)
            task.add_done_callback(self._runs.discard)
        return fired

    async def _schedules(self) -> Mapping[str, Schedules]:
        try:
            self._known = dict(await self.source.schedules())
        except Exception:
            # Keep firing what was known: a store outage must not stop schedules already seen.
            log.exception(
                "cron: could not read the schedules; using the %d known", len(self._known)
            )
        return self._known

    def _sync(self, schedules: Mapping[str, Schedules], now: datetime) -> None:
        wanted: dict[tuple[str, str], str] = {}
        for function_id, given in schedules.items():
            expressions = {" ".join(e.split()) for e in as_tuple(given)}
            several = len(expressions) > 1
            for expression in expressions:
                lock_name = f"{function_id}:{expression}" if several else function_id
                wanted[(function_id, expression)] = lock_name
        for key in set(self._entries) - set(wanted):
            del self._entries[key]
        errors: dict[str, list[str]] = {}
        for (function_id, expression), lock_name in wanted.items():
            entry = self._entries.get((function_id, expression))
            if entry is not None:
                entry.lock_name = lock_name
                continue
            try:
                schedule = CronSchedule.parse(expression)
            except InvalidCron as exc:
                errors.setdefault(function_id, []).append(exc.message)
                continue
            # At start, ticks up to the grace old are due (a short restart loses none); a new or
            # changed schedule starts after now (never a tick from before it existed).
            start = now - self.grace if self._first_pass else now
            self._entries[(function_id, expression)] = _Entry(schedule, start, lock_name)
        for function_id, messages in errors.items():
            message = "; ".join(sorted(messages))
            if self.stats.invalid.get(function_id) != message:
                log.error("cron: function %s has an invalid schedule: %s", function_id, message)
        self.stats.invalid = {f: "; ".join(sorted(m)) for f, m in errors.items()}
        self.stats.schedules = len(self._entries)

    def _note_lock_down(self, exc: Exception) -> None:
        if not self._lock_down:
            log.warning("cron: the tick lock store is unreachable, ticks wait for it: %s", exc)
            self._lock_down = True

    def _note_lock_up(self) -> None:
        if self._lock_down:
            log.warning("cron: the tick lock store is reachable again")
            self._lock_down = False

    async def _run(self, function_id: str, tick: datetime, expression: str) -> None:
        try:
            await self.run(function_id, tick, expression)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.stats.failed += 1
            log.exception("cron: the run of %s for %s failed", function_id, tick.isoformat())

    # -- the loop -------------------------------------------------------------------------------
    def next_wakeup(self, now: datetime) -> float:
        """Seconds until the next pass: the earliest next tick, the refresh, or a retry."""
        delay = self.refresh.total_seconds()
        for entry in self._entries.values():
            until = (entry.schedule.next_after(now) - now).total_seconds() + WAKE_MARGIN
            delay = min(delay, until)
        if self._retrying:
            delay = min(delay, RETRY_DELAY)
        return max(delay, WAKE_MARGIN)

    def wake(self) -> None:
        """Make a pass now (a schedule was just deployed here): its first tick is not missed
        for want of a refresh. Other nodes see it within ``refresh``."""
        self._woken.set()

    async def _sleep(self, seconds: float) -> None:
        sleeping = asyncio.ensure_future(self.clock.sleep(seconds))
        woken = asyncio.ensure_future(self._woken.wait())
        try:
            await asyncio.wait((sleeping, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeping, woken):
                task.cancel()
            self._woken.clear()

    async def run_forever(self) -> None:
        while True:
            now = self.clock.now()
            try:
                await self.check(now)
            except Exception:
                log.exception("cron: a scheduler pass failed")
            await self._sleep(self.next_wakeup(now))

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self.run_forever(), name="vortex-cron")

    async def stop(self) -> None:
        """Stop the loop; runs in flight get a moment to finish, then are cancelled."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._runs:
            _, pending = await asyncio.wait(set(self._runs), timeout=STOP_TIMEOUT)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
