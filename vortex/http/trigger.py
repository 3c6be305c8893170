"""``/fn/{id or name}/{path}`` on the API's port: a permanent redirect to the function's own
origin on the functions listener (``http://hello.localhost:8787/path``).

Function traffic never runs on the control plane's origin: a function's page there could read
what the dashboard keeps (its API key) or register a service worker over it. The redirect keeps
old links working; 308 keeps the method and body.
"""

from __future__ import annotations

from aiohttp import web

from vortex.errors import RouteNotFound
from vortex.http.keys import DATA_PLANE, SETTINGS
from vortex.http.lookup import resolve_public
from vortex.storage.names import TRIGGER_SEPARATOR, parse_ref

routes = web.RouteTableDef()


@routes.route("*", "/fn/{function_id:[^/]+}")
@routes.route("*", "/fn/{function_id:[^/]+}/{path:.*}")
async def trigger(request: web.Request) -> web.Response:
    if not request.app[SETTINGS].functions_port:
        raise RouteNotFound(
            "functions are served on the functions listener, which is off on this server "
            "(VORTEX_FUNCTIONS_PORT)"
        )
    ref = request.match_info["function_id"]
    record = await resolve_public(request, ref)
    # An id names that very version; a name, whichever version is active when the call lands.
    by_id = TRIGGER_SEPARATOR not in ref and parse_ref(ref)[0] == "id"
    origin = request.app[DATA_PLANE].url_of(record, by_id=by_id)
    # The rest of the path as the client sent it (still encoded), and its query.
    path, _, query = request.raw_path.partition("?")
    rest = path.split("/", 3)[3] if path.count("/") >= 3 else ""
    location = f"{origin}/{rest}" + (f"?{query}" if query else "")
    return web.Response(status=308, headers={"Location": location})
