"""``GET /openapi.json``: the OpenAPI 3.1 document of the whole HTTP API.

Hand-written (``openapi.json`` beside this module) rather than generated, so it says what the API
promises, not what the code happens to do; ``tests/openapi`` walks the router and fails when a
route and the document disagree in either direction.
"""

from __future__ import annotations

import functools
from pathlib import Path

from aiohttp import web

DOCUMENT = Path(__file__).with_name("openapi.json")

routes = web.RouteTableDef()


@functools.cache
def document_bytes() -> bytes:
    return DOCUMENT.read_bytes()


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.Response(
        body=document_bytes(),
        content_type="application/json",
        headers={"Cache-Control": "no-cache"},
    )
