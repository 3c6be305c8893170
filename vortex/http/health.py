"""``GET /health``: the pool as the original contract shows it, plus what operators need.

``status`` is ``healthy`` when every host is up and every backend (store, log bus, KV, API keys)
answers; ``degraded`` (still 200: runs of code this node has cached keep working) when a host is
missing or a backend is unreachable; ``unhealthy`` (503) only when no host can run anything.

The route is public (load balancers send no key), so it names each backend and where it is
(Redis URLs without their credentials, as every backend reports them) and never counts or shows
API keys.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from vortex.backends import api_keys_backend, kv_backend
from vortex.health import BackendHealth, probe
from vortex.http.keys import API_KEYS, KV_STORE, LOGBUS, POOL, REGISTRY, SETTINGS
from vortex.http.responses import json_response

routes = web.RouteTableDef()

PRIVATE_DETAILS = frozenset({"keys"})
"""Facts a backend tells /metrics (which takes a key) but not this public route."""


def _public(health: BackendHealth) -> dict[str, Any]:
    return {k: v for k, v in health.to_json().items() if k not in PRIVATE_DETAILS}


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    stats = app[POOL].stats()
    backends = dict(
        zip(
            ("storage", "logbus", "kv", "auth"),
            await asyncio.gather(
                probe(settings.store, app[REGISTRY].store.health()),
                probe(settings.logbus, app[LOGBUS].health()),
                probe(kv_backend(settings), app[KV_STORE].health()),
                probe(api_keys_backend(settings), app[API_KEYS].health()),
            ),
            strict=True,
        )
    )
    if stats.active_workers == 0:
        status = "unhealthy"
    elif stats.active_workers < stats.max_workers or not all(b.ok for b in backends.values()):
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
            **{name: _public(backend) for name, backend in backends.items()},
        },
        status=503 if status == "unhealthy" else 200,
    )
