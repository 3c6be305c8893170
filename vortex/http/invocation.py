"""Starting a run of a deployed function from an HTTP request, shared by ``POST /execute`` and
the ``/fn/`` trigger: its log lines go to the log bus as they come, it is recorded in the run
ledger when it ends, and for module functions positions in errors and logged stacks are mapped
back to the uploaded files."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from vortex.functions import Code, iso_utc
from vortex.http.keys import LOGBUS, POOL, RUNS
from vortex.isolates.exchange import HttpRequest
from vortex.isolates.invocation import Invocation
from vortex.isolates.outcome import LogEntry, RunOutcome
from vortex.modules.bundle import ModuleBundle
from vortex.runs import RunSummary
from vortex.storage.base import FunctionRecord


def run_id_of(request: web.Request) -> str:
    # A client that tails the WebSocket names its run up front to tell its lines from others'.
    return (request.headers.get("X-Vortex-Run-Id") or str(uuid.uuid4()))[:64]


@dataclass(frozen=True, slots=True)
class Started:
    invocation: Invocation
    run_id: str


async def start(
    app: web.Application,
    function_id: str,
    record: FunctionRecord,
    code: Code,
    run_id: str,
    request: HttpRequest | None = None,
) -> Started:
    bus = app[LOGBUS]
    positions = code.positions if isinstance(code, ModuleBundle) else None

    def on_log(entry: LogEntry) -> None:
        if positions is not None:
            # In place: the same entry is kept in the run's logs.
            entry["message"] = positions.rewrite_text(entry["message"])
        bus.publish(function_id, orjson.dumps({**entry, "run_id": run_id}))

    env = {**record.env, **record.secrets}
    pool = app[POOL]
    map_error = positions.rewrite_error if positions is not None else None
    if isinstance(code, ModuleBundle):
        if request is None:
            raise ValueError("a module function needs a request to run")
        invocation = await pool.start_invocation(
            code.script,
            on_log=on_log,
            filename=code.entry,
            kind="module",
            env=env,
            request=request,
            allow_hosts=record.allow_hosts,
            map_error=map_error,
        )
    else:
        invocation = await pool.start_invocation(
            code, on_log=on_log, filename=record.filename, env=env, allow_hosts=record.allow_hosts
        )
    started = Started(invocation, run_id)
    started_at = time.time()

    def record_run(future: Any) -> None:
        outcome: RunOutcome = future.result()
        app[RUNS].record(
            function_id,
            RunSummary(
                run_id=run_id,
                at=iso_utc(started_at),
                ok=outcome.error is None,
                execution_time_ms=round(outcome.duration_ms, 3),
                error_code=outcome.error["code"] if outcome.error else None,
            ),
        )

    invocation.outcome.add_done_callback(record_run)
    return started
