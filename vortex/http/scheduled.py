"""``POST /functions/{id or name}/scheduled``: run a module function's ``scheduled`` handler (a
service-worker script's ``scheduled`` listeners) once, now, as a cron tick would (Workers'
"trigger scheduled event", ``wrangler dev --test-scheduled``), and answer as ``POST /execute``
does.

The run is started by ``vortex.scheduled`` like a tick's, with the trigger ``"scheduled"`` in the
history so that a run on demand is never taken for the schedule having fired.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from vortex.errors import InvalidRequest, NotAModule
from vortex.http.execute import run_answer
from vortex.http.invocation import run_id_of
from vortex.http.keys import REGISTRY, RUNS
from vortex.http.lookup import resolve
from vortex.http.responses import read_json_object, refuse_unknown_fields
from vortex.scheduled import ON_DEMAND_TRIGGER, start_scheduled
from vortex.serviceworker import takes_events

routes = web.RouteTableDef()

MAX_CRON_CHARS = 256
MAX_TIME_MS = 8_640_000_000_000_000
"""The latest instant a JavaScript Date can hold."""


def _event_values(body: dict[str, Any], schedule: str | None) -> tuple[str, int]:
    refuse_unknown_fields(body, ("cron", "scheduledTime"), "a scheduled event")
    # Like wrangler's /__scheduled?cron=, any text is taken: the event only reports it.
    cron = body.get("cron", schedule or "")
    if not isinstance(cron, str) or len(cron) > MAX_CRON_CHARS:
        raise InvalidRequest(f'"cron" must be a string of at most {MAX_CRON_CHARS} characters')
    at = body.get("scheduledTime")
    if at is None:
        return cron, int(time.time() * 1000)
    if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= MAX_TIME_MS:
        raise InvalidRequest('"scheduledTime" must be milliseconds since the epoch (an integer)')
    return cron, at


@routes.post("/functions/{function_id:[^/]+}/scheduled")
async def run_scheduled(request: web.Request) -> web.Response:
    record, code = await request.app[REGISTRY].code_of(await resolve(request))
    if not takes_events(code):
        ref = record.name or record.id
        raise NotAModule(
            f"{ref} is a script, which has no scheduled handler: a tick of its schedule runs "
            f"the whole script, as POST /execute/{ref} (vortex run) does now (a script in "
            f"service-worker syntax would call addEventListener('scheduled', ...))",
            function_id=record.id,
        )
    cron, scheduled_time_ms = _event_values(
        await read_json_object(request, required=False), record.schedule
    )
    started = await start_scheduled(
        request.app[RUNS],
        record,
        code,
        run_id_of(request),
        cron=cron,
        scheduled_time_ms=scheduled_time_ms,
        trigger=ON_DEMAND_TRIGGER,
    )
    return await run_answer(request, record, started)
