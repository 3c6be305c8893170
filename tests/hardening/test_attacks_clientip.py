"""A hostile client against CF-Connecting-IP and X-Real-IP (vortex/isolates/clientip.py): headers
duplicated, folded, oddly cased or spaced, and X-Forwarded-For with and without a proxy the
operator trusts. A function sees the connection's peer (or the trusted proxy's last hop), once,
whatever the client sends, on plain requests and on WebSocket handshakes."""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Callable
from typing import Any

import pytest

from tests.server import ServerProcess

ECHO = """
export default {
  fetch(request) {
    const ips = [...request.headers].filter(([name]) => /ip|forwarded/i.test(name));
    return Response.json({ ips, cf: request.cf });
  },
};
"""


@pytest.fixture(scope="module")
def plain(module_servers: Callable[..., ServerProcess]) -> tuple[ServerProcess, str]:
    server = module_servers(workers=1)
    return server, _deploy(server)


@pytest.fixture(scope="module")
def proxied(module_servers: Callable[..., ServerProcess]) -> tuple[ServerProcess, str]:
    server = module_servers({"VORTEX_FUNCTIONS_TRUST_PROXY": "1"}, workers=1)
    return server, _deploy(server)


def _deploy(server: ServerProcess) -> str:
    import urllib.request

    body = json.dumps({"code": ECHO, "filename": "ip.mjs"}).encode()
    request = urllib.request.Request(
        f"{server.url}/deploy", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["function_id"])


def ask(
    server: ServerProcess, function_id: str, headers: str, upgrade: bool = False
) -> tuple[int, Any]:
    """One request on a raw socket, every header byte the client's."""
    extra = ""
    if upgrade:
        key = base64.b64encode(os.urandom(16)).decode()
        extra = (
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        )
    head = (
        f"GET / HTTP/1.1\r\nHost: {function_id}.localhost:{server.functions_port}\r\n"
        f"{headers}{extra}" + ("" if upgrade else "Connection: close\r\n") + "\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.functions_port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    body = data.split(b"\r\n\r\n", 1)[1]
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


SPOOFS = {
    "duplicated": "CF-Connecting-IP: 1.1.1.1\r\nCF-Connecting-IP: 2.2.2.2\r\n",
    "oddly-cased": "cF-cOnNeCtInG-iP: 1.1.1.1\r\nX-REAL-ip: 2.2.2.2\r\n",
    "folded-after-another": "X-Note: a\r\n CF-Connecting-IP: 1.1.1.1\r\n",
    "folded-value": "CF-Connecting-IP: 1.1.1.1\r\n\t2.2.2.2\r\n",
    "space-before-colon": "CF-Connecting-IP : 1.1.1.1\r\n",
    "tab-in-name": "CF-Connecting-IP\t: 1.1.1.1\r\n",
    "empty-value": "CF-Connecting-IP:\r\nX-Real-IP: \r\n",
    "underscores": "CF_Connecting_IP: 1.1.1.1\r\nX_Real_IP: 2.2.2.2\r\n",
    "forwarded-without-a-proxy": "X-Forwarded-For: 1.1.1.1\r\nForwarded: for=2.2.2.2\r\n",
    "latin-1-lookalike": "CF-Connecting-\xcdP: 1.1.1.1\r\n",
}


def _client_ips(body: Any) -> list[str]:
    return [value for name, value in body["ips"] if name in ("cf-connecting-ip", "x-real-ip")]


@pytest.mark.parametrize("headers", list(SPOOFS.values()), ids=list(SPOOFS))
@pytest.mark.parametrize("upgrade", [False, True], ids=["request", "handshake"])
def test_a_client_cannot_choose_its_address(
    plain: tuple[ServerProcess, str], headers: str, upgrade: bool
) -> None:
    server, function_id = plain
    status, body = ask(server, function_id, headers, upgrade)
    if status == 400:
        return  # refused as malformed before any function ran: nothing was spoofed
    assert status == 200, body  # the function answers a handshake with JSON too
    assert _client_ips(body) == ["127.0.0.1", "127.0.0.1"], body
    assert set(body["cf"]) <= {"httpProtocol", "clientAcceptEncoding"}, body


PROXIED = {
    "last-hop": ("X-Forwarded-For: 1.1.1.1, 9.9.9.9\r\n", "9.9.9.9"),
    "duplicated-header": (
        "X-Forwarded-For: 1.1.1.1\r\nx-forwarded-FOR: 2.2.2.2, 9.9.9.9\r\n",
        "9.9.9.9",
    ),
    "trailing-comma": ("X-Forwarded-For: 9.9.9.9,\r\n", "127.0.0.1"),
    "not-an-address": ("X-Forwarded-For: 9.9.9.9, evil\r\n", "127.0.0.1"),
    "mapped-ipv4": ("X-Forwarded-For: ::ffff:9.9.9.9\r\n", "9.9.9.9"),
    "with-a-port": ("X-Forwarded-For: 9.9.9.9:80\r\n", "127.0.0.1"),
    "cf-header-behind-the-proxy": ("CF-Connecting-IP: 1.1.1.1\r\n", "127.0.0.1"),
}


@pytest.mark.parametrize(("headers", "expected"), list(PROXIED.values()), ids=list(PROXIED))
def test_behind_a_trusted_proxy_only_its_last_hop_counts(
    proxied: tuple[ServerProcess, str], headers: str, expected: str
) -> None:
    server, function_id = proxied
    status, body = ask(server, function_id, headers)
    assert status == 200, body
    assert _client_ips(body) == [expected, expected], body
