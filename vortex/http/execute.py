"""Running a function and answering with its output, logs and time."""

from __future__ import annotations

import time
import uuid

import orjson
from aiohttp import web

from vortex.functions import iso_utc
from vortex.http.keys import LOGBUS, POOL, REGISTRY, RUNS
from vortex.http.responses import json_response
from vortex.ids import parse_function_id
from vortex.isolates.outcome import LogEntry
from vortex.runs import RunSummary

routes = web.RouteTableDef()


@routes.post("/execute/{function_id:[^/]+}")
async def execute(request: web.Request) -> web.Response:
    function_id = parse_function_id(request.match_info["function_id"])
    record, code = await request.app[REGISTRY].load(function_id)
    # A client that tails the WebSocket names its run up front to tell its lines from others'.
    run_id = request.headers.get("X-Vortex-Run-Id") or str(uuid.uuid4())
    run_id = run_id[:64]
    bus = request.app[LOGBUS]

    def on_log(entry: LogEntry) -> None:
        bus.publish(function_id, orjson.dumps({**entry, "run_id": run_id}))

    started_at = time.time()
    outcome = await request.app[POOL].invoke(code, on_log=on_log, filename=record.filename)
    execution_time_ms = round(outcome.duration_ms, 3)
    request.app[RUNS].record(
        function_id,
        RunSummary(
            run_id=run_id,
            at=iso_utc(started_at),
            ok=outcome.error is None,
            execution_time_ms=execution_time_ms,
            error_code=outcome.error["code"] if outcome.error else None,
        ),
    )
    body: dict[str, object] = {
        "output": orjson.Fragment(outcome.output_json) if outcome.output_json else None,
        "logs": outcome.logs,
        "execution_time_ms": execution_time_ms,
        "cpu_time_ms": outcome.cpu_ms,
        "run_id": run_id,
    }
    headers = {}
    if outcome.error is not None:
        body["error"] = outcome.error
        headers["X-Vortex-Error"] = outcome.error["code"]
    return json_response(body, headers=headers)
