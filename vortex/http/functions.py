"""Deploying, listing and deleting functions."""

from __future__ import annotations

import re

from aiohttp import web

from vortex.errors import InvalidRequest, PayloadTooLarge, SyntaxErrorInCode
from vortex.http.keys import POOL, REGISTRY, RUNS, SETTINGS
from vortex.http.responses import json_response, read_json_object
from vortex.ids import parse_function_id

routes = web.RouteTableDef()
FILENAME = re.compile(r"^[\w][\w.-]{0,99}$")


@routes.post("/deploy")
async def deploy(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    code = body.get("code")
    if not isinstance(code, str):
        raise InvalidRequest('"code" must be a string holding the function\'s JavaScript')
    if not code.strip():
        raise InvalidRequest('"code" is empty')
    limit = request.app[SETTINGS].max_code_bytes
    if len(code.encode()) > limit:
        raise PayloadTooLarge(f"the code is over the limit of {limit} bytes")
    filename = body.get("filename", "index.js")
    if not isinstance(filename, str) or not FILENAME.match(filename):
        raise InvalidRequest('"filename" must be a plain file name such as "index.js"')

    problem = await request.app[POOL].check(code)
    if problem is not None:
        line, column = problem.get("line"), problem.get("column")
        where = f" ({filename}:{line}:{column})" if line else ""
        raise SyntaxErrorInCode(
            f"SyntaxError: {problem['message']}{where}", line=line, column=column
        )
    record = await request.app[REGISTRY].deploy(code, filename)
    return json_response({"function_id": record.id})


@routes.get("/functions")
async def list_functions(request: web.Request) -> web.Response:
    ledger = request.app[RUNS]
    functions = []
    for record in await request.app[REGISTRY].list():
        last = ledger.last(record.id)
        functions.append({**record.to_json(), "last_run": last.to_json() if last else None})
    return json_response({"functions": functions})


@routes.get("/functions/{function_id:[^/]+}")
async def show_function(request: web.Request) -> web.Response:
    function_id = parse_function_id(request.match_info["function_id"])
    record, code = await request.app[REGISTRY].load(function_id)
    last = request.app[RUNS].last(function_id)
    return json_response(
        {**record.to_json(), "code": code, "last_run": last.to_json() if last else None}
    )


@routes.delete("/functions/{function_id:[^/]+}")
async def delete_function(request: web.Request) -> web.Response:
    function_id = parse_function_id(request.match_info["function_id"])
    await request.app[REGISTRY].delete(function_id)
    request.app[RUNS].forget(function_id)
    return json_response({"deleted": function_id})
