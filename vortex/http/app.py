"""``create_app(settings)``: wires the pool, storage, log bus and routes into one application.

Each resource is opened and closed by its own ``cleanup_ctx`` entry, in dependency order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

from vortex.backends import make_logbus, make_store
from vortex.config import Settings
from vortex.functions import FunctionRegistry
from vortex.http import dashboard, execute, functions, health, tail, trigger
from vortex.http.keys import LOGBUS, POOL, REGISTRY, RUNS, SETTINGS, WEBSOCKETS
from vortex.http.middleware import json_errors
from vortex.isolates.pool import IsolatePool
from vortex.outbound.client import OutboundClient
from vortex.runs import RunLedger


async def _pool(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # Functions' fetch() runs here, in the server's I/O; the pool only gets the callable.
    fetcher = OutboundClient(
        allow_private=settings.fetch_allow_private,
        timeout_ms=settings.fetch_timeout_ms,
        max_response_bytes=settings.fetch_max_response_bytes,
    )
    await fetcher.start()
    pool = IsolatePool(
        settings.workers,
        spares=settings.spare_workers,
        limits=settings.limits,
        host_memory_bytes=settings.host_memory_mb << 20,
        fetcher=fetcher,
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


async def _registry(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = make_store(settings)
    app[REGISTRY] = FunctionRegistry(store, settings.code_cache_entries)
    yield
    await store.close()


async def _logbus(app: web.Application) -> AsyncIterator[None]:
    bus = make_logbus(app[SETTINGS])
    app[LOGBUS] = bus
    yield
    await bus.close()


async def _close_websockets(app: web.Application) -> None:
    open_sockets = app[WEBSOCKETS]
    for ws in tuple(open_sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    app = web.Application(middlewares=[json_errors], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[RUNS] = RunLedger()
    websockets: set[web.WebSocketResponse] = set()
    app[WEBSOCKETS] = websockets
    app.cleanup_ctx.extend([_registry, _logbus, _pool])
    app.on_shutdown.append(_close_websockets)
    for module in (functions, execute, health, tail, trigger):
        app.router.add_routes(module.routes)
    dashboard.add_routes(app)
    return app
