"""One access line per API request (``vortex.oplog``), written once its answer is known."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from vortex import oplog

RUN_ID_HEADER = "X-Vortex-Run-Id"
QUIET_PREFIXES = ("/static/",)
"""The dashboard's files: a page load is a dozen of them, and they say nothing of interest."""
FUNCTION = "vortex.access.function"
"""A handler that makes a function (a deploy) names it here for the line."""
CLIENT_CLOSED = 499
"""As nginx logs it: the client went away before the answer."""


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    run_id: str | None = request.match_info.get("run_id")
    try:
        response = await handler(request)
        status = response.status
        run_id = response.headers.get(RUN_ID_HEADER) or run_id
        return response
    except web.HTTPException as exc:  # a redirect raised, or an error json_errors let through
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        if not request.path.startswith(QUIET_PREFIXES):
            oplog.api_request(
                request.method,
                request.path,
                status,
                (time.perf_counter() - started) * 1000,
                request.get(FUNCTION) or request.match_info.get("function_id"),
                run_id,
            )
