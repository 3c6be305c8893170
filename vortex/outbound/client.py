"""The server's side of a function's ``fetch()``: one aiohttp session for all of them.

Redirects are followed here, one hop at a time, so that every hop is checked against the
function's allow-list and the address rules again; each sub-request has one time budget for all
its hops until the head of its answer, then the same time again between two pieces of its body
(body.py), and a size limit on the body. Every refusal is a ``SubrequestRefused`` whose message
the function sees as a TypeError, so the messages are stable.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence

import aiohttp
from yarl import URL

from vortex.isolates.subrequests import (
    LOOP_HEADER,
    Subrequest,
    SubrequestRefused,
    SubrequestResponse,
)
from vortex.outbound.body import StreamedBody, too_large
from vortex.outbound.policy import address_problem, host_allowed
from vortex.outbound.resolver import AddressRefused, GuardedResolver

MAX_REDIRECTS = 20
FIRST_BYTES = 64 << 10
"""Bytes of a body still arriving that may go with its head: what is in already, up to this."""
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Set by aiohttp from the body and the connection; a function's values would only conflict.
# The hop count is the server's to set (below): a function must not reset its chain. The
# encodings asked for are aiohttp's, the ones it decodes: a function gets a body as it reads, as
# on Workers, even when it passes a browser's Accept-Encoding on (zstd, say) with its request.
_DROPPED_REQUEST_HEADERS = frozenset(
    {
        "accept-encoding",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        LOOP_HEADER,
    }
)
_BODY_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "content-language"}
)


class OutboundClient:
    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout_ms: int = 10_000,
        max_response_bytes: int = 10 << 20,
        functions_domain: str = "",
    ) -> None:
        self.allow_private = allow_private
        self.functions_domain = functions_domain.lower().rstrip(".")
        self.timeout_ms = timeout_ms
        self.max_response_bytes = max_response_bytes
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self.allow_private), limit=256, ttl_dns_cache=10
        )
        # trust_env=False: no proxy from the environment may route around the address rules.
        self._session = aiohttp.ClientSession(
            connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, request: Subrequest, allow_hosts: Sequence[str]) -> SubrequestResponse:
        if self._session is None:
            raise SubrequestRefused("fetch is not available on this server")
        try:
            async with asyncio.timeout(self.timeout_ms / 1000):
                return await self._fetch(self._session, request, allow_hosts)
        except TimeoutError:
            raise SubrequestRefused(
                f"fetch to {_host_of(request.url)} timed out after {self.timeout_ms} ms"
            ) from None

    async def _fetch(
        self, session: aiohttp.ClientSession, request: Subrequest, allow_hosts: Sequence[str]
    ) -> SubrequestResponse:
        url = _parse(request.url)
        method = request.method
        body = request.body
        headers = [(k, v) for k, v in request.headers if k.lower() not in _DROPPED_REQUEST_HEADERS]
        headers.append((LOOP_HEADER, str(request.hops + 1)))
        redirected = False
        for _ in range(MAX_REDIRECTS + 1):
            self._check(url, allow_hosts)
            try:
                response = await session.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    auto_decompress=True,
                )
                try:
                    location = response.headers.get("Location")
                    if response.status in REDIRECTS and location and request.redirect != "manual":
                        response.release()
                        if request.redirect == "error":
                            raise SubrequestRefused(
                                f"fetch to {url.host} was redirected, and its redirect mode "
                                'is "error"'
                            )
                        target = _parse(str(url.join(URL(location))), base=url)
                        method, body, headers = _redirected_request(
                            response.status, method, body, headers, url, target
                        )
                        url, redirected = target, True
                        continue
                    return await self._answer(response, url, redirected)
                except BaseException:
                    response.close()
                    raise
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, AddressRefused):
                    raise SubrequestRefused(
                        f"fetch to {url.host} is refused: {exc.os_error}"
                    ) from None
                raise SubrequestRefused(f"fetch to {url.host} failed: {exc.os_error}") from None
            except aiohttp.ClientError as exc:
                raise SubrequestRefused(f"fetch to {url.host} failed: {exc}") from None
        raise SubrequestRefused(
            f"fetch to {_host_of(request.url)} exceeded {MAX_REDIRECTS} redirects"
        )

    def _check(self, url: URL, allow_hosts: Sequence[str]) -> None:
        host = url.raw_host or ""
        if url.scheme not in ("http", "https"):
            raise SubrequestRefused(f"fetch to {url} is not allowed: only http and https are")
        if not host_allowed(host, allow_hosts):
            if self._is_a_function(host):
                raise SubrequestRefused(
                    f"fetch to {host} is refused: it is a function's own address on this "
                    "server. On Workers, fetch(request) goes to the origin behind the route; "
                    "a Vortex function has none: fetch your origin's URL instead "
                    "(new Request(originUrl, request))"
                )
            # Workers fetch anywhere: a Workers user needs to be told how to allow a host.
            raise SubrequestRefused(
                f"fetch to {host} is not allowed for this function: allow the host at deploy "
                f'(vortex deploy --allow-host {host}, or "allow_hosts")'
            )
        # aiohttp connects to an IP literal without asking the resolver, so check it here.
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        problem = address_problem(address, self.allow_private)
        if problem is not None:
            raise SubrequestRefused(f"fetch to {host} is refused: it is {problem}")

    def _is_a_function(self, host: str) -> bool:
        domain = self.functions_domain
        host = host.lower().rstrip(".")
        return bool(domain) and host.endswith("." + domain)

    async def _answer(
        self, response: aiohttp.ClientResponse, url: URL, redirected: bool
    ) -> SubrequestResponse:
        """The response once its head is in. A body already whole (a small one often comes in
        the head's packets) goes with it; one still arriving is read as the run reads it."""
        host = url.host or ""
        limit = self.max_response_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            raise SubrequestRefused(too_large(host, limit))
        content = response.content
        rest: StreamedBody | None = None
        if content.is_eof():
            data = await content.read()
            response.release()
        else:
            data = content.read_nowait(FIRST_BYTES)
            rest = StreamedBody(response, host, limit, self.timeout_ms, len(data))
        if len(data) > limit:
            raise SubrequestRefused(too_large(host, limit))
        return SubrequestResponse(
            status=response.status,
            status_text=response.reason or "",
            headers=[
                (k.decode("latin-1").lower(), v.decode("utf-8", "replace"))
                for k, v in response.raw_headers
            ],
            url=str(url),
            redirected=redirected,
            body=data,
            rest=rest,
        )


def _parse(text: str, base: URL | None = None) -> URL:
    try:
        url = URL(text, encoded=True)
    except ValueError:
        raise SubrequestRefused(f"fetch to {text[:200]} is not allowed: invalid URL") from None
    if not url.absolute or not url.raw_host:
        raise SubrequestRefused(f"fetch to {text[:200]} is not allowed: the URL has no host")
    return url.with_fragment(None)


def _host_of(text: str) -> str:
    try:
        return URL(text, encoded=True).raw_host or text[:200]
    except ValueError:
        return text[:200]


def _redirected_request(
    status: int,
    method: str,
    body: bytes | None,
    headers: list[tuple[str, str]],
    source: URL,
    target: URL,
) -> tuple[str, bytes | None, list[tuple[str, str]]]:
    """The Fetch Standard's HTTP-redirect fetch: 303 (and 301/302 after POST) become GET
    without a body; credentials never follow a redirect to another origin."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = [(k, v) for k, v in headers if k.lower() not in _BODY_HEADERS]
    if source.origin() != target.origin():
        headers = [
            (k, v) for k, v in headers if k.lower() not in ("authorization", "cookie", "host")
        ]
    return method, body, headers
