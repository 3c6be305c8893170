"""``create_app(settings)``: wires the pool, storage, log bus, KV, API keys, metrics and routes
into one application.

Each resource is opened and closed by its own ``cleanup_ctx`` entry, in dependency order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

from vortex.backends import (
    make_api_keys,
    make_history,
    make_kv,
    make_logbus,
    make_rollups,
    make_sessions,
    make_store,
)
from vortex.config import Settings
from vortex.dataplane import DataPlane
from vortex.errors import VortexError
from vortex.functions import FunctionRegistry
from vortex.http import (
    assets,
    d1,
    dashboard,
    execute,
    functions,
    health,
    history,
    kv,
    metrics,
    openapi,
    scheduled,
    session,
    stats,
    tail,
    tester,
    trigger,
    versions,
)
from vortex.http.accesslog import access_log
from vortex.http.auth import is_loopback, require_api_key
from vortex.http.browsers import guard_browsers
from vortex.http.cron import cron_ctx
from vortex.http.headers import add_security_headers
from vortex.http.keys import (
    API_KEYS,
    AUTH_OPEN_WITHOUT_KEYS,
    DATA_PLANE,
    HEALTH_ERRORS,
    HISTORY,
    KV_STORE,
    LOGBUS,
    METRICS,
    PENDING_RECORDS,
    POOL,
    REGISTRY,
    ROLLUPS,
    RUNS,
    SESSIONS,
    SETTINGS,
    WEBSOCKETS,
)
from vortex.http.middleware import json_errors
from vortex.isolates.cgroups import HostCgroups
from vortex.isolates.dispatch import Dispatcher
from vortex.isolates.listener import FunctionsListener
from vortex.isolates.liveness import Liveness
from vortex.isolates.pool import IsolatePool
from vortex.metrics import Metrics
from vortex.outbound.client import OutboundClient
from vortex.rollups import RollupRecorder
from vortex.routechanges import RouteChanges
from vortex.runs import RunService

log = logging.getLogger(__name__)


async def _pool(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # Functions' fetch() runs here, in the server's I/O; the pool only gets the callable.
    fetcher = OutboundClient(
        allow_private=settings.fetch_allow_private,
        timeout_ms=settings.fetch_timeout_ms,
        max_response_bytes=settings.fetch_max_response_bytes,
        functions_domain=settings.functions_domain if settings.functions_port else "",
    )
    await fetcher.start()
    pool = IsolatePool(
        settings.workers,
        spares=settings.spare_workers,
        limits=settings.limits,
        host_memory_bytes=settings.host_memory_mb << 20,
        cgroups=HostCgroups.detect() if settings.host_cgroups else None,
        fetcher=fetcher,
        dedicated_hosts=settings.dedicated_hosts,
        host_max_runs=settings.host_max_runs,
        host_recycle_bytes=settings.host_recycle_bytes,
        host_wait=settings.host_wait_ms / 1000,
        liveness=Liveness(settings.host_ping_ms / 1000, settings.host_ping_timeout_ms / 1000),
    )
    try:
        await pool.start()
    except BaseException:
        await fetcher.close()
        raise
    app[POOL] = pool
    yield
    await pool.close()
    await fetcher.close()


async def _runs(app: web.Application) -> AsyncIterator[None]:
    """The run service, and the functions listener, whose runs it records."""
    settings = app[SETTINGS]
    runs = RunService(
        settings,
        app[POOL],
        app[REGISTRY],
        app[LOGBUS],
        app[HISTORY],
        app[KV_STORE],
        app[METRICS],
        app[ROLLUPS],
    )
    runs.pending = app[PENDING_RECORDS]
    app[RUNS] = runs
    plane = DataPlane(settings, runs, app[POOL], app[REGISTRY])
    app[DATA_PLANE] = plane
    app[REGISTRY].on_change.append(plane.routes_changed)
    app[REGISTRY].on_deploy.append(plane.warm)
    route_changes = None
    if settings.logbus == "redis":  # alone on the embedded bus, no other node can change routes
        route_changes = RouteChanges(app[LOGBUS], app[REGISTRY], plane.routes_changed)
        await route_changes.start()
    front_door: FunctionsListener | Dispatcher | None = None
    if settings.functions_port:
        app[POOL].listen(plane, plane.listen_frame())
        if settings.dedicated_hosts:
            # A connection goes to its namespace's host, known from its first request's head.
            front_door = FunctionsListener(
                settings.functions_listen_host,
                settings.functions_port,
                plane.pick_host,
                settings.functions_header_timeout_ms / 1000,
                pick_host_now=plane.pick_host_now,
                on_access=plane.log_access,
            )
        else:
            front_door = Dispatcher(
                settings.functions_listen_host,
                settings.functions_port,
                app[POOL].next_host,
                app[POOL].wait_for_host,
            )
            front_door.count_waiting(app[POOL].handoffs_waiting)
        await front_door.start()
    yield
    if route_changes is not None:
        await route_changes.close()
    if front_door is not None:
        await front_door.close()
    await runs.d1.close()


async def _registry(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = make_store(settings)
    registry = FunctionRegistry(store, settings.code_cache_entries, settings.assets_cache_bytes)
    app[REGISTRY] = registry
    # A missing index is rebuilt now rather than at the first listing; in the background, so
    # that a node starts (and serves) while S3 is still coming up: listings retry the rebuild.
    ready = asyncio.create_task(_ensure_index(registry))
    yield
    ready.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ready
    await store.close()


async def _ensure_index(registry: FunctionRegistry) -> None:
    try:
        await registry.index.ensure()
    except VortexError as exc:
        log.warning("index: not checked at start (%s); the first listing will", exc.message)


async def _logbus(app: web.Application) -> AsyncIterator[None]:
    bus = make_logbus(app[SETTINGS])
    app[LOGBUS] = bus
    yield
    await bus.close()


async def _api_keys(app: web.Application) -> AsyncIterator[None]:
    keys = make_api_keys(app[SETTINGS])
    app[API_KEYS] = keys
    sessions = make_sessions(app[SETTINGS], keys)
    app[SESSIONS] = sessions
    yield
    await sessions.close()
    await keys.close()


async def _kv(app: web.Application) -> AsyncIterator[None]:
    kv = make_kv(app[SETTINGS])
    app[KV_STORE] = kv
    yield
    await kv.close()


async def _history(app: web.Application) -> AsyncIterator[None]:
    history = make_history(app[SETTINGS])
    app[HISTORY] = history
    yield
    pending = app[PENDING_RECORDS]
    if pending:
        await asyncio.wait(pending, timeout=2.0)
    await history.close()


async def _rollups(app: web.Application) -> AsyncIterator[None]:
    recorder = RollupRecorder(make_rollups(app[SETTINGS]))
    recorder.start()
    app[ROLLUPS] = recorder
    yield
    pending = app[PENDING_RECORDS]
    if pending:  # runs still being recorded: their counts too
        await asyncio.wait(pending, timeout=2.0)
    await recorder.close()


async def _close_websockets(app: web.Application) -> None:
    open_sockets = app[WEBSOCKETS]
    for ws in tuple(open_sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    app = web.Application(
        # access_log outside everything: it logs the answer as sent. json_errors next: it
        # turns the other middlewares' refusals into JSON errors too.
        middlewares=[access_log, json_errors, guard_browsers, require_api_key],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[AUTH_OPEN_WITHOUT_KEYS] = settings.allow_unauthenticated or is_loopback(settings.host)
    app[HEALTH_ERRORS] = {}
    app[METRICS] = Metrics()
    websockets: set[web.WebSocketResponse] = set()
    app[WEBSOCKETS] = websockets
    app[PENDING_RECORDS] = set()
    # cron_ctx last: its runs need every other resource, and it stops before they close.
    app.cleanup_ctx.extend(
        [
            _api_keys,
            _registry,
            _logbus,
            _kv,
            _history,
            _rollups,
            _pool,
            _runs,
            cron_ctx,
        ]
    )
    app.on_shutdown.append(_close_websockets)
    app.on_response_prepare.append(add_security_headers)
    for module in (
        functions,
        assets,
        versions,
        history,
        stats,
        kv,
        d1,
        tester,
        execute,
        scheduled,
        health,
        tail,
        trigger,
        metrics,
        openapi,
        session,
    ):
        app.router.add_routes(module.routes)
    dashboard.add_routes(app)
    return app
