"""JSON in and out, with orjson, and the request-body rules every route shares."""

from __future__ import annotations

import difflib
from collections.abc import Collection
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


def refuse_unknown_fields(body: dict[str, Any], fields: Collection[str], what: str) -> None:
    """A field of ``body`` that is none of ``fields`` is refused, naming the closest one, never
    dropped: a misspelt setting (``allowed_hosts``, ``expirationTtl``) was silently left out,
    and what it should have done failed later, far from the typo."""
    unknown = sorted(set(body) - set(fields))
    if not unknown:
        return
    field = unknown[0]
    close = difflib.get_close_matches(field, list(fields), n=1, cutoff=0.6)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    raise InvalidRequest(
        f'unknown field "{field}"{hint} in {what}: the fields are '
        + ", ".join(f'"{name}"' for name in sorted(fields))
    )
