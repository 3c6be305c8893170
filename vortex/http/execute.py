"""``POST /execute/{id}``: run a function and answer with its output, logs and time.

A script's output is what it gave to ``Vortex.return``. A module function's ``fetch`` handler
(a service-worker script's ``fetch`` listeners) gets a simple request (``GET`` of the version's
URL on the functions listener, no body) and its Response becomes the output: ``{"status",
"statusText", "headers", "body"}``, the body as text, or as base64 with ``"bodyEncoding":
"base64"`` when it is not UTF-8.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from aiohttp import web

from vortex.http.invocation import run_id_of
from vortex.http.keys import DATA_PLANE, REGISTRY, RUNS, SETTINGS
from vortex.http.lookup import resolve
from vortex.http.responses import json_response
from vortex.isolates.exchange import BodyBroken, HttpRequest, ResponseHead
from vortex.isolates.invocation import Invocation
from vortex.runs import Started
from vortex.serviceworker import takes_events
from vortex.storage.base import FunctionRecord

routes = web.RouteTableDef()


async def _response_output(invocation: Invocation, head: ResponseHead) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for name, value in head.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    output: dict[str, Any] = {
        "status": head.status,
        "statusText": head.status_text,
        "headers": headers,
    }
    try:
        body = await invocation.read_body(head)
    except BodyBroken as exc:
        output["bodyError"] = str(exc)
        body = b""
    try:
        output["body"] = body.decode()
    except UnicodeDecodeError:
        output["body"] = base64.b64encode(body).decode("ascii")
        output["bodyEncoding"] = "base64"
    return output


@routes.post("/execute/{function_id:[^/]+}")  # an id or a name
async def execute(request: web.Request) -> web.Response:
    record, code = await request.app[REGISTRY].code_of(await resolve(request))
    run_id = run_id_of(request)
    fetch_request = None
    if takes_events(code):
        # The URL the version answers at on the functions listener.
        url = request.app[DATA_PLANE].url_of(record, by_id=True) + "/"
        # Its HTTP version is the one this request came over.
        protocol = f"HTTP/{request.version.major}.{request.version.minor}"
        fetch_request = HttpRequest("GET", url, [], None, protocol)
    started = await request.app[RUNS].start(record, code, run_id, fetch_request)
    output: Any = None
    head = await started.invocation.response
    if head is not None:
        output = await _response_output(started.invocation, head)
    return await run_answer(request, record, started, output)


async def run_answer(
    request: web.Request, record: FunctionRecord, started: Started, output: Any = None
) -> web.Response:
    """Once the run has ended: its output (``output``, else what a script returned), logs,
    times and error, as ``POST /execute`` and ``POST /functions/{ref}/scheduled`` answer. A
    handler that failed while its waitUntil work goes on is answered at once, with the logs
    and times so far and ``running``: the history has the rest when that work settles."""
    invocation = started.invocation
    run_id = started.run_id
    outcome = await invocation.caller_outcome
    if not outcome.running:
        await started.wait_recorded()
    if output is None and outcome.output_json:
        output = orjson.Fragment(outcome.output_json)
    body: dict[str, object] = {
        "output": output,
        "logs": outcome.logs,
        "execution_time_ms": round(outcome.duration_ms, 3),
        "cpu_time_ms": outcome.cpu_ms,
        "run_id": run_id,
        "function_id": record.id,
    }
    if record.name is not None:
        body.update(name=record.name, version=record.version)
    # As the functions listener answers: the run's id is in a header too (and the access log).
    headers = {"X-Vortex-Run-Id": run_id}
    if request.app[SETTINGS].debug_host_header:
        headers["X-Vortex-Host"] = str(invocation.host_pid)
    if outcome.running:
        body["running"] = True
    if outcome.error is not None:
        body["error"] = outcome.error
        headers["X-Vortex-Error"] = outcome.error["code"]
    return json_response(body, headers=headers)
