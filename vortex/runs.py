"""Running deployed functions: one service that ``POST /execute``, cron and the functions
listener all use.

A run started here is sent to a host by the supervisor (``start``); a run a host started for
its own listener is told of by the host (``adopt``, or ``record_unannounced`` for one that
needed nothing of the supervisor until it ended). Either way its log lines go to the log bus as
they come, and when it ends it is counted in the metrics and recorded in the invocation history.
For module functions and TypeScript scripts, positions in errors and logged stacks are mapped
back to the uploaded files. What a host needs to serve a function itself is a ``route_frame``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from vortex import oplog
from vortex.assets.binding import ASSETS_BINDING, assets_binding
from vortex.assets.manifest import Manifest
from vortex.config import Settings
from vortex.d1.binding import BINDING_PREFIX as D1_PREFIX
from vortex.d1.binding import d1_binding
from vortex.d1.service import D1
from vortex.errors import SecretsUnavailable
from vortex.functions import Code, FunctionRegistry, history_key, iso_utc, public_name
from vortex.history.base import RunEntry, RunHistory, bounded_logs
from vortex.isolates.bindings import Binding, Subrequests
from vortex.isolates.exchange import HttpRequest
from vortex.isolates.invocation import Invocation
from vortex.isolates.outcome import LogEntry, RunOutcome
from vortex.isolates.pool import IsolatePool
from vortex.isolates.protocol import AssetSpec, RouteSpec, RunRecord
from vortex.kv import KV
from vortex.kv.binding import kv_binding
from vortex.logbus.base import LogBus
from vortex.metrics import Metrics
from vortex.modules.bundle import ModuleBundle
from vortex.modules.script import BuiltScript
from vortex.modules.sourcemap import BUNDLE_NAME
from vortex.r2.binding import BINDING_PREFIX, r2_binding
from vortex.r2.service import R2, R2Limits
from vortex.rollups.recorder import RollupRecorder
from vortex.services.binding import service_binding, service_key
from vortex.serviceworker import is_service_worker
from vortex.storage.base import FunctionRecord

log = logging.getLogger(__name__)

LISTENER_TRIGGER = "http"
"""The trigger of a run the functions listener started (its history entries say so)."""
ON_DEMAND_SCHEDULED_TRIGGER = "scheduled"
"""A module's ``scheduled`` handler run on demand (``POST /functions/{ref}/scheduled``)."""
API_TRIGGERS = frozenset({"execute", ON_DEMAND_SCHEDULED_TRIGGER})
"""Runs an API request started: its access line (with the run id) stands for the run."""
RECORD_WAIT = 0.5
"""How long ``POST /execute`` waits for its run to be in the history before answering, so that
``vortex run hello && vortex runs hello`` shows that run; a slow history delays no answer more."""


@dataclass(frozen=True, slots=True)
class Started:
    invocation: Invocation
    run_id: str
    recorded: asyncio.Task[None]
    """Done once the run has ended and is in the history."""

    async def wait_recorded(self) -> None:
        await asyncio.wait((self.recorded,), timeout=RECORD_WAIT)


@dataclass(frozen=True, slots=True)
class _Shape:
    """How one function version runs: the same for every run of it."""

    script: str
    filename: str
    module: bool
    service_worker: bool
    env: dict[str, str]
    bindings: dict[str, Binding]
    map_error: Callable[[dict[str, Any]], dict[str, Any]] | None
    rewrite_log: Callable[[str], str] | None


def _check_secrets(record: FunctionRecord) -> None:
    """A function whose secrets cannot be read does not run without them."""
    if record.secrets_error is not None:
        raise SecretsUnavailable(
            f"function {record.id} cannot run: {record.secrets_error}", function_id=record.id
        )


