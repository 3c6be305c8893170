"""The HTTP trigger: any method on ``/fn/{id}`` and ``/fn/{id}/{path...}``.

A module function's ``fetch`` handler gets a standard Request (method, the full URL as the
client asked for it, path and query included, headers, body) and its Response is sent back as
it is: status, headers, and the body, streamed when the function streams it. The HTTP answer
goes out as soon as the Response is ready; work given to ``ctx.waitUntil`` goes on after, and
the run is recorded when that is over.

A script function runs as with ``POST /execute`` and answers with its ``Vortex.return`` value
as JSON. A run that fails answers with ``{"error": {...}}`` and a status by error code.
"""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from vortex.http.invocation import Started, run_id_of, start
from vortex.http.keys import REGISTRY
from vortex.http.lookup import resolve_public
from vortex.http.responses import json_response
from vortex.isolates.exchange import BodyBroken, HttpRequest, ResponseHead
from vortex.isolates.outcome import (
    HOST_CRASHED,
    HOST_RESTARTED,
    INVALID_RESPONSE,
    WALL_TIME_EXCEEDED,
)
from vortex.modules.bundle import ModuleBundle

routes = web.RouteTableDef()

# Every other run error is the function's fault: 500.
ERROR_STATUS = {
    INVALID_RESPONSE: 502,
    HOST_RESTARTED: 503,
    HOST_CRASHED: 503,
    WALL_TIME_EXCEEDED: 504,
}
# Framing belongs to the connection between Vortex and its client, not to the function.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)
BODYLESS = frozenset({"GET", "HEAD"})


def _error_response(started: Started, error: dict[str, object]) -> web.Response:
    code = str(error["code"])
    return json_response(
        {"error": error, "run_id": started.run_id},
        status=ERROR_STATUS.get(code, 500),
        headers={"X-Vortex-Error": code, "X-Vortex-Run-Id": started.run_id},
    )


def _headers(head: ResponseHead, run_id: str) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in head.headers:
        if name.lower() not in HOP_BY_HOP:
            headers.add(name, value)
    headers["X-Vortex-Run-Id"] = run_id
    return headers


async def _send(request: web.Request, started: Started, head: ResponseHead) -> web.StreamResponse:
    headers = _headers(head, started.run_id)
    if not head.streaming:
        response = web.Response(
            body=head.body or b"", status=head.status, reason=head.status_text or None
        )
        response.headers.extend(headers)
        return response
    stream = web.StreamResponse(status=head.status, reason=head.status_text or None)
    stream.headers.extend(headers)
    await stream.prepare(request)
    try:
        async for chunk in started.invocation.body_chunks():
            await stream.write(chunk)
        await stream.write_eof()
    except BodyBroken:
        # The status line is gone already: cutting the connection is the only way to say so.
        if request.transport is not None:
            request.transport.close()
    except ConnectionResetError:
        # The client left; the run goes on to its end (its chunks are dropped).
        pass
    return stream


@routes.route("*", "/fn/{function_id:[^/]+}")
@routes.route("*", "/fn/{function_id:[^/]+}/{path:.*}")
async def trigger(request: web.Request) -> web.StreamResponse:
    # An id, a name of "default" or "name.namespace": the active version (docs/versions.md).
    found = await resolve_public(request, request.match_info["function_id"])
    record, code = await request.app[REGISTRY].code_of(found)
    function_id = record.id
    run_id = run_id_of(request)
    http_request = None
    if isinstance(code, ModuleBundle):
        body = None if request.method in BODYLESS else await request.read()
        http_request = HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=list(request.headers.items()),
            body=body or None,
        )
    started = await start(
        request.app, function_id, record, code, run_id, http_request, trigger="http"
    )
    head = await started.invocation.response
    if head is not None:
        return await _send(request, started, head)
    outcome = await started.invocation.outcome
    if outcome.error is not None:
        return _error_response(started, outcome.error)
    return web.Response(
        body=outcome.output_json or "null",
        content_type="application/json",
        headers={"X-Vortex-Run-Id": run_id},
    )
