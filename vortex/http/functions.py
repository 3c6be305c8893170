"""Deploying, listing and deleting functions."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from vortex.errors import InternalError, SyntaxErrorInCode
from vortex.functions import Code
from vortex.http.deploy_body import DeployRequest, parse_deploy_body
from vortex.http.keys import POOL, REGISTRY, RUNS, SETTINGS
from vortex.http.responses import json_response, read_json_object
from vortex.ids import parse_function_id
from vortex.isolates.pool import IsolatePool
from vortex.modules.build import build
from vortex.modules.bundle import ModuleBundle
from vortex.modules.errors import BuildUnavailable
from vortex.storage.base import FunctionRecord

routes = web.RouteTableDef()


def _syntax_error(problem: dict[str, Any], filename: str) -> SyntaxErrorInCode:
    line, column = problem.get("line"), problem.get("column")
    where = f" ({filename}:{line}:{column})" if line else ""
    return SyntaxErrorInCode(f"SyntaxError: {problem['message']}{where}", line=line, column=column)


async def _build_module(pool: IsolatePool, deploy: DeployRequest) -> ModuleBundle:
    try:
        bundle = await build(deploy.upload)
    except BuildUnavailable as exc:
        raise InternalError(f"module functions cannot be built on this server: {exc}") from exc
    # What SES refuses in any source (HTML-like comments, "import(" in a string) surfaces here.
    problem = await pool.check(bundle.script)
    if problem is not None:
        raise SyntaxErrorInCode(f"SyntaxError: {problem['message']}", line=None, column=None)
    return bundle


async def _code_of(pool: IsolatePool, deploy: DeployRequest) -> Code:
    if deploy.module:
        return await _build_module(pool, deploy)
    problem = await pool.check(deploy.code)
    if problem is None:
        return deploy.code
    if deploy.maybe_module:
        # A top-level `export` is a syntax error for a script: build it as the module it is.
        return await _build_module(pool, deploy)
    raise _syntax_error(problem, deploy.filename)


@routes.post("/deploy")
async def deploy(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    deploy = parse_deploy_body(body, request.app[SETTINGS].max_code_bytes)
    code = await _code_of(request.app[POOL], deploy)
    record = await request.app[REGISTRY].deploy(
        code,
        deploy.filename,
        env=deploy.env,
        secrets=deploy.secrets,
        allow_hosts=deploy.allow_hosts,
    )
    return json_response({"function_id": record.id})


def _public(record: FunctionRecord) -> dict[str, Any]:
    return record.public_json()


@routes.get("/functions")
async def list_functions(request: web.Request) -> web.Response:
    ledger = request.app[RUNS]
    functions = []
    for record in await request.app[REGISTRY].list():
        last = ledger.last(record.id)
        functions.append({**_public(record), "last_run": last.to_json() if last else None})
    return json_response({"functions": functions})


@routes.get("/functions/{function_id:[^/]+}")
async def show_function(request: web.Request) -> web.Response:
    function_id = parse_function_id(request.match_info["function_id"])
    record, code = await request.app[REGISTRY].load_code(function_id)
    last = request.app[RUNS].last(function_id)
    shown: dict[str, Any] = {**_public(record), "last_run": last.to_json() if last else None}
    if isinstance(code, ModuleBundle):
        shown.update(code=code.files[code.entry], entry=code.entry, files=code.files)
    else:
        shown["code"] = code
    return json_response(shown)


@routes.delete("/functions/{function_id:[^/]+}")
async def delete_function(request: web.Request) -> web.Response:
    function_id = parse_function_id(request.match_info["function_id"])
    await request.app[REGISTRY].delete(function_id)
    request.app[RUNS].forget(function_id)
    return json_response({"deleted": function_id})
