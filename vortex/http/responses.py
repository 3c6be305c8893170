"""JSON in and out, with orjson, and the request-body rules every route shares."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from vortex.errors import InvalidJSON, InvalidRequest


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


async def read_json_object(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    body = await request.read()
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
