"""``GET /functions/{id-or-name}/runs`` and ``.../runs/{run_id}``: the invocation history."""

from __future__ import annotations

from aiohttp import web

from vortex.errors import InvalidRequest, RunNotFound
from vortex.functions import history_key
from vortex.http.keys import HISTORY
from vortex.http.lookup import resolve
from vortex.http.responses import json_response

routes = web.RouteTableDef()


@routes.get("/functions/{function_id:[^/]+}/runs")
async def runs(request: web.Request) -> web.Response:
    record = await resolve(request)
    limit = None
    if "limit" in request.query:
        try:
            limit = int(request.query["limit"])
        except ValueError:
            limit = 0
        if limit < 1:
            raise InvalidRequest('"limit" must be a positive number')
    entries = await request.app[HISTORY].runs(history_key(record), limit)
    # Newest first by when they ran: hosts send the records of listener runs in batches, so
    # two hosts' runs may be written in another order than they ran.
    entries = sorted(entries, key=lambda entry: entry.at, reverse=True)
    return json_response({"runs": [entry.summary_json() for entry in entries]})


@routes.get("/functions/{function_id:[^/]+}/runs/{run_id}")
async def run(request: web.Request) -> web.Response:
    record = await resolve(request)
    run_id = request.match_info["run_id"]
    for entry in await request.app[HISTORY].runs(history_key(record)):
        if entry.run_id == run_id:
            return json_response(entry.to_json())
    raise RunNotFound(f"no run {run_id[:80]!r} in the history of this function")
