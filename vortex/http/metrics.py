"""``GET /metrics``: Prometheus text format (see ``vortex.metrics``).

With API keys configured it takes a metrics key (``vortex keys create --metrics``): the series
name every namespace's function ids.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from vortex.health import BackendHealth
from vortex.http.keys import API_KEYS, CRON, KV_STORE, LOGBUS, METRICS, POOL, REGISTRY
from vortex.metrics import CONTENT_TYPE_LATEST, Snapshot

routes = web.RouteTableDef()


async def _health(component: str, probe: asyncio.Future[BackendHealth]) -> BackendHealth:
    try:
        return await probe
    except Exception as exc:
        # A probe that fails outright says the same as one that reports itself down.
        return BackendHealth(component, False, str(exc))


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    probes = {
        "storage": app[REGISTRY].store.health(),
        "logbus": app[LOGBUS].health(),
        "kv": app[KV_STORE].health(),
        "auth": app[API_KEYS].health(),
    }
    results = await asyncio.gather(
        *(_health(name, asyncio.ensure_future(probe)) for name, probe in probes.items())
    )
    stats = app[CRON].scheduler.stats
    cron = {
        "fired": stats.fired,
        "claimed_elsewhere": stats.claimed_elsewhere,
        "skipped": stats.skipped,
        "lock_errors": stats.lock_errors,
        "failed": stats.failed,
    }
    snapshot = Snapshot(
        pool=app[POOL].stats(), backends=dict(zip(probes, results, strict=True)), cron=cron
    )
    return web.Response(
        body=app[METRICS].render(snapshot), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )
