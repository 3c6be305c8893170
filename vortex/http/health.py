"""``GET /health``: the pool as the original contract shows it, plus what operators need."""

from __future__ import annotations

from aiohttp import web

from vortex.http.keys import POOL
from vortex.http.responses import json_response

routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    stats = request.app[POOL].stats()
    if stats.active_workers == 0:
        status = "unhealthy"
    elif stats.active_workers < stats.max_workers:
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
        },
        status=503 if status == "unhealthy" else 200,
    )
