"""What Workers globals do on the wire: `request.cf` on incoming requests (on the functions
listener and through POST /execute), and a FixedLengthStream's body sent with its length."""

from __future__ import annotations

import json
import socket

import aiohttp

from tests.server import ServerProcess

CF = """
export default {
  async fetch(request) {
    const made = new Request('https://example.com/');
    return Response.json({
      cf: request.cf,
      country: request.cf.country,
      frozen: Object.isFrozen(request.cf),
      same: request.cf === request.cf,
      made: made.cf === undefined,
      fromIncoming: new Request(request, { headers: { 'accept-encoding': 'other' } }).cf,
      cloned: request.clone().cf,
    });
  },
};
"""


async def _deploy(http: aiohttp.ClientSession, code: str, filename: str = "index.mjs") -> str:
    async with http.post("/deploy", json={"code": code, "filename": filename}) as response:
        body = await response.json()
        assert response.status == 200, body
        return str(body["function_id"])


def _exchange(port: int, data: bytes) -> bytes:
    """A raw request on a connection the server closes (``Connection: close``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


async def test_request_cf_on_the_listener(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, CF)
    headers = {"Accept-Encoding": "gzip, br"}
    async with http.get(server.fn_url(function_id, "/"), headers=headers) as response:
        assert response.status == 200
        body = await response.json()
    cf = {"httpProtocol": "HTTP/1.1", "clientAcceptEncoding": "gzip, br"}
    assert body == {
        "cf": cf,
        "frozen": True,
        "same": True,
        "made": True,
        "fromIncoming": cf,
        "cloned": cf,
    }
    # HTTP/1.0, and no Accept-Encoding: no clientAcceptEncoding rather than an invented one.
    raw = _exchange(
        server.functions_port,
        b"GET / HTTP/1.0\r\nHost: %s.localhost\r\n\r\n" % function_id.encode(),
    )
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), raw
    assert json.loads(payload)["cf"] == {"httpProtocol": "HTTP/1.0"}


async def test_request_cf_through_execute(http: aiohttp.ClientSession) -> None:
    function_id = await _deploy(http, CF)
    async with http.post(f"/execute/{function_id}") as response:
        body = await response.json()
    assert "error" not in body, body
    cf = json.loads(body["output"]["body"])
    assert cf["cf"] == {"httpProtocol": "HTTP/1.1"}
    assert cf["made"] is True


async def test_request_cf_in_service_worker_syntax(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    code = (
        "addEventListener('fetch', (event) => event.respondWith("
        "Response.json({ cf: event.request.cf, colo: event.request.cf.colo ?? 'none' })));"
    )
    function_id = await _deploy(http, code, filename="worker.js")
    async with http.get(server.fn_url(function_id, "/"), headers={"Accept-Encoding": "gzip"}) as r:
        body = await r.json()
    assert body == {
        "cf": {"httpProtocol": "HTTP/1.1", "clientAcceptEncoding": "gzip"},
        "colo": "none",
    }


FIXED = """
export default {
  async fetch(request) {
    const { searchParams } = new URL(request.url);
    const stated = Number(searchParams.get('stated'));
    const sent = Number(searchParams.get('sent'));
    const { readable, writable } = new FixedLengthStream(stated);
    const writer = writable.getWriter();
    (async () => {
      for (let i = 0; i < sent; i += 1) {
        await writer.write(new TextEncoder().encode('x')).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await writer.close().catch(() => {});
    })();
    return new Response(readable, { headers: { 'content-type': 'text/plain' } });
  },
};
"""


async def test_a_fixed_length_body_is_sent_with_its_length(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, FIXED)
    request = b"GET /?stated=%d&sent=%d HTTP/1.1\r\nHost: %s.localhost\r\nConnection: close\r\n\r\n"
    raw = _exchange(server.functions_port, request % (5, 5, function_id.encode()))
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), raw
    assert b"content-length: 5\r\n" in head.lower()
    assert b"transfer-encoding" not in head.lower()
    assert payload == b"xxxxx"
    # Too few bytes: the stream errors at close, and the connection is cut short of the length
    # it stated. Too many: the write past the length fails, and no byte past it is sent.
    for sent, most in ((3, 4), (8, 5)):
        raw = _exchange(server.functions_port, request % (5, sent, function_id.encode()))
        head, _, payload = raw.partition(b"\r\n\r\n")
        assert b"content-length: 5\r\n" in head.lower(), raw
        assert set(payload) <= {ord("x")} and len(payload) <= most, (sent, raw)
    async with http.get(server.fn_url(function_id, "/?stated=2&sent=2")) as response:
        assert response.headers["content-length"] == "2"
        assert await response.text() == "xx"


async def test_a_fixed_length_body_through_execute(http: aiohttp.ClientSession) -> None:
    # Through the supervisor the body is read whole: the length is checked, not sent.
    stated = FIXED.replace("Number(searchParams.get('stated'))", "3")
    whole = await _deploy(http, stated.replace("Number(searchParams.get('sent'))", "3"))
    short = await _deploy(http, stated)
    async with http.post(f"/execute/{whole}") as response:
        body = await response.json()
    assert "error" not in body, body
    assert body["output"]["body"] == "xxx"
    async with http.post(f"/execute/{short}") as response:
        body = await response.json()
    assert body["output"]["body"] == ""
    assert "FixedLengthStream" in body["output"]["bodyError"], body
