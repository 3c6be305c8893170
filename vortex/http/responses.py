"""JSON in and out, with orjson, and the request-body rules every route shares."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from vortex.errors import InvalidJSON, InvalidRequest, UnsupportedMediaType


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


async def read_json_object(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object. It must say it is JSON: a page of another site can POST
    text/plain, a form or multipart anywhere without asking, but not application/json."""
    body = await request.read()
    if body.strip() and not is_json_type(request.content_type):
        raise UnsupportedMediaType(
            f"send the body as Content-Type: application/json, not {request.content_type} "
            "(curl: -H 'content-type: application/json')"
        )
    if not body.strip():
        if not required:
            return {}
        raise InvalidJSON("the request body is empty; send a JSON object")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return data
