"""Starting a run of a deployed function from an HTTP request, shared by ``POST /execute`` and
the ``/fn/`` trigger: its log lines go to the log bus as they come, and when it ends it is
counted in the metrics and recorded in the invocation history. For module functions and
TypeScript scripts, positions in errors and logged stacks are mapped back to the uploaded files."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass

import orjson
from aiohttp import web

from vortex.functions import Code, history_key, iso_utc
from vortex.history.base import RunEntry, bounded_logs
from vortex.http.keys import HISTORY, KV_STORE, LOGBUS, METRICS, PENDING_RECORDS, POOL, SETTINGS
from vortex.isolates.exchange import HttpRequest
from vortex.isolates.invocation import Invocation
from vortex.isolates.outcome import LogEntry, RunOutcome
from vortex.kv.binding import kv_binding
from vortex.modules.bundle import ModuleBundle
from vortex.modules.script import BuiltScript
from vortex.modules.sourcemap import BUNDLE_NAME
from vortex.storage.base import FunctionRecord

log = logging.getLogger(__name__)

RECORD_WAIT = 0.5
"""How long ``POST /execute`` waits for its run to be in the history before answering, so that
``vortex run hello && vortex runs hello`` shows that run; a slow history delays no answer more."""


def run_id_of(request: web.Request) -> str:
    # A client that tails the WebSocket names its run up front to tell its lines from others'.
    return (request.headers.get("X-Vortex-Run-Id") or str(uuid.uuid4()))[:64]


@dataclass(frozen=True, slots=True)
class Started:
    invocation: Invocation
    run_id: str
    recorded: asyncio.Task[None]
    """Done once the run has ended and is in the history."""

    async def wait_recorded(self) -> None:
        await asyncio.wait((self.recorded,), timeout=RECORD_WAIT)


async def start(
    app: web.Application,
    function_id: str,
    record: FunctionRecord,
    code: Code,
    run_id: str,
    request: HttpRequest | None = None,
    *,
    trigger: str = "execute",
    scheduled: dict[str, object] | None = None,
) -> Started:
    """``request`` is what a module's ``fetch`` gets; ``scheduled`` (a cron tick's event) runs
    its ``scheduled`` handler instead. A script ignores both."""
    bus = app[LOGBUS]
    positions = code.positions if isinstance(code, ModuleBundle | BuiltScript) else None
    # A named function's lines also go to its name's channel: /ws/{name} tails every version.
    channels = (function_id,) if record.name is None else (function_id, history_key(record))

    def on_log(entry: LogEntry) -> None:
        if positions is not None:
            # In place: the same entry is kept in the run's logs.
            entry["message"] = positions.rewrite_text(entry["message"])
        line = orjson.dumps({**entry, "run_id": run_id})
        for channel in channels:
            bus.publish(channel, line)

    env = {**record.env, **record.secrets}
    pool = app[POOL]
    map_error = positions.rewrite_error if positions is not None else None
    # The KV namespace is the history key: a name's versions share their data.
    bindings = {"kv": kv_binding(app[KV_STORE], history_key(record))}
    if isinstance(code, ModuleBundle):
        if request is None and scheduled is None:
            raise ValueError("a module function needs a request or an event to run")
        invocation = await pool.start_invocation(
            code.script,
            on_log=on_log,
            filename=code.entry,
            kind="module",
            env=env,
            request=request,
            allow_hosts=record.allow_hosts,
            map_error=map_error,
            bindings=bindings,
            scheduled=scheduled,
            # The version's id names its code, env and KV namespace: one instance each.
            instance=record.id if app[SETTINGS].warm_instances else None,
            namespace=record.namespace,
        )
    elif isinstance(code, BuiltScript):
        # Frames in the built JavaScript are named as a module's are, and mapped back alike.
        invocation = await pool.start_invocation(
            code.script,
            on_log=on_log,
            filename=BUNDLE_NAME,
            env=env,
            allow_hosts=record.allow_hosts,
            map_error=map_error,
            bindings=bindings,
            namespace=record.namespace,
        )
    else:
        invocation = await pool.start_invocation(
            code,
            on_log=on_log,
            filename=record.filename,
            env=env,
            allow_hosts=record.allow_hosts,
            bindings=bindings,
            namespace=record.namespace,
        )
    started_at = time.time()

    async def finish() -> None:
        try:
            await record_outcome(await invocation.outcome)
        except Exception:
            # A run's answer never fails because its bookkeeping did.
            log.exception("could not record run %s of %s", run_id, function_id)

    async def record_outcome(outcome: RunOutcome) -> None:
        code_of_error = outcome.error["code"] if outcome.error else None
        app[METRICS].observe_run(function_id, code_of_error, outcome.duration_ms, outcome.cpu_ms)
        logs, truncated = bounded_logs(outcome.logs)
        entry = RunEntry(
            run_id=run_id,
            at=iso_utc(started_at),
            function_id=function_id,
            version=record.version,
            trigger=trigger,
            ok=outcome.error is None,
            error_code=code_of_error,
            execution_time_ms=round(outcome.duration_ms, 3),
            cpu_time_ms=outcome.cpu_ms,
            logs=logs,
            logs_truncated=truncated,
            error=outcome.error,
        )
        await app[HISTORY].record(history_key(record), entry)

    recorded = asyncio.create_task(finish())
    pending = app[PENDING_RECORDS]
    pending.add(recorded)
    recorded.add_done_callback(pending.discard)
    return Started(invocation, run_id, recorded)
