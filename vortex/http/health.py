"""``GET /health``: the pool as the original contract shows it, plus what operators need.

``status`` is ``healthy`` when every host is up and every backend (store, log bus, KV, API keys)
answers; ``degraded`` (still 200: runs of code this node has cached keep working) when a host is
missing or a backend is unreachable; ``unhealthy`` (503) only when no host can run anything.

The route is public (load balancers send no key). It never counts or shows API keys. Where
each backend is (a directory, a Redis URL without its credentials) and why one fails are shown
only while the server is single-tenant (no API keys, reached on loopback or by the operator's
leave): once it has keys, anyone can read this route, and those are a map of the operator's
machines; the server's log and ``/metrics`` (with a metrics key) keep them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from vortex.backends import api_keys_backend, kv_backend
from vortex.health import BackendHealth, probe
from vortex.http.keys import (
    API_KEYS,
    AUTH_OPEN_WITHOUT_KEYS,
    DATA_PLANE,
    HEALTH_ERRORS,
    KV_STORE,
    LOGBUS,
    POOL,
    REGISTRY,
    SETTINGS,
)
from vortex.http.responses import json_response

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

PRIVATE_DETAILS = frozenset({"keys"})
"""Facts a backend tells /metrics (which takes a key) but not this public route."""
LOCATION_DETAILS = frozenset(
    {"path", "url", "endpoint", "bucket", "error", "corrupt_record_paths", "free_bytes"}
)
"""Facts shown only to a single-tenant server's callers (see the module's docstring)."""


def _public(health: BackendHealth, *, open_server: bool) -> dict[str, Any]:
    hidden = PRIVATE_DETAILS if open_server else PRIVATE_DETAILS | LOCATION_DETAILS
    shown = {k: v for k, v in health.to_json().items() if k not in hidden}
    if not open_server and not health.ok:
        shown["error"] = "unreachable or unusable (the server's log says why)"
    return shown


def _log_changes(app: web.Application, backends: dict[str, BackendHealth]) -> None:
    """Log a backend's error when it changes: what the public answer may not show."""
    seen = app[HEALTH_ERRORS]
    for name, backend in backends.items():
        error = None if backend.ok else (backend.error or "failing")
        if error == seen.get(name):
            continue
        if error is None:
            seen.pop(name, None)
            log.info("health: %s (%s) answers again", name, backend.backend)
        else:
            seen[name] = error
            log.warning("health: %s (%s) is failing: %s", name, backend.backend, error)


async def _single_tenant(app: web.Application) -> bool:
    try:
        return app[AUTH_OPEN_WITHOUT_KEYS] and not await app[API_KEYS].enabled()
    except Exception:  # the keys' store is down: it may hold keys, so this server is not open
        return False


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
    _log_changes(app, backends)
    open_server = await _single_tenant(app)
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
            "functions": app[DATA_PLANE].describe(),
            **{name: _public(b, open_server=open_server) for name, b in backends.items()},
        },
        status=503 if status == "unhealthy" else 200,
    )
