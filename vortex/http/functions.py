"""Deploying, listing, showing and deleting functions (by id or by name)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from vortex.assets.deploying import store_manifest
from vortex.assets.manifest import AssetLimits, parse_assets
from vortex.config import Settings
from vortex.d1.errors import D1Unavailable
from vortex.errors import InternalError, InvalidLimit, InvalidRequest, SyntaxErrorInCode
from vortex.functions import DEFAULT_PAGE, MAX_PAGE, Code, history_key
from vortex.http.accesslog import FUNCTION as ACCESS_FUNCTION
from vortex.http.deploy_body import (
    DEPLOY_PATH,
    DeployRequest,
    deploy_body_limit,
    parse_deploy_body,
)
from vortex.http.keys import (
    CRON,
    DATA_PLANE,
    HISTORY,
    KV_STORE,
    METRICS,
    POOL,
    REGISTRY,
    ROLLUPS,
    RUNS,
    SETTINGS,
)
from vortex.http.lookup import deploy_namespace, resolve, visible_namespace
from vortex.http.responses import json_response, read_json_object
from vortex.isolates.pool import IsolatePool
from vortex.modules.build import build
from vortex.modules.bundle import ModuleBundle
from vortex.modules.errors import BuildUnavailable
from vortex.modules.refusals import column_in, refusal_of
from vortex.modules.script import BuiltScript, build_script
from vortex.modules.sourcemap import BundleMap
from vortex.serviceworker import kind_of
from vortex.storage.base import FunctionRecord
from vortex.storage.index import check_prefix
from vortex.storage.names import check_name

routes = web.RouteTableDef()
FILE_FILTER = re.compile(r"^[\w.-]{1,100}$")


def _refused_by_text(problem: dict[str, Any]) -> bool:
    """SES's textual check, not the grammar, refused the code (``SES_..._REJECTED``)."""
    return refusal_of(problem.get("message")) is not None


def _located(
    message: str, file: str | None, line: object, column: object, *, with_file: bool
) -> SyntaxErrorInCode:
    """``SyntaxError: reason (file:line:column)``; no column when none is known (never null)."""
    if not isinstance(line, int):
        return SyntaxErrorInCode(f"SyntaxError: {message}", line=None)
    where = f"{file}:{line}" + (f":{column}" if isinstance(column, int) else "")
    details: dict[str, Any] = {"line": line}
    if isinstance(column, int):
        details["column"] = column
    if with_file:
        details["file"] = file
    return SyntaxErrorInCode(f"SyntaxError: {message} ({where})", **details)


def _syntax_error(problem: dict[str, Any], filename: str) -> SyntaxErrorInCode:
    return _located(
        str(problem["message"]),
        filename,
        problem.get("line"),
        problem.get("column"),
        with_file=False,
    )


async def _build_module(pool: IsolatePool, deploy: DeployRequest, namespace: str) -> ModuleBundle:
    try:
        bundle = await build(deploy.upload)
    except BuildUnavailable as exc:
        raise InternalError(f"module functions cannot be built on this server: {exc}") from exc
    # What SES refuses in code (a dynamic import(), a direct eval()) surfaces here; in strings
    # and comments the build escaped it (modules/literals.py).
    problem = await pool.check(bundle.script, namespace)
    if problem is not None:
        raise _positioned_error(problem, bundle.positions, bundle.script)
    return bundle


def _positioned_error(
    problem: dict[str, Any], positions: BundleMap, script: str
) -> SyntaxErrorInCode:
    """The check's problem at the uploaded file's line, where the built script's maps back.

    SES names a refusal's line only: its column is found on that line of the built script
    before mapping, so that the position points at the ``eval`` itself."""
    message, line, column = str(problem["message"]), problem.get("line"), problem.get("column")
    refusal = refusal_of(message)
    if refusal is not None:
        message = refusal.message
        if isinstance(line, int):
            column = column_in(script, line, refusal)
    exact = column if isinstance(column, int) else None
    found = positions.original(line, exact or 1) if isinstance(line, int) else None
    if found is None:
        return _located(message, None, None, None, with_file=False)
    name, line, mapped_column = found
    return _located(message, name, line, mapped_column if exact else None, with_file=True)


async def _build_script(
    pool: IsolatePool, deploy: DeployRequest, namespace: str
) -> BuiltScript | None:
    """A script built by esbuild (a TypeScript one's types stripped, refused text in literals
    escaped); None when it is a module after all."""
    try:
        built = await build_script(deploy.upload.entry, deploy.code)
    except SyntaxErrorInCode:
        if deploy.maybe_module:
            return None  # a top-level `export`: the module build says what is wrong, if anything
        raise
    except BuildUnavailable as exc:
        raise InternalError(f"TypeScript cannot be built on this server: {exc}") from exc
    problem = await pool.check(built.script, namespace)
    if problem is None:
        return built
    if deploy.maybe_module:
        return None
    raise _positioned_error(problem, built.positions, built.script)


async def _code_of(pool: IsolatePool, deploy: DeployRequest, namespace: str) -> Code:
    if deploy.module:
        return await _build_module(pool, deploy, namespace)
    if deploy.typescript:
        built = await _build_script(pool, deploy, namespace)
        return built if built is not None else await _build_module(pool, deploy, namespace)
    problem = await pool.check(deploy.code, namespace)
    if problem is None:
        return deploy.code
    if _refused_by_text(problem):
        # "-->" or "import(" in a string or a comment: built, the literals escaped.
        built = await _build_script(pool, deploy, namespace)
        return built if built is not None else await _build_module(pool, deploy, namespace)
    if deploy.maybe_module:
        # A top-level `export` is a syntax error for a script: build it as the module it is.
        return await _build_module(pool, deploy, namespace)
    raise _syntax_error(problem, deploy.filename)


