"""Dedicated hosts per namespace on the functions listener: the supervisor hands each connection
to a host of the function's namespace, and a connection that then names another namespace's
function is refused (421) instead of running it there. ``x-vortex-host`` (the pid of the host
that answered) comes with ``VORTEX_DEBUG_HOST_HEADER=1``.
"""

from __future__ import annotations

import asyncio
import socket
from collections import defaultdict
from collections.abc import Callable

import aiohttp

from tests.auth.test_namespaces import make_key
from tests.server import ServerProcess

DEDICATED = {"VORTEX_DEBUG_HOST_HEADER": "1", "VORTEX_DEDICATED_HOSTS": "1"}
MODULE = "export default { fetch() { return new Response('ns %s'); } };"


async def _deploy(http: aiohttp.ClientSession, server: ServerProcess, ns: str, key: str) -> str:
    # Each namespace also claims a custom domain's host of its own.
    routes = [f"{ns}.example.com/*"]
    async with http.post(
        f"{server.url}/deploy",
        json={"code": MODULE % ns, "filename": "index.mjs", "name": "page", "routes": routes},
        headers={"Authorization": f"Bearer {key}"},
    ) as response:
        body = await response.json()
        assert response.status == 200, body
        return str(body["url"])


async def test_listener_connections_go_to_their_namespaces_hosts(
    private_server: Callable[..., ServerProcess],
) -> None:
    server = private_server(DEDICATED, workers=2)
    keys = {ns: make_key(server, ns) for ns in ("acme", "beta")}
    server.wait_for_keys(*keys.values())  # else a deploy could land in "default"
    async with aiohttp.ClientSession() as http:
        urls = {ns: await _deploy(http, server, ns, key) for ns, key in keys.items()}
        assert urls["acme"] == f"http://page.acme.localhost:{server.functions_port}"
        seen: dict[int, set[str]] = defaultdict(set)

        async def call(ns: str, routed: bool = False) -> None:
            # A connection of its own each time: hand-offs are per connection.
            url = urls[ns] + "/"
            headers = {}
            if routed:  # by its route: the supervisor finds the namespace of the hostname
                url = f"http://127.0.0.1:{server.functions_port}/x"
                headers = {"Host": f"{ns}.example.com"}
            async with (
                aiohttp.ClientSession() as fresh,
                fresh.get(url, headers=headers) as response,
            ):
                assert await response.text() == f"ns {ns}"
                seen[int(response.headers["x-vortex-host"])].add(ns)

        await asyncio.gather(*(call(ns, i % 2 == 1) for i in range(20) for ns in ("acme", "beta")))
    assert len(seen) == 2, dict(seen)
    assert all(len(namespaces) == 1 for namespaces in seen.values()), dict(seen)

    # One connection that names acme's function, then beta's: beta's is not run on acme's host.
    with socket.create_connection(("127.0.0.1", server.functions_port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: page.acme.localhost\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 OK")
        sock.sendall(b"GET / HTTP/1.1\r\nHost: page.beta.localhost\r\n\r\n")
        second = b""
        while chunk := sock.recv(65536):
            second += chunk
    assert second.startswith(b"HTTP/1.1 421 ")
    assert b"misdirected_request" in second
