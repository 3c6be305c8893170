"""The one place where errors become JSON: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from vortex.errors import (
    InternalError,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    VortexError,
    size_phrase,
)
from vortex.http.deploy_body import CODE_LIMIT_SETTING, DEPLOY_PATH, deploy_body_limit
from vortex.http.keys import SETTINGS
from vortex.http.responses import json_response

log = logging.getLogger(__name__)


def _error_response(error: VortexError) -> web.Response:
    response = json_response(error.to_json(), status=error.status)
    response.headers.update(error.headers)
    return response


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except VortexError as exc:
        return _error_response(exc)
    except web.HTTPNotFound:
        return _error_response(RouteNotFound(f"no route for {request.method} {request.path}"))
    except web.HTTPMethodNotAllowed as exc:
        response = _error_response(
            MethodNotAllowed(f"{request.method} is not allowed on {request.path}")
        )
        # RFC 9110 requires a 405 to say which methods the resource does allow.
        response.headers[hdrs.ALLOW] = ", ".join(sorted(exc.allowed_methods))
        return response
    except web.HTTPRequestEntityTooLarge:
        # aiohttp's own answer is plain text; and on /deploy, the code's limit (the lower one,
        # by default) is the one to name too.
        settings = request.app[SETTINGS]
        if request.path == DEPLOY_PATH:
            return _error_response(
                PayloadTooLarge.over_setting(
                    "the deploy's body",
                    deploy_body_limit(settings.max_code_bytes, settings.max_body_bytes),
                    CODE_LIMIT_SETTING,
                    f" (twice the code's limit of {size_phrase(settings.max_code_bytes)}, "
                    "and 1 MiB)",
                )
            )
        return _error_response(
            PayloadTooLarge.over_setting(
                "the request body", settings.max_body_bytes, "VORTEX_MAX_BODY_BYTES"
            )
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_").replace("-", "_")
        return json_response({"error": {"code": code, "message": exc.reason}}, status=exc.status)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return _error_response(
            InternalError("an internal error occurred; it was logged on the server")
        )
