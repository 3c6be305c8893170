"""What other websites may make a browser do to the API.

A server with no API key trusts whoever reaches its port, and a browser reaches it on behalf of
any page it shows. Three holes follow, and three rules close them:

- **DNS rebinding.** A page of ``evil.example`` whose name is made to resolve to 127.0.0.1 is
  same-origin with the API as far as the browser knows, and reads every answer. The API answers
  only requests whose ``Host`` names it: an IP address, ``localhost`` and ``*.localhost``, and
  the names the operator lists in ``VORTEX_ALLOWED_HOSTS``. The check runs whenever no key
  exists (with keys, a rebound page holds none), and always once names are listed. ``/health``,
  ``/openapi.json`` and the ``/fn/`` redirect hold no data and are exempt; so is the functions
  listener, which is not this application.
- **Cross-site requests.** A form or ``fetch()`` of any page may POST to the API, and any page
  may open a WebSocket to it. Requests that change something (every method but GET, HEAD and
  OPTIONS) and WebSocket handshakes are refused when the browser says they come from another
  site (``Sec-Fetch-Site``), or, from a browser that does not send it, when ``Origin`` is not
  this server's own. The public ``/fn/`` redirect is exempt. Clients that are not browsers send
  neither header and pass.
- **Simple requests.** JSON bodies must say ``Content-Type: application/json``, which no page
  can send cross-site without a CORS preflight the API never grants (``read_json_object``).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from vortex.errors import CrossSiteRequest, UnknownHost
from vortex.http.keys import API_KEYS, SETTINGS

SAFE_METHODS = frozenset({hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS})
HOST_CHECK_EXEMPT = frozenset({"/health", "/openapi.json"})
"""Hold no data: load balancers and tools may ask them by any name."""
TRIGGER_PREFIX = "/fn/"
SAME_ORIGIN = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values of a request the user or the API's own pages made (``none``: typed
in the address bar, a bookmark)."""


def host_name(host: str) -> str:
    """The name of a ``Host`` header, without its port, lower-case, without a final dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def host_allowed(name: str, allowed: tuple[str, ...]) -> bool:
    """Whether the API answers for ``name``: an address (a rebound name is never one),
    ``localhost`` and its subdomains (RFC 6761), or a name the operator listed (``*.example.com``
    for its subdomains, ``*`` for any)."""
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    if name == "localhost" or name.endswith(".localhost"):
        return True
    for entry in allowed:
        if entry == "*" or entry == name:
            return True
        if entry.startswith("*.") and name.endswith(entry[1:]):
            return True
    return False


def cross_site(request: web.Request) -> str | None:
    """Why the browser that sent ``request`` sent it for another site, or None."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        site = fetch_site.strip().lower()
        return None if site in SAME_ORIGIN else f"Sec-Fetch-Site is {site}"
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return None
    host = request.headers.get(hdrs.HOST, "").strip().lower()
    if urlsplit(origin.strip().lower()).netloc != host or not host:
        return f"Origin {origin[:100]} is not this server's"
    return None


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


@web.middleware
async def guard_browsers(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path not in HOST_CHECK_EXEMPT and not request.path.startswith(TRIGGER_PREFIX):
        allowed = request.app[SETTINGS].allowed_hosts
        host = request.headers.get(hdrs.HOST)
        if (
            host is not None
            and not host_allowed(host_name(host), allowed)
            and (allowed or not await request.app[API_KEYS].enabled())
        ):
            raise UnknownHost(
                f"this server does not answer for the name {host_name(host)[:100]!r}: add it "
                "to VORTEX_ALLOWED_HOSTS if it is this server's"
            )
    if (
        request.method not in SAFE_METHODS or _is_websocket(request)
    ) and not request.path.startswith(TRIGGER_PREFIX):
        reason = cross_site(request)
        if reason is not None:
            raise CrossSiteRequest(f"cross-site requests are refused ({reason})")
    return await handler(request)
