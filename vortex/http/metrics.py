"""``GET /metrics``: Prometheus text format (see ``vortex.metrics``).

With API keys configured it takes a metrics key (``vortex keys create --metrics``): the series
name every namespace's function ids.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from vortex import oplog
from vortex.backends import api_keys_backend, kv_backend
from vortex.health import probe
from vortex.http.keys import API_KEYS, CRON, KV_STORE, LOGBUS, METRICS, POOL, REGISTRY, SETTINGS
from vortex.metrics import CONTENT_TYPE_LATEST, Snapshot

routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    names = ("storage", "logbus", "kv", "auth")
    results = await asyncio.gather(
        probe(settings.store, app[REGISTRY].store.health()),
        probe(settings.logbus, app[LOGBUS].health()),
        probe(kv_backend(settings), app[KV_STORE].health()),
        probe(api_keys_backend(settings), app[API_KEYS].health()),
    )
    backends = dict(zip(names, results, strict=True))
    stats = app[CRON].scheduler.stats
    cron = {
        "fired": stats.fired,
        "claimed_elsewhere": stats.claimed_elsewhere,
        "skipped": stats.skipped,
        "lock_errors": stats.lock_errors,
        "failed": stats.failed,
    }
    snapshot = Snapshot(
        pool=app[POOL].stats(),
        backends=backends,
        cron=cron,
        log_lines_dropped=oplog.dropped_lines(),
    )
    return web.Response(
        body=app[METRICS].render(snapshot), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )
