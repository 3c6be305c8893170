"""A module function's ``scheduled`` handler, run once: by a cron tick (``vortex.http.cron``) or on
demand (``POST /functions/{ref}/scheduled``, ``vortex trigger``). Both start it here, so a run on
demand is the very run a tick makes, but for its event's values and its trigger in the history.
"""

from __future__ import annotations

from datetime import datetime

from vortex.functions import Code
from vortex.runs import ON_DEMAND_SCHEDULED_TRIGGER, RunService, Started
from vortex.storage.base import FunctionRecord

CRON_TRIGGER = "cron"
"""A tick of the function's schedule."""
ON_DEMAND_TRIGGER = ON_DEMAND_SCHEDULED_TRIGGER
"""The handler run on demand: told apart from ticks, so the history shows whether the schedule
itself fired."""


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def start_scheduled(
    runs: RunService,
    record: FunctionRecord,
    code: Code,
    run_id: str,
    *,
    cron: str,
    scheduled_time_ms: int,
    trigger: str = CRON_TRIGGER,
) -> Started:
    """Start the run: a module's ``scheduled(event, env, ctx)`` gets ``{cron, scheduledTime}``
    (the harness adds ``type`` and ``noRetry``); a script runs whole, as on a tick."""
    event: dict[str, object] = {"cron": cron, "scheduledTime": scheduled_time_ms}
    return await runs.start(record, code, run_id, trigger=trigger, scheduled=event)