class RunService:
    def __init__(
        self,
        settings: Settings,
        pool: IsolatePool,
        registry: FunctionRegistry,
        logbus: LogBus,
        history: RunHistory,
        kv: KV,
        metrics: Metrics,
        rollups: RollupRecorder,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.registry = registry
        self.logbus = logbus
        self.history = history
        self.kv = kv
        self.metrics = metrics
        self.rollups = rollups
        self.r2 = R2(registry.store, R2Limits.from_settings(settings))
        """The R2 buckets of every namespace, kept in the function store (docs/r2.md)."""
        self.d1 = D1.from_settings(settings)
        """The D1 databases of every namespace, SQLite files of the data directory (docs/d1.md)."""
        self.pending: set[asyncio.Task[None]] = set()
        """Runs being written to the history: awaited at shutdown so none is lost."""

    def _shape(self, record: FunctionRecord, code: Code) -> _Shape:
        positions = code.positions if isinstance(code, ModuleBundle | BuiltScript) else None
        # The KV namespace is the history key: a name's versions share their data.
        bindings = {"kv": kv_binding(self.kv, history_key(record))}
        assets = record.assets
        if assets is not None and assets.config.binding is not None:
            reader = self.registry.assets
            bindings[ASSETS_BINDING] = assets_binding(reader, record.namespace, assets)
        for name, bucket in record.r2_buckets.items():
            # Scoped by the server: the version's namespace and a bucket its deploy declared.
            bindings[BINDING_PREFIX + name] = r2_binding(self.r2, record.namespace, bucket)
        for name, database in record.d1_databases.items():
            bindings[D1_PREFIX + name] = d1_binding(self.d1, record.namespace, database)
        for name, target in record.services.items():
            bindings[service_key(name)] = service_binding(
                self, record, name, target, self.settings.fetch_max_response_bytes
            )
        if isinstance(code, ModuleBundle):
            script, filename, module = code.script, code.entry, True
        elif isinstance(code, BuiltScript):
            # Frames in the built JavaScript are named as a module's are, and mapped back alike.
            script, filename, module = code.script, BUNDLE_NAME, False
        else:
            script, filename, module = code, record.filename, False
        return _Shape(
            script=script,
            filename=filename,
            module=module,
            service_worker=not module and is_service_worker(code),
            env={**record.env, **record.secrets},
            bindings=bindings,
            map_error=positions.rewrite_error if positions is not None else None,
            rewrite_log=positions.rewrite_text if positions is not None else None,
        )

    def _on_log(
        self, record: FunctionRecord, shape: _Shape, run_id: str
    ) -> Callable[[LogEntry], None]:
        bus = self.logbus
        # A named function's lines also go to its name's channel: /ws/{name} tails every version.
        channels = (record.id,) if record.name is None else (record.id, history_key(record))
        rewrite = shape.rewrite_log

        def on_log(entry: LogEntry) -> None:
            if rewrite is not None:
                # In place: the same entry is kept in the run's logs.
                entry["message"] = rewrite(entry["message"])
            line = orjson.dumps({**entry, "run_id": run_id})
            for channel in channels:
                bus.publish(channel, line)

        return on_log

    def _instance(self, record: FunctionRecord) -> str | None:
        # The version's id names its code, env and KV namespace: one instance each.
        return record.id if self.settings.warm_instances else None

    async def start(
        self,
        record: FunctionRecord,
        code: Code,
        run_id: str,
        request: HttpRequest | None = None,
        *,
        trigger: str = "execute",
        scheduled: dict[str, object] | None = None,
        hops: int = 0,
        rpc: dict[str, Any] | None = None,
        subrequests: Subrequests | None = None,
        entrypoint: str | None = None,
        props: dict[str, Any] | None = None,
    ) -> Started:
        """``request`` is what a module's ``fetch`` gets (a service worker's ``fetch``
        listeners); ``scheduled`` (a cron tick's event) runs its ``scheduled`` handler instead.
        A plain script ignores both. ``entrypoint``: the module's export that gets ``request``
        or ``rpc`` (a service binding's named entrypoint), not its default export; ``props``:
        its ``ctx.props`` (a service binding's)."""
        _check_secrets(record)
        shape = self._shape(record, code)
        events = shape.module or shape.service_worker
        if events and request is None and scheduled is None and rpc is None:
            raise ValueError("a module function needs a request or an event to run")
        kind: Literal["script", "module", "service-worker"] = "script"
        if shape.module:
            kind = "module"
        elif shape.service_worker:
            kind = "service-worker"
        invocation = await self.pool.start_invocation(
            shape.script,
            on_log=self._on_log(record, shape, run_id),
            filename=shape.filename,
            kind=kind,
            env=shape.env,
            request=request if events else None,
            allow_hosts=record.allow_hosts,
            map_error=shape.map_error,
            bindings=shape.bindings,
            scheduled=scheduled if events else None,
            instance=self._instance(record) if events else None,
            namespace=record.namespace,
            hops=hops,
            rpc=rpc if shape.module else None,
            subrequests=subrequests,
            entrypoint=entrypoint if shape.module else None,
            props=props if shape.module else None,
        )
        recorded = self._track(invocation, record, run_id, trigger, time.time())
        return Started(invocation, run_id, recorded)

    def _track(
        self,
        invocation: Invocation,
        record: FunctionRecord,
        run_id: str,
        trigger: str,
        started_at: float,
    ) -> asyncio.Task[None]:
        async def finish() -> None:
            try:
                await self._record(record, run_id, trigger, started_at, await invocation.outcome)
            except Exception:
                # A run's answer never fails because its bookkeeping did.
                log.exception("could not record run %s of %s", run_id, record.id)

        recorded = asyncio.create_task(finish())
        self.pending.add(recorded)
        recorded.add_done_callback(self.pending.discard)
        return recorded

    async def _record(
        self,
        record: FunctionRecord,
        run_id: str,
        trigger: str,
        started_at: float,
        outcome: RunOutcome,
    ) -> None:
        code_of_error = outcome.error["code"] if outcome.error else None
        self.metrics.observe_run(
            record.id, code_of_error, outcome.duration_ms, outcome.cpu_ms, name=public_name(record)
        )
        self.rollups.observe(
            history_key(record),
            started_at,
            outcome.error is None,
            outcome.duration_ms,
            outcome.cpu_ms,
        )
        logs, truncated = bounded_logs(outcome.logs)
        entry = RunEntry(
            run_id=run_id,
            at=iso_utc(started_at),
            function_id=record.id,
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
        # An API request's run has its access line, and so has a listener request's (made by
        # the host at the request's end) unless its host died with it: then this line is all.
        if trigger not in API_TRIGGERS and (trigger != LISTENER_TRIGGER or outcome.host_gone):
            oplog.run_ended(
                trigger,
                record.name or record.id,
                record.version,
                record.id,
                run_id,
                code_of_error,
                outcome.duration_ms,
                outcome.cpu_ms,
            )
        await self.history.record(history_key(record), entry)

    # -- runs that hosts start for their own listener ---------------------------------------------
    async def route_frame(
        self, hostname_record: FunctionRecord, known: str | None, elsewhere: bool
    ) -> RouteSpec:
        """What a host needs to serve ``record``'s requests itself (``isolates.route``)."""
        record, code = await self.registry.code_of(hostname_record)
        files = None
        if record.assets is not None and known != record.id:
            loaded = await self.registry.assets.manifest(record.namespace, record.assets)
            files = loaded.files
        return self.route_spec(record, code, known, elsewhere, files)

    def route_spec(
        self,
        record: FunctionRecord,
        code: Code,
        known: str | None,
        elsewhere: bool,
        asset_files: Manifest | None = None,
    ) -> RouteSpec:
        """``route_frame`` of a record whose code (and asset manifest) is at hand. The
        manifest, as the code, is left out for a host that has this version (``known``)."""
        _check_secrets(record)
        shape = self._shape(record, code)
        assets = None
        if record.assets is not None:
            config = record.assets.config
            first = config.run_worker_first
            assets = AssetSpec(
                files=None if known == record.id else asset_files,
                binding=config.binding,
                not_found_handling=config.not_found_handling,
                html_handling=config.html_handling,
                run_worker_first=first if isinstance(first, bool) else list(first),
                headers=config.headers,
                redirects=config.redirects,
            )
        return RouteSpec(
            function_id=record.id,
            module=shape.module,
            service_worker=shape.service_worker,
            code=None if known == record.id else shape.script,
            filename=shape.filename,
            limits=self.pool.limits,
            env=shape.env,
            bindings={name: dict(b.describe) for name, b in shape.bindings.items()},
            instance=self._instance(record) or "",
            elsewhere=elsewhere,
            assets=assets,
        )

    def adopt(self, function_id: str, run_id: str, started_at: float) -> Invocation | None:
        """The supervisor's side of a run a host started for its listener, once the run needs
        it (a log line, a fetch, a binding call). The host was given the route moments ago, so
        the record and code are in the registry's memory; if they are not, None (the run's
        lines are then dropped, its fetches and calls refused)."""
        cached = self.registry.cached(function_id)
        if cached is None:
            return None
        record, code = cached
        shape = self._shape(record, code)
        invocation = Invocation(
            0,
            self.pool.limits,
            self._on_log(record, shape, run_id),
            record.allow_hosts,
            map_error=shape.map_error,
            bindings=shape.bindings,
        )
        self._track(invocation, record, run_id, LISTENER_TRIGGER, started_at)
        return invocation

    def record_unannounced(self, records: list[RunRecord]) -> None:
        """Listener runs that ended without needing the supervisor: only their records are
        left, recorded together (one task for a batch)."""
        found = []
        for run in records:
            cached = self.registry.cached(run.function_id)
            if cached is None:
                continue
            record, code = cached
            error = run.error
            if error is not None and isinstance(code, ModuleBundle | BuiltScript):
                error = code.positions.rewrite_error(error)
            outcome = RunOutcome(
                output_json=run.output,
                error=error,
                cpu_ms=run.cpu_ms,
                duration_ms=run.wall_ms,
            )
            found.append((record, run.run_id, run.ended_at - run.wall_ms / 1000, outcome))

        async def record_them() -> None:
            for record, run_id, started_at, outcome in found:
                try:
                    await self._record(record, run_id, LISTENER_TRIGGER, started_at, outcome)
                except Exception:
                    log.exception("could not record run %s of %s", run_id, record.id)

        if found:
            task = asyncio.create_task(record_them())
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
