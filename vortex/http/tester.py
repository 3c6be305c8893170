"""``POST /functions/{id-or-name}/request``: the dashboard's request tester.

The server sends the described request to the function's own URL on the functions listener and
answers with what came back: status, headers, body and timings. The dashboard cannot send it
itself: the function is another origin (``hello.localhost:8787``), which the page's CSP
(``connect-src 'self'``) rightly forbids and whose CORS answers are the tenant's to choose; and the
page must not reach a tenant's origin carrying the operator's credentials. Here the request is
made by the server, authenticated and scoped like every other API call, to one place only: its
own listener, with the function's hostname, exactly as a client on the network would send it.
"""

from __future__ import annotations

import base64
import codecs
import re
import socket
import time
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from vortex.errors import InvalidRequest, ListenerUnreachable, RouteNotFound
from vortex.http.keys import DATA_PLANE, SETTINGS
from vortex.http.lookup import resolve
from vortex.http.responses import json_response, read_json_object
from vortex.storage.names import parse_ref

routes = web.RouteTableDef()

MAX_SHOWN_BYTES = 1 << 20
"""Of a response body, what the answer carries; the rest is counted, not sent."""
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_HEAD_BYTES = 32 << 10
"""Path and headers: half what the listener takes (64 KiB), so its 431 is never the answer."""
_VALUE = re.compile(r"^[\t\x20-\x7e]*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$")
DROPPED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
        "proxy-authorization",
    }
)
"""Set by the connection itself (the function's hostname, the body's length), never given."""


class _ListenerResolver(AbstractResolver):
    """Every hostname is the listener's address: the request carries the function's hostname
    (``Host``) while it goes to this server's own listener, and nowhere else."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": self.address,
                "port": port,
                "family": socket.AF_INET6 if ":" in self.address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


def listener_address(listen_host: str) -> str:
    """Where this server reaches its own listener: loopback when it listens everywhere."""
    if listen_host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if listen_host == "::":
        return "::1"
    if listen_host == "localhost":
        return "127.0.0.1"
    return listen_host.strip("[]")


def _headers(raw: object) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if raw is None:
        return pairs
    if isinstance(raw, dict):
        items: list[object] = list(raw.items())
    elif isinstance(raw, list):
        items = raw
    else:
        raise InvalidRequest('"headers" is an object of names to values, or a list of pairs')
    for item in items:
        if not (isinstance(item, list | tuple) and len(item) == 2):
            raise InvalidRequest("each header is a [name, value] pair")
        name, value = item
        if len(pairs) >= 100:
            raise InvalidRequest("100 headers at most")
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise InvalidRequest(f"{str(name)[:60]!r} is not a header name")
        if not isinstance(value, str) or not _VALUE.fullmatch(value):
            raise InvalidRequest(f"the value of {name} must be one line of ASCII text")
        if name.lower() not in DROPPED_HEADERS:
            pairs.append((name, value))
    return pairs


def _described(body: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    method = body.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise InvalidRequest(f'"method" is one of {", ".join(METHODS)}')
    method = method.upper()
    path = body.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidRequest('"path" starts with / (a query may follow: /items?page=2)')
    if any(not 0x21 <= ord(c) <= 0x7E or c == "#" for c in path):
        raise InvalidRequest(
            '"path" holds no spaces, control characters, # or non-ASCII: encode them'
        )
    content = body.get("body")
    if content is not None and not isinstance(content, str):
        raise InvalidRequest('"body" is text (send JSON as its text)')
    headers = _headers(body.get("headers"))
    if len(path) + sum(len(k) + len(v) + 4 for k, v in headers) > MAX_HEAD_BYTES:
        raise InvalidRequest(f"the path and headers are over {MAX_HEAD_BYTES >> 10} KiB")
    data = None if content is None or method in ("GET", "HEAD") else content.encode()
    return method, path, headers, data


def _shown_body(data: bytes, total: int) -> dict[str, Any]:
    """Text when it is UTF-8 (a character cut by the size limit is left out), else base64."""
    shown: dict[str, Any] = {"body_bytes": total, "body_truncated": total > len(data)}
    try:
        shown["body"] = codecs.getincrementaldecoder("utf-8")().decode(
            data, final=total == len(data)
        )
    except UnicodeDecodeError:
        shown["body"] = None
        shown["body_base64"] = base64.b64encode(data).decode()
    return shown


@routes.post("/functions/{function_id:[^/]+}/request")
async def send_request(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.functions_port:
        raise RouteNotFound(
            "the functions listener is off on this server (VORTEX_FUNCTIONS_PORT): there is "
            "nothing to send the request to"
        )
    record = await resolve(request)
    method, path, headers, data = _described(await read_json_object(request))
    by_id = parse_ref(request.match_info["function_id"])[0] == "id"
    plane = request.app[DATA_PLANE]
    url = plane.url_of(record, by_id=by_id) + path
    # Built from its parts: no path can move the request to another authority.
    raw_path, _, query = path.partition("?")
    target = URL.build(
        scheme="http",
        host=plane.hostname_of(record, by_id=by_id),
        port=settings.functions_port,
        path=raw_path,
        query_string=query,
        encoded=True,
    )
    resolver = _ListenerResolver(listener_address(settings.functions_listen_host))
    timeout = aiohttp.ClientTimeout(total=settings.limits.wall_ms / 1000 + 10)
    started = time.perf_counter()
    try:
        async with (
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver, force_close=True),
                timeout=timeout,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            ) as session,
            session.request(
                method,
                target,
                headers=headers,
                data=data,
                allow_redirects=False,
            ) as response,
        ):
            headers_at = time.perf_counter()
            shown = bytearray()
            total = 0
            async for chunk in response.content.iter_any():
                total += len(chunk)
                if len(shown) < MAX_SHOWN_BYTES:
                    shown += chunk[: MAX_SHOWN_BYTES - len(shown)]
            ended = time.perf_counter()
            answer = {
                "url": url,
                "method": method,
                "status": response.status,
                "reason": response.reason or "",
                "headers": [[k, v] for k, v in response.headers.items()],
                **_shown_body(bytes(shown), total),
                "timing": {
                    "headers_ms": round((headers_at - started) * 1000, 3),
                    "total_ms": round((ended - started) * 1000, 3),
                },
            }
    except TimeoutError:
        raise ListenerUnreachable(f"{url} did not answer within {timeout.total:.0f} s") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise ListenerUnreachable(f"{url} could not be reached: {exc}") from None
    except ValueError as exc:  # a header aiohttp refuses
        raise InvalidRequest(f"the request cannot be sent: {exc}") from None
    return json_response(answer)
