"""``GET /health``: the pool as the original contract shows it, plus what operators need.

``status`` is ``healthy`` when every host is up and both backends answer; ``degraded`` (still
200: runs of code this node has cached keep working) when a host is missing or the store or the
log bus is unreachable; ``unhealthy`` (503) only when no host can run anything.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from vortex.http.keys import LOGBUS, POOL, REGISTRY
from vortex.http.responses import json_response

routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    stats = request.app[POOL].stats()
    storage, logbus = await asyncio.gather(
        request.app[REGISTRY].store.health(), request.app[LOGBUS].health()
    )
    if stats.active_workers == 0:
        status = "unhealthy"
    elif stats.active_workers < stats.max_workers or not (storage.ok and logbus.ok):
        status = "degraded"
    else:
        status = "healthy"
    return json_response(
        {
            "status": status,
            "active_workers": stats.active_workers,
            "max_workers": stats.max_workers,
            "spare_workers": stats.spare_workers,
            "running": stats.running,
            "host_restarts": stats.host_restarts,
            "host_recycles": stats.host_recycles,
            "storage": storage.to_json(),
            "logbus": logbus.to_json(),
        },
        status=503 if status == "unhealthy" else 200,
    )
