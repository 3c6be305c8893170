"""``GET /functions/{id-or-name}/stats``: a function's charts, from its rollups.

Runs, errors and wall/CPU time quantiles over the last hour (a point a minute) or the last day
(a point every ten minutes), of every version of a name. Read from the rollups the server keeps
beside the history (``vortex.rollups``), not from ``/metrics``.
"""

from __future__ import annotations

from aiohttp import web

from vortex.errors import InvalidRequest
from vortex.functions import history_key
from vortex.http.keys import ROLLUPS
from vortex.http.lookup import resolve
from vortex.http.responses import json_response
from vortex.rollups import WINDOWS
from vortex.rollups.series import series

routes = web.RouteTableDef()


@routes.get("/functions/{function_id:[^/]+}/stats")
async def stats(request: web.Request) -> web.Response:
    record = await resolve(request)
    name = request.query.get("window", "hour")
    window = WINDOWS.get(name)
    if window is None:
        raise InvalidRequest(f'"window" is one of {", ".join(WINDOWS)}, not {name[:40]!r}')
    answer = await series(request.app[ROLLUPS], history_key(record), window)
    return json_response({"function_id": record.id, "name": record.name, **answer})
