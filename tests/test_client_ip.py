"""``CF-Connecting-IP`` and ``X-Real-IP`` on the functions listener: the connection's peer, never
what the client says; behind a trusted proxy, the last hop of its ``X-Forwarded-For``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.server import ServerProcess

ECHO_IP = """
export default {
  fetch(request) {
    const h = request.headers;
    return Response.json({
      cf: h.get('cf-connecting-ip'), real: h.get('x-real-ip'), xff: h.get('x-forwarded-for'),
    });
  },
};
"""

SW_ECHO_IP = """
addEventListener('fetch', (event) => event.respondWith(
  new Response(event.request.headers.get('cf-connecting-ip'))));
"""


async def deployed(http: aiohttp.ClientSession, code: str, filename: str = "ip.mjs") -> str:
    name = f"ip-{time.monotonic_ns() % 10**9}"
    body = {"code": code, "filename": filename, "name": name}
    async with http.post("/deploy", json=body) as response:
        assert response.status == 200, await response.text()
    return name


def ask(server: ServerProcess, name: str, headers: str = "") -> tuple[int, Any]:
    """One request on a raw socket: the client chooses every header it sends."""
    head = (
        f"GET / HTTP/1.1\r\nHost: {name}.localhost:{server.functions_port}\r\n{headers}"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.functions_port), timeout=10) as sock:
        sock.sendall(head.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    body = data.split(b"\r\n\r\n", 1)[1]
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


async def test_the_client_ip_is_the_peer_and_cannot_be_spoofed(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(http, ECHO_IP)
    assert ask(server, name) == (200, {"cf": "127.0.0.1", "real": "127.0.0.1", "xff": None})
    spoofed = "CF-Connecting-IP: 1.2.3.4\r\nx-real-ip: 5.6.7.8\r\nX-Forwarded-For: 9.9.9.9\r\n"
    # Set once, over the client's: Headers.get would join two values with ", ".
    assert ask(server, name, spoofed) == (
        200,
        {"cf": "127.0.0.1", "real": "127.0.0.1", "xff": "9.9.9.9"},
    )
    worker = await deployed(http, SW_ECHO_IP, filename="worker.js")
    assert ask(server, worker, "CF-Connecting-IP: 1.2.3.4\r\n") == (200, "127.0.0.1")


async def test_behind_a_trusted_proxy_the_last_forwarded_hop_is_the_client(
    server_factory: Callable[..., ServerProcess],
) -> None:
    proc = server_factory({"VORTEX_FUNCTIONS_TRUST_PROXY": "1"}, workers=1)
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        name = await deployed(http, ECHO_IP)
    # Hops before the last are what the client claimed to the proxy.
    forwarded = "X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\nCF-Connecting-IP: 6.6.6.6\r\n"
    status, body = ask(proc, name, forwarded)
    assert (status, body["cf"], body["real"]) == (200, "203.0.113.7", "203.0.113.7")
    status, body = ask(proc, name, "X-Forwarded-For: a\r\nX-Forwarded-For: 2001:db8::1\r\n")
    assert body["cf"] == "2001:db8::1"
    # No address in it (or no header): the peer's, as without a proxy.
    status, body = ask(proc, name, "X-Forwarded-For: unknown\r\n")
    assert body["cf"] == "127.0.0.1"
    status, body = ask(proc, name)
    assert body["cf"] == "127.0.0.1"


async def test_with_dedicated_hosts_too(server_factory: Callable[..., ServerProcess]) -> None:
    # The supervisor reads the first head there (listener.py); the host still asks the socket.
    proc = server_factory({"VORTEX_DEDICATED_HOSTS": "1"}, workers=1)
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        name = await deployed(http, ECHO_IP)
    status, body = ask(proc, name, "CF-Connecting-IP: 1.2.3.4\r\n")
    assert (status, body["cf"], body["real"]) == (200, "127.0.0.1", "127.0.0.1")