@routes.post(DEPLOY_PATH)
async def deploy(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    # The API's body limit is for JSON settings; a deploy carries code up to its own limit.
    limit = deploy_body_limit(settings.max_code_bytes, settings.max_body_bytes)
    body = await read_json_object(request.clone(client_max_size=limit))
    deploy = parse_deploy_body(body, settings.max_code_bytes, settings.functions_domain)
    name = None if body.get("name") is None else check_name(body["name"])
    namespace = deploy_namespace(request)
    upload = None if body.get("assets") is None else parse_assets(body["assets"], _limits(settings))
    services = deploy.settings.services
    if upload is not None and isinstance(services, dict) and upload.config.binding in services:
        raise InvalidRequest(
            f'"services": {upload.config.binding} is the assets\' binding already; name one '
            "of them otherwise"
        )
    databases = deploy.settings.d1_databases
    if isinstance(databases, dict) and databases:
        if upload is not None and upload.config.binding in databases:
            raise InvalidRequest(
                f'"d1_databases": {upload.config.binding} is the assets\' binding already'
            )
        unavailable = request.app[RUNS].d1.unavailable
        if unavailable is not None:
            raise D1Unavailable(unavailable)
    code = await _code_of(request.app[POOL], deploy, namespace)
    registry = request.app[REGISTRY]
    assets = None
    if upload is not None:
        assets = await store_manifest(registry.store, registry.assets, namespace, upload)
    record = await registry.deploy(
        code,
        deploy.filename,
        env=deploy.settings.env,
        secrets=deploy.settings.secrets,
        allow_hosts=deploy.settings.allow_hosts,
        namespace=namespace,
        name=name,
        schedule=deploy.settings.schedule,
        routes=deploy.settings.routes,
        assets=assets,
        r2_buckets=deploy.settings.r2_buckets,
        services=deploy.settings.services,
        d1_databases=deploy.settings.d1_databases,
    )
    if record.schedule is not None or record.name is not None:
        # A new version may add, change or drop the name's schedule.
        request.app[CRON].changed()
    request[ACCESS_FUNCTION] = record.name or record.id
    answer: dict[str, Any] = {"function_id": record.id}
    if record.name is not None:
        answer.update(name=record.name, version=record.version)
        # What the version took from the one before it, so that nobody is surprised by it.
        answer["kept"] = deploy.settings.kept(record) if record.version != 1 else []
        answer["routes"] = list(record.routes)
    if assets is not None:
        answer["assets"] = {"files": assets.files, "size": assets.size}
    answer["url"] = request.app[DATA_PLANE].public_url(record)
    return json_response(answer)


def _limits(settings: Settings) -> AssetLimits:
    return AssetLimits(
        settings.assets_max_file_bytes, settings.assets_max_files, settings.assets_max_total_bytes
    )


async def _shown(request: web.Request, record: FunctionRecord) -> dict[str, Any]:
    last = await request.app[HISTORY].last(history_key(record))
    return {
        **record.public_json(),
        "url": request.app[DATA_PLANE].public_url(record),
        "last_run": last.summary_json() if last else None,
    }


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidLimit(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return limit


def _file_filter(raw: str | None) -> Callable[[FunctionRecord], bool] | None:
    """``?file=``: functions whose file name holds the text, in any case."""
    if not raw:
        return None
    if not FILE_FILTER.fullmatch(raw):
        raise InvalidRequest("file may hold only letters, digits, '.', '-' and '_' (100 at most)")
    wanted = raw.lower()
    return lambda record: wanted in record.filename.lower()


@routes.get("/functions")
async def list_functions(request: web.Request) -> web.Response:
    """A page, newest first; ``cursor`` in the answer fetches the next one (docs/api.md)."""
    query = request.query
    records, cursor = await request.app[REGISTRY].page(
        visible_namespace(request),
        _limit(query.get("limit")),
        query.get("cursor") or None,
        check_prefix(query.get("prefix", "")),
        keep=_file_filter(query.get("file")),
    )
    shown = await asyncio.gather(*(_shown(request, record) for record in records))
    return json_response({"functions": shown, "cursor": cursor})


@routes.get("/functions/{function_id:[^/]+}")
async def show_function(request: web.Request) -> web.Response:
    record, code = await request.app[REGISTRY].code_of(await resolve(request))
    shown = await _shown(request, record)
    # From the code itself: a service worker deployed before records kept the kind says so too.
    shown["kind"] = kind_of(code)
    if isinstance(code, ModuleBundle):
        shown.update(code=code.files[code.entry], entry=code.entry, files=code.files)
    elif isinstance(code, BuiltScript):
        shown["code"] = code.source
    else:
        shown["code"] = code
    return json_response(shown)


@routes.delete("/functions/{function_id:[^/]+}")
async def delete_function(request: web.Request) -> web.Response:
    """A function and everything of it: every version, its KV, metrics, history and charts. Its cron
    schedule is saved with its records, so it goes with them."""
    app = request.app
    record = await resolve(request)
    deleted = await app[REGISTRY].delete(record)
    for function_id in deleted.function_ids:
        await app[KV_STORE].delete_function(function_id)
        app[METRICS].forget_function(function_id)
    if record.name is not None:
        await app[KV_STORE].delete_function(deleted.history_key)
    await app[HISTORY].forget(deleted.history_key)
    await app[ROLLUPS].forget(deleted.history_key)
    if record.schedule is not None or record.name is not None:
        app[CRON].changed()
    answer: dict[str, Any] = {"deleted": record.id if record.name is None else record.name}
    if record.name is not None:
        answer["function_ids"] = list(deleted.function_ids)
    return json_response(answer)
