"""``GET /functions/{name}/versions`` and ``POST /functions/{name}/rollback``.

A rollback only moves the name's pointer (docs/versions.md): no code is rebuilt or copied, and
every node runs the chosen version within ``POINTER_FRESH_FOR`` seconds.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from vortex.errors import InvalidRequest
from vortex.http.keys import CRON, REGISTRY
from vortex.http.lookup import resolve
from vortex.http.responses import json_response, read_json_object
from vortex.storage.names import NamePointer

routes = web.RouteTableDef()


def _versions_json(pointer: NamePointer) -> dict[str, Any]:
    return {
        "name": pointer.name,
        "active": pointer.active,
        "versions": [
            {**v.to_json(), "active": v.version == pointer.active}
            for v in sorted(pointer.versions, key=lambda v: v.version, reverse=True)
        ],
    }


@routes.get("/functions/{function_id:[^/]+}/versions")
async def versions(request: web.Request) -> web.Response:
    pointer = await request.app[REGISTRY].versions(await resolve(request))
    return json_response(_versions_json(pointer))


@routes.post("/functions/{function_id:[^/]+}/rollback")
async def rollback(request: web.Request) -> web.Response:
    record = await resolve(request)
    body = await read_json_object(request, required=False)
    # A rollback acts on what it is not told: a misnamed field ({"version": 2}) would move the
    # name to the previous version instead of the one meant. Nothing but "to" is taken.
    unknown = sorted(set(body) - {"to"})
    if unknown:
        raise InvalidRequest(
            f"unknown field {unknown[0]!r}: the version to activate is given as "
            '{"to": N} (no body: the newest version older than the active one)'
        )
    to = body.get("to")
    if to is not None and (not isinstance(to, int) or isinstance(to, bool) or to < 1):
        raise InvalidRequest('"to" must be a version number (1, 2, ...)')
    pointer = await request.app[REGISTRY].rollback(record, to)
    request.app[CRON].changed()
    return json_response(_versions_json(pointer))
