"""Cron triggers wired into the server: the scheduler runs with the app, and each tick it
claims runs the function's active version like any other run (logs on the bus, a history entry
with ``trigger: "cron"``, metrics). A module function gets ``scheduled(event, env, ctx)``; a
script simply runs (``vortex.scheduled``, which ``POST /functions/{ref}/scheduled`` uses too).
See docs/cron.md for the guarantees.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from vortex.backends import make_tick_lock
from vortex.cron.registry_source import RegistrySchedules
from vortex.cron.scheduler import Scheduler
from vortex.errors import FunctionNotFound
from vortex.http.keys import CRON, REGISTRY, RUNS, SETTINGS
from vortex.scheduled import epoch_ms, start_scheduled

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CronTriggers:
    scheduler: Scheduler
    source: RegistrySchedules
    enabled: bool

    def changed(self) -> None:
        """A deploy, rollback or delete on this node: look at the schedules again now."""
        self.source.forget()
        if self.enabled:
            self.scheduler.wake()


async def run_tick(app: web.Application, key: str, tick: datetime, cron: str) -> None:
    """``cron``: the expression that fired, the event's ``cron``."""
    registry = app[REGISTRY]
    try:
        record = await registry.by_history_key(key)
    except FunctionNotFound:
        return  # deleted since the schedules were read
    if cron not in record.schedules:
        return  # rolled back to, or redeployed as, a version without it
    record, code = await registry.code_of(record)
    started = await start_scheduled(
        app[RUNS],
        record,
        code,
        str(uuid.uuid4()),
        cron=cron,
        scheduled_time_ms=epoch_ms(tick),
    )
    await started.recorded


async def cron_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    refresh = timedelta(milliseconds=settings.cron_refresh_ms)
    # The listing is kept a little less than a refresh, so each refresh reads the store.
    source = RegistrySchedules(app[REGISTRY], fresh_for=refresh.total_seconds() * 0.9)
    lock = make_tick_lock(settings)

    async def run(key: str, tick: datetime, cron: str) -> None:
        await run_tick(app, key, tick, cron)

    triggers = CronTriggers(Scheduler(source, lock, run, refresh=refresh), source, settings.cron)
    app[CRON] = triggers
    if settings.cron:
        triggers.scheduler.start()
    yield
    await triggers.scheduler.stop()
    await lock.close()
