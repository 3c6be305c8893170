"""The functions listener: each function on its own origin, served by the hosts themselves.

Requests go to ``http://{name or id}.localhost:{functions_port}/...``; HTTP details (keep-alive,
pipelining, chunked bodies both ways, HEAD, 100-continue, limits, timeouts) are checked on raw
sockets, as a client that is not aiohttp would send them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace

import aiohttp
import orjson
import pytest

from tests.server import ServerProcess
from vortex.config import Settings
from vortex.dataplane import listener_error_details

Deploy = Callable[..., Awaitable[str]]

ECHO = """
export default {
  async fetch(request, env, ctx) {
    const body = await request.text();
    console.log('echo', request.method, request.url);
    return Response.json({
      url: request.url,
      method: request.method,
      body,
      agent: request.headers.get('user-agent'),
      host: request.headers.get('host'),
    }, { headers: { 'x-echo': 'yes' } });
  },
};
"""

STREAM = """
export default {
  fetch(request) {
    const encoder = new TextEncoder();
    let n = 0;
    const body = new ReadableStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        n += 1;
        controller.enqueue(encoder.encode('part ' + n + '\\n'));
        if (n === 3) controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  },
};
"""


async def _deploy(http: aiohttp.ClientSession, code: str, **extra: object) -> dict[str, object]:
    async with http.post("/deploy", json={"code": code, "filename": "index.mjs", **extra}) as r:
        body = await r.json()
        assert r.status == 200, body
        return dict(body)


async def _recorded(http: aiohttp.ClientSession, ref: str, run_id: str) -> dict[str, object]:
    """The run as the history has it: written once the host has told of its end."""
    for _ in range(100):
        async with http.get(f"/functions/{ref}/runs/{run_id}") as response:
            if response.status == 200:
                return dict(await response.json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} of {ref} never reached the history")


def _raw(port: int, data: bytes, *, read_until_close: bool = True, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
        return b"".join(chunks)


async def test_a_function_answers_at_its_name_with_the_url_as_sent(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = f"echo-{time.monotonic_ns() % 10**9}"
    deployed = await _deploy(http, ECHO, name=name)
    assert deployed["url"] == f"http://{name}.localhost:{server.functions_port}"
    url = server.fn_url(name, "/api/items?q=1&q=2")
    async with http.get(url, headers={"User-Agent": "tests/1"}) as response:
        assert response.status == 200
        assert response.headers["x-echo"] == "yes"
        assert response.headers["x-vortex-run-id"]
        body = await response.json()
    assert body["url"] == url
    assert body["host"] == f"{name}.localhost:{server.functions_port}"
    assert body["agent"] == "tests/1"
    # By id too, and the id's URL names that very version.
    function_id = str(deployed["function_id"])
    async with http.post(server.fn_url(function_id, "/x"), data=b"payload") as response:
        body = await response.json()
    assert body == {
        "url": server.fn_url(function_id, "/x"),
        "method": "POST",
        "body": "payload",
        "agent": body["agent"],
        "host": f"{function_id}.localhost:{server.functions_port}",
    }


async def test_run_ids_differ_in_the_eight_characters_tools_show(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # `vortex logs -f`, `vortex dev` and the dashboard show a run id's first 8 characters: the
    # runs of one host were all `b9b901ac` there when the host's random part came first.
    name = f"ids-{time.monotonic_ns() % 10**9}"
    await _deploy(http, ECHO, name=name)
    run_ids = []
    for _ in range(5):
        async with http.get(server.fn_url(name, "/")) as response:
            assert response.status == 200
            run_ids.append(response.headers["x-vortex-run-id"])
    assert len({run_id[:8] for run_id in run_ids}) == 5, run_ids
    assert all(re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", r) for r in run_ids)


URL_PROBE = (
    "export default { fetch(request) {\n"
    "  return Response.json({ url: request.url, href: new URL(request.url).href });\n"
    "} };"
)


@pytest.mark.parametrize(
    ("target", "host", "expected"),
    [
        (
            "/api/items?q=1&x=a,b",
            "{fid}.localhost:{port}",
            "http://{fid}.localhost:{port}/api/items?q=1&x=a,b",
        ),
        ("/a/../b/./c", "{fid}.localhost:{port}", "http://{fid}.localhost:{port}/b/c"),
        ("/%2e%2E/x", "{fid}.localhost:{port}", "http://{fid}.localhost:{port}/x"),
        (
            "/x?q='quoted'",
            "{fid}.localhost:{port}",
            "http://{fid}.localhost:{port}/x?q=%27quoted%27",
        ),
        ("/caf%C3%A9|^", "{FID}.LOCALHOST:{port}", "http://{fid}.localhost:{port}/caf%C3%A9|%5E"),
        ("/", "{fid}.localhost:80", "http://{fid}.localhost/"),
        ("/", "{fid}.localhost:0{port}", "http://{fid}.localhost:{port}/"),
        ("/p", "{fid}.localhost", "http://{fid}.localhost/p"),
    ],
)
async def test_request_url_is_what_the_url_parser_makes_of_it(
    server: ServerProcess, http: aiohttp.ClientSession, target: str, host: str, expected: str
) -> None:
    # Most incoming URLs are taken as built, unparsed (request.js, alreadySerialized): each
    # must equal what the URL parser would have made of it, and the others are parsed.
    function_id = str((await _deploy(http, URL_PROBE))["function_id"])
    fill = {"fid": function_id, "FID": function_id.upper(), "port": server.functions_port}
    request = f"GET {target} HTTP/1.1\r\nHost: {host.format(**fill)}\r\nConnection: close\r\n\r\n"
    answer = _raw(server.functions_port, request.encode())
    assert answer.startswith(b"HTTP/1.1 200 OK"), answer
    body = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["url"] == body["href"] == expected.format(**fill), body


async def test_unknown_hostnames_are_404_json(server: ServerProcess) -> None:
    answer = _raw(server.functions_port, b"GET / HTTP/1.1\r\nHost: nobody-here.localhost\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert b'"code":"function_not_found"' in answer
    # A bare address or the domain itself names no function: the client was most likely
    # pointed at this port instead of the API's, and is told so.
    for host in (b"127.0.0.1", b"localhost:1234"):
        answer = _raw(server.functions_port, b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 404 ")
        assert b"{name}.localhost" in answer
        assert b'"code":"not_found"' in answer
        assert b"not the API: " in answer
        assert f"is on port {server.port}".encode() in answer
    answer = _raw(server.functions_port, b"GET / HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    answer = _raw(server.functions_port, b"NOT HTTP AT ALL\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")


async def test_keep_alive_and_pipelined_requests_answer_in_order(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = str((await _deploy(http, ECHO))["function_id"])
    host = f"{function_id}.localhost:{server.functions_port}".encode()
    requests = b"".join(
        b"POST /%d HTTP/1.1\r\nHost: %s\r\nContent-Length: 1\r\n\r\n%d" % (i, host, i)
        for i in range(5)
    )
    requests += b"GET /last HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host
    answer = _raw(server.functions_port, requests)
    assert answer.count(b"HTTP/1.1 200 OK") == 6
    positions = [answer.index(b'"body":"%d"' % i) for i in range(5)]
    assert positions == sorted(positions)
    assert answer.rstrip().endswith(b"}")
    assert b"connection: close" in answer.split(b"/last")[-1] or answer.count(b"close") >= 1


async def test_the_function_a_request_names_is_read_as_http_says(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """RFC 9112: more than one Host header, or a Host that is not a host, is a 400 (and the
    connection ends: a server in front may have read the other Host); an absolute-form target
    names the function, and the function sees that host as its Host and in its URL."""
    port = server.functions_port
    echo = str((await _deploy(http, ECHO))["function_id"])
    other = str((await _deploy(http, ECHO))["function_id"])
    two = (
        b"GET / HTTP/1.1\r\nHost: %s.localhost\r\nHost: %s.localhost\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: %s.localhost\r\n\r\n"
        % (other.encode(), echo.encode(), echo.encode())
    )
    answer = _raw(port, two)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"more than one Host header" in answer
    assert answer.count(b"HTTP/1.1 ") == 1, "the connection must end after the 400"
    for host in (b"%s.localhost/x" % echo.encode(), b"u@%s.localhost" % echo.encode(), b"a b"):
        answer = _raw(port, b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host)
        assert answer.startswith(b"HTTP/1.1 400 ") and b"not a host name" in answer, host
    absolute = b"http://%s.localhost:%d/abs?q=1" % (echo.encode(), port)
    answer = _raw(
        port,
        b"GET %s HTTP/1.1\r\nHost: %s.localhost\r\nConnection: close\r\n\r\n"
        % (absolute, other.encode()),
    )
    assert answer.startswith(b"HTTP/1.1 200 ")
    seen = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert seen["url"] == absolute.decode()
    assert seen["host"] == f"{echo}.localhost:{port}"


async def test_requests_no_function_can_serve_are_answered_without_a_run(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """TRACE and CONNECT, which no Request can carry, ``OPTIONS *``, which names no path, a
    Host whose port is past 65535 and an HTTP version other than 1.x: a run would only fail and
    blame the function (a 500 ``function_error``), or be told the wrong protocol."""
    function_id = str((await _deploy(http, ECHO))["function_id"])
    host = f"{function_id}.localhost".encode()
    port = server.functions_port
    for head in (b"TRACE / HTTP/1.1", b"CONNECT %s:443 HTTP/1.1" % host):
        answer = _raw(port, b"%s\r\nHost: %s\r\nConnection: close\r\n\r\n" % (head, host))
        assert answer.startswith(b"HTTP/1.1 405 "), answer
        assert b"\r\nallow: GET, HEAD, POST" in answer and b"method_not_allowed" in answer
        assert b"x-vortex-run-id" not in answer
    answer = _raw(port, b"OPTIONS * HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"not a path" in answer, answer
    assert b"x-vortex-run-id" not in answer
    # The parser reads an HTTP/2.0 request line (and 0.9); it was served as HTTP/1.0.
    for version in (b"2.0", b"0.9"):
        answer = _raw(
            port, b"GET / HTTP/%s\r\nHost: %s\r\nConnection: close\r\n\r\n" % (version, host)
        )
        assert answer.startswith(b"HTTP/1.1 505 "), answer
        assert b"http_version_not_supported" in answer and b"x-vortex-run-id" not in answer
    # A port no URL can hold: new Request threw, and the function was blamed.
    answer = _raw(port, b"GET / HTTP/1.1\r\nHost: %s:99999\r\nConnection: close\r\n\r\n" % host)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"not a host name" in answer, answer
    answer = _raw(port, b"GET / HTTP/1.1\r\nHost: %s:65535\r\nConnection: close\r\n\r\n" % host)
    assert answer.startswith(b"HTTP/1.1 200 "), answer


async def test_a_head_of_thousands_of_headers_costs_its_run_little(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """A 54 KB head of 6,000 headers, which a function iterates: iterating sorted the whole
    list again at each step, and one such request spent the run's second of CPU."""
    code = (
        "export default { fetch(request) { let n = 0; "
        "for (const [name] of request.headers) if (name.startsWith('h')) n += 1; "
        "return Response.json({ n }); } };"
    )
    function_id = str((await _deploy(http, code))["function_id"])
    host = f"{function_id}.localhost".encode()
    many = b"".join(b"h%d:v\r\n" % i for i in range(6000))
    head = b"GET / HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n" % (host, many)
    assert len(head) < 64 * 1024
    answer = _raw(server.functions_port, head)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert orjson.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"n": 6001}


async def test_chunked_request_bodies_head_and_100_continue(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = str((await _deploy(http, ECHO))["function_id"])
    host = f"{function_id}.localhost".encode()
    chunked = (
        b"POST /c HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" % host
    )
    answer = _raw(server.functions_port, chunked)
    assert b'"body":"hello world"' in answer
    head = _raw(
        server.functions_port,
        b"HEAD /h HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host,
    )
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"content-length: " in head
    assert head.endswith(b"\r\n\r\n")  # a head, no body
    with socket.create_connection(("127.0.0.1", server.functions_port), timeout=10) as sock:
        sock.sendall(
            b"POST /e HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n" % host
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"data")
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 200 OK")
    assert b'"body":"data"' in rest


async def test_a_head_answer_keeps_the_length_its_handler_states(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # As Hono answers HEAD: the GET's headers on a null body. The length is the GET's.
    code = (
        "export default { fetch(request) {\n"
        "  const get = new Response('hello world', { headers: { 'content-length': '11' } });\n"
        "  return request.method === 'HEAD' ? new Response(null, get) : get;\n"
        "} };"
    )
    function_id = str((await _deploy(http, code))["function_id"])
    head = _raw(
        server.functions_port,
        b"HEAD / HTTP/1.1\r\nHost: %s.localhost\r\nConnection: close\r\n\r\n"
        % function_id.encode(),
    )
    assert head.startswith(b"HTTP/1.1 200 OK"), head
    assert b"content-length: 11\r\n" in head, head
    assert head.endswith(b"\r\n\r\n")


async def test_streamed_responses_are_chunked(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = str((await _deploy(http, STREAM))["function_id"])
    async with http.get(server.fn_url(function_id, "/")) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        assert await response.text() == "part 1\npart 2\npart 3\n"


async def test_a_whole_body_sent_in_parts_states_its_length(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """A body of known bytes over 1 MiB crosses to the connection in parts, yet its length is
    known: it is stated (as workerd does), not chunked; a download shows its progress."""
    code = "export default { fetch() { return new Response('y'.repeat(3_000_000)); } };"
    function_id = str((await _deploy(http, code))["function_id"])
    async with http.get(server.fn_url(function_id, "/")) as response:
        assert response.headers["content-length"] == "3000000"
        assert "transfer-encoding" not in response.headers
        assert len(await response.read()) == 3_000_000
    async with http.head(server.fn_url(function_id, "/")) as response:
        assert response.headers["content-length"] == "3000000"


async def test_header_values_are_utf8_both_ways(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """As workerd: a client's UTF-8 header reaches the code as typed (a byte that is no UTF-8
    is U+FFFD), and a value the code sets goes out as UTF-8, '€' included (the ByteString rule
    made it a TypeError and a 500, and sent 'é' as the byte E9, a mangled download name)."""
    code = (
        "export default { fetch(request) {\n"
        "  return new Response(JSON.stringify([request.headers.get('x-name'),"
        " request.headers.get('x-latin')]), { headers: {\n"
        "    'x-echo': request.headers.get('x-name'), 'x-euro': '\u20ac5',\n"
        "    'content-disposition': 'attachment; filename=\"r\u00e9sum\u00e9.pdf\"',\n"
        "    'x-lone': 'a\\ud800b' } });\n"
        "} };"
    )
    function_id = str((await _deploy(http, code))["function_id"])
    answer = _raw(
        server.functions_port,
        b"GET / HTTP/1.1\r\nHost: %s.localhost\r\nX-Name: Jos\xc3\xa9 \xe2\x82\xac\r\n"
        b"X-Latin: caf\xe9\r\nConnection: close\r\n\r\n" % function_id.encode(),
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert orjson.loads(body) == ["Jos\u00e9 \u20ac", "caf\ufffd"]
    assert b"\r\nx-echo: Jos\xc3\xa9 \xe2\x82\xac\r\n" in head, head
    assert b"\r\nx-euro: \xe2\x82\xac5\r\n" in head, head
    assert b'filename="r\xc3\xa9sum\xc3\xa9.pdf"' in head, head
    assert b"\r\nx-lone: a\xef\xbf\xbdb\r\n" in head, head


async def test_reason_phrases_are_rfc_9110s_and_a_class_name_for_the_rest(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """As workerd says them: 418 "I'm a teapot", 413 "Payload Too Large" (Python's table has
    the names RFC 9110 replaced), a status no RFC names its class's name, and a statusText the
    code gives as given."""
    code = (
        "export default { fetch(request) {\n"
        "  const params = new URL(request.url).searchParams;\n"
        "  return new Response('x', { status: +params.get('s'), statusText: params.get('t') || '' });\n"
        "} };"
    )
    function_id = str((await _deploy(http, code))["function_id"])
    expected = {
        "s=200": b"200 OK",
        "s=418": b"418 I'm a teapot",
        "s=413": b"413 Payload Too Large",
        "s=520": b"520 Server Error",
        "s=299": b"299 Successful",
        "s=399": b"399 Redirection",
        "s=499": b"499 Client Error",
        "s=404&t=Gone%20Fishing": b"404 Gone Fishing",
    }
    for query, status_line in expected.items():
        answer = _raw(
            server.functions_port,
            b"GET /?%s HTTP/1.1\r\nHost: %s.localhost\r\nConnection: close\r\n\r\n"
            % (query.encode(), function_id.encode()),
        )
        assert answer.startswith(b"HTTP/1.1 " + status_line + b"\r\n"), (query, answer[:60])


async def test_a_body_the_head_announces_is_a_stream_even_when_empty(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """As workerd: ``Content-Length: 0`` (or chunked) is an empty body, a stream; a request
    whose head announces none, or a GET, has ``request.body`` null."""
    code = (
        "export default { async fetch(request) {\n"
        "  return new Response(request.body === null ? 'null' : 'stream:' + (await request.text()));\n"
        "} };"
    )
    function_id = str((await _deploy(http, code))["function_id"])
    host = b"Host: %s.localhost\r\nConnection: close\r\n" % function_id.encode()
    for head, expected in (
        (b"POST / HTTP/1.1\r\nContent-Length: 0\r\n", b"stream:"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n", b"stream:"),
        (b"POST / HTTP/1.1\r\n", b"null"),
        (b"GET / HTTP/1.1\r\nContent-Length: 0\r\n", b"null"),
    ):
        tail = b"0\r\n\r\n" if b"chunked" in head else b""
        answer = _raw(server.functions_port, head + host + b"\r\n" + tail)
        assert answer.endswith(b"\r\n\r\n" + expected), (head, answer)


async def test_bodies_over_the_limit_are_refused(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = str((await _deploy(http, ECHO))["function_id"])
    host = f"{function_id}.localhost".encode()
    # Said up front: refused before a byte of the body is read.
    answer = _raw(
        server.functions_port,
        b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n" % (host, 3 << 20),
    )
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"code":"payload_too_large"' in answer
    # Said as the API says it, with what raises it (an upload app's owner meets it first).
    assert b"over the limit of 2 MiB (2,097,152 bytes)" in answer
    assert b"VORTEX_MAX_BODY_BYTES" in answer
    # Found out on the way (chunked): refused once past the limit.
    with socket.create_connection(("127.0.0.1", server.functions_port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % host)
        chunk = b"x" * 65536
        try:
            for _ in range(64):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server may close while we still write
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413 ")


async def test_a_script_function_answers_with_its_return_value_and_errors_are_json(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    async with http.post("/deploy", json={"code": "Vortex.return({ok: 1});"}) as r:
        script_id = (await r.json())["function_id"]
    async with http.get(server.fn_url(script_id, "/")) as response:
        assert response.status == 200
        assert await response.json() == {"ok": 1}
    failing = await _deploy(http, "export default { fetch() { throw new TypeError('boom'); } };")
    async with http.get(server.fn_url(str(failing["function_id"]), "/")) as response:
        assert response.status == 500
        assert response.headers["x-vortex-error"] == "function_error"
        body = await response.json()
    assert body["error"]["code"] == "function_error"
    assert "boom" in body["error"]["message"]
    assert "stack" not in body["error"]  # stacks are for the history and the tail
    run = await _recorded(http, str(failing["function_id"]), body["run_id"])
    assert run["trigger"] == "http"
    assert run["error"]["code"] == "function_error"
    assert "index.mjs" in run["error"]["stack"]


async def test_off_loopback_a_thrown_errors_words_stay_with_the_operator(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """A thrown message may hold what the code had (here a secret): a listener that others
    reach answers only that the function threw, with the run id, as Workers do in production;
    the history keeps the words. On loopback (the tests' servers), they are shown, as in
    wrangler dev. Vortex's own errors (limits, a bad response) are said either way."""
    server = server_factory({"VORTEX_FUNCTIONS_ERROR_DETAILS": "0"})
    async with aiohttp.ClientSession(base_url=server.url) as http:
        code = (
            "export default { fetch(request, env) {\n"
            "  if (new URL(request.url).pathname === '/bad') return 'not a response';\n"
            "  throw new TypeError('db password ' + env.SECRET);\n"
            "} };"
        )
        function_id = str((await _deploy(http, code, secrets={"SECRET": "hunter2"}))["function_id"])
        async with http.get(server.fn_url(function_id, "/")) as response:
            assert response.status == 500
            assert response.headers["x-vortex-error"] == "function_error"
            raw = await response.read()
        body = orjson.loads(raw)
        assert b"hunter2" not in raw and b"TypeError" not in raw
        assert body["error"]["code"] == "function_error"
        assert body["error"]["message"].startswith("The function threw an error.")
        run = await _recorded(http, function_id, body["run_id"])
        assert "db password hunter2" in str(run["error"])
        async with http.get(server.fn_url(function_id, "/bad")) as response:
            body = await response.json()
        assert response.status == 502
        assert "must return a Response" in body["error"]["message"]


def test_error_details_follow_the_listeners_reach_unless_the_operator_says() -> None:
    base = Settings(functions_host="127.0.0.1")
    assert listener_error_details(base)
    assert listener_error_details(replace(base, functions_host="::1"))
    assert not listener_error_details(replace(base, functions_host="0.0.0.0"))
    assert not listener_error_details(replace(base, functions_host=None, host="192.0.2.1"))
    assert listener_error_details(
        replace(base, functions_host="0.0.0.0", functions_error_details=True)
    )
    assert not listener_error_details(replace(base, functions_error_details=False))


async def test_listener_runs_reach_the_history_and_the_live_tail(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = f"tail-{time.monotonic_ns() % 10**9}"
    await _deploy(http, ECHO, name=name)
    async with http.ws_connect(f"/ws/{name}") as ws:
        async with http.get(server.fn_url(name, "/seen")) as response:
            run_id = response.headers["x-vortex-run-id"]
        message = await ws.receive_json(timeout=10)
    assert message["run_id"] == run_id
    assert message["message"] == f"echo GET {server.fn_url(name, '/seen')}"
    run = await _recorded(http, name, run_id)
    assert run["trigger"] == "http"
    assert run["ok"] is True


async def test_a_new_version_and_a_delete_take_effect_at_once(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = f"ver-{time.monotonic_ns() % 10**9}"
    template = "export default { fetch() { return new Response('v%d'); } };"
    await _deploy(http, template % 1, name=name)
    url = server.fn_url(name, "/")
    async with http.get(url) as response:
        assert await response.text() == "v1"
    await _deploy(http, template % 2, name=name)
    async with http.get(url) as response:
        assert await response.text() == "v2"
    async with http.post(f"/functions/{name}/rollback") as response:
        assert response.status == 200
    async with http.get(url) as response:
        assert await response.text() == "v1"
    async with http.delete(f"/functions/{name}") as response:
        assert response.status == 200
    async with http.get(url) as response:
        assert response.status == 404


async def test_the_api_port_redirects_and_health_says_where_functions_are(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = str((await _deploy(http, ECHO))["function_id"])
    async with http.get(f"/fn/{function_id}/a%20b?x=1", allow_redirects=False) as response:
        assert response.status == 308
        assert response.headers["Location"] == server.fn_url(function_id, "/a%20b?x=1")
    async with http.get("/health") as response:
        health = await response.json()
    assert health["functions"]["listening"] is True
    assert health["functions"]["port"] == server.functions_port


async def test_a_trickling_client_is_cut_and_others_are_served(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory({"VORTEX_FUNCTIONS_HEADER_TIMEOUT_MS": "500"}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = str((await _deploy(http, ECHO))["function_id"])
        host = f"{function_id}.localhost".encode()
        # The supervisor waits for the first head; the host for later ones on the connection.
        with socket.create_connection(("127.0.0.1", server.functions_port), timeout=5) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHo")
            started = time.monotonic()
            assert slow.recv(100) == b""
            assert time.monotonic() - started < 3
        with socket.create_connection(("127.0.0.1", server.functions_port), timeout=5) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % host)
            first = slow.recv(65536)
            assert first.startswith(b"HTTP/1.1 200 OK")
            slow.sendall(b"GET / HTTP/1.1\r\nHo")
            started = time.monotonic()
            assert slow.recv(100) == b""
            assert time.monotonic() - started < 3
        async with http.get(server.fn_url(function_id, "/")) as response:
            assert response.status == 200


SLOW_TOP_LEVEL = """
const started = Date.now();
while (Date.now() - started < 300) {}  // top-level work, as a big app's setup is
console.log("top level ran");
export default { fetch() { return new Response("warm"); } };
"""


async def test_a_deploy_makes_the_instance_before_the_first_request(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # The route and an instance go to the hosts at deploy: the first request's run does not
    # run the 300 ms of top-level code (that warm-up is no run of anyone's: its log line is
    # not kept).
    name = f"warm-{time.monotonic_ns() % 10**9}"
    await _deploy(http, SLOW_TOP_LEVEL, name=name)
    await asyncio.sleep(1.5)  # the warm-up's 300 ms, on each host, on a busy machine
    async with http.get(server.fn_url(name, "/")) as response:
        assert await response.text() == "warm"
        run_id = response.headers["x-vortex-run-id"]
    run = await _recorded(http, name, run_id)
    assert float(run["execution_time_ms"]) < 150, run  # type: ignore[arg-type]
    assert run["logs"] == [], run


async def test_the_instance_is_on_its_way_before_the_deploy_is_answered(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # The route goes to the hosts before the deploy's answer, so a request sent the moment the
    # answer is read (on a connection opened before) finds the warm-up under way or done, and
    # runs on its instance: it waits for the top level, but its run does not run it.
    for attempt in range(3):
        name = f"warm-now-{attempt}-{time.monotonic_ns() % 10**9}"
        reader, writer = await asyncio.open_connection("127.0.0.1", server.functions_port)
        await _deploy(http, SLOW_TOP_LEVEL, name=name)
        writer.write(
            f"GET / HTTP/1.1\r\nHost: {name}.localhost\r\nConnection: close\r\n\r\n".encode()
        )
        answer = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and body.endswith(b"warm"), answer
        run_id = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"x-vortex-run-id:")
        )
        run = await _recorded(http, name, run_id)
        # Its time may include the wait for the warm-up's turn (the host may read the request
        # before that turn begins); the top level's log line is the warm-up's, not the run's.
        assert run["logs"] == [], run


async def test_a_deploy_whose_top_level_fails_still_answers_its_requests_with_the_error(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # A warm-up that throws, or never ends, keeps no instance; the first request runs the
    # top level itself and gets what it does, with the host still there.
    deployed = await _deploy(
        http,
        "if (globalThis.Response) throw new Error('broken at the top');\n"
        "export default { fetch() { return new Response('never'); } };",
    )
    await asyncio.sleep(0.3)
    async with http.get(server.fn_url(str(deployed["function_id"]), "/")) as response:
        body = await response.json()
    assert response.status == 500, body
    assert body["error"]["message"] == "broken at the top", body


PULLED_STREAM = """
export default { fetch() {
  let pulled = 0;
  const chunk = new Uint8Array(16384).fill(120);
  const body = new ReadableStream({
    pull(controller) {
      pulled += 1;
      if (pulled % 50 === 0) console.log("pulled", pulled);
      if (pulled > 1000) controller.close(); else controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return new Response(body);
} };
"""


async def test_a_slow_reader_holds_back_the_stream_it_reads(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # A client that stops reading: the run stops pulling its stream once the connection's
    # buffers are full, instead of the host buffering the whole body (1,000 × 16 KiB; a short body, so that
    # a busy machine sends it all within the run's wall limit).
    function_id = str((await _deploy(http, PULLED_STREAM))["function_id"])
    pulled: list[int] = []
    with socket.socket() as sock:
        async with http.ws_connect(f"/ws/{function_id}") as tail:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sock.connect(("127.0.0.1", server.functions_port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: %s.localhost\r\n\r\n" % function_id.encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK")
            await asyncio.sleep(1.0)  # not reading

            async def lines() -> None:
                while True:
                    message = await tail.receive(timeout=0.5)
                    pulled.append(int(orjson.loads(message.data)["message"].split()[1]))

            with contextlib.suppress(TimeoutError):
                await lines()
            held_back = max(pulled, default=0)
            received, last = 0, b""
            sock.settimeout(10)
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
                last = (last + chunk)[-16:]
                if last.endswith(b"\r\n0\r\n\r\n"):  # the chunked body's end
                    break
    assert held_back < 600, pulled
    assert received > 1000 * 16384


READS_FIRST_HEADS = {"VORTEX_DEDICATED_HOSTS": "1"}
"""With dedicated hosts the supervisor reads each first head to choose the host (listener.py)."""


@pytest.mark.parametrize(
    ("env", "silent", "shed_line"),
    [
        # The supervisor reads at most 88 heads at once (its 600 open files less 512 kept for
        # the rest): the other silent clients are closed at once.
        (READS_FIRST_HEADS, 300, "connections being read already"),
        # Passed on at once, unread: the supervisor holds none of them. The host keeps 472 (its
        # 600 files less 128 for its pipes), and closes the rest at once.
        ({}, 500, "connections open already"),
    ],
    ids=["dedicated-hosts", "any-host"],
)
async def test_slow_clients_on_the_listener_leave_the_api_its_descriptors(
    server_factory: Callable[..., ServerProcess], env: dict[str, str], silent: int, shed_line: str
) -> None:
    # Clients that connect and never send leave the API, /health and the hosts' pipes what
    # they need. Once they go, the listener serves again.
    server = server_factory(env, workers=1, open_files=600)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = str((await _deploy(http, ECHO))["function_id"])
        slow = [
            socket.create_connection(("127.0.0.1", server.functions_port)) for _ in range(silent)
        ]
        try:
            await asyncio.sleep(0.5)
            for _ in range(5):
                async with http.get("/health", timeout=aiohttp.ClientTimeout(total=5)) as r:
                    assert r.status == 200
                async with http.post("/deploy", json={"code": "Vortex.return(1)"}) as r:
                    assert r.status == 200
            assert shed_line in server.log()
        finally:
            for sock in slow:
                sock.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                async with http.get(server.fn_url(function_id, "/x")) as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)


async def test_a_burst_of_connections_is_answered_whole(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # 1,000 clients connect, then all send at once, three times over: every one is answered.
    # (Hand-offs that found a host's queue full were once lost, a third of a first burst, and
    # the run lines of thousands of runs written on the event loop once stalled the server.)
    code = (
        "export default { async fetch() {"
        " await new Promise((r) => setTimeout(r, 50)); return new Response('ok'); } };"
    )
    function_id = str((await _deploy(http, code))["function_id"])
    request = (
        b"GET / HTTP/1.1\r\nHost: %s.localhost\r\nConnection: close\r\n\r\n" % function_id.encode()
    )

    async def one(go: asyncio.Event) -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.functions_port)
        try:
            await go.wait()
            writer.write(request)
            answer = await asyncio.wait_for(reader.read(), 30)
            return answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"ok")
        finally:
            writer.close()

    for _ in range(3):
        go = asyncio.Event()
        clients = [asyncio.create_task(one(go)) for _ in range(1000)]
        await asyncio.sleep(1.0)  # connected
        go.set()
        answered = await asyncio.gather(*clients)
        assert sum(answered) == 1000


@pytest.mark.parametrize(
    ("env", "silent", "most"),
    [
        # The listener reads 88 heads at once, the last 22 only for addresses that hold fewer
        # than 22: the silent clients get 66 (before, all 88 were the attacker's).
        (READS_FIRST_HEADS, 300, 66),
        # The host keeps 472 connections, the last 118 only for addresses holding fewer.
        ({}, 500, 354),
    ],
    ids=["dedicated-hosts", "any-host"],
)
async def test_slow_clients_of_one_address_leave_the_listener_to_the_others(
    server_factory: Callable[..., ServerProcess], env: dict[str, str], silent: int, most: int
) -> None:
    # 600 open files; silent clients from 127.0.0.2 no longer shut out a client from 127.0.0.1.
    server = server_factory(env, workers=1, open_files=600)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = str((await _deploy(http, ECHO))["function_id"])
        slow = []
        try:
            for _ in range(silent):
                client = socket.socket()
                slow.append(client)
                client.bind(("127.0.0.2", 0))
                client.connect(("127.0.0.1", server.functions_port))
            await asyncio.sleep(0.5)
            for _ in range(5):
                async with http.get(server.fn_url(function_id, "/")) as response:
                    assert response.status == 200
            held = re.search(r"\((\d+) from 127\.0\.0\.2\)", server.log())
            assert held is not None
            assert int(held.group(1)) <= most  # fewer when some were still on their way in
        finally:
            for client in slow:
                client.close()


LYING_CHUNKS = """
export default { fetch() {
  let sent = 0;
  return new Response(new ReadableStream({
    pull(controller) {
      sent += 1;
      if (sent > 40) { controller.close(); return; }
      // A real Uint8Array of 64 KiB whose own properties say it is empty.
      const chunk = new Uint8Array(65536).fill(65);
      Object.defineProperty(chunk, 'length', { value: 0 });
      Object.defineProperty(chunk, 'byteLength', { value: 0 });
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 }));
} };
"""


async def test_a_streamed_body_is_cut_at_the_response_limit_by_the_bytes_sent(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # The response limit counts the bytes that go out, never what a chunk says of itself
    # (issue 15, item 3: chunks that understated their size sent 80 MiB past the 32 MiB limit).
    server = server_factory({"VORTEX_MAX_RESPONSE_BYTES": "1000000"}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = str((await _deploy(http, LYING_CHUNKS))["function_id"])
    with socket.create_connection(("127.0.0.1", server.functions_port), timeout=10) as client:
        client.sendall(
            b"GET / HTTP/1.1\r\nHost: %s.localhost\r\nConnection: close\r\n\r\n"
            % function_id.encode()
        )
        received = b""
        while chunk := client.recv(1 << 20):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    sent = body.count(b"A")
    assert 0 < sent <= 1_000_000, sent  # 40 x 64 KiB were offered
    assert not body.endswith(b"\r\n0\r\n\r\n")  # cut, not ended as if complete


def _owners_of_connection(client: socket.socket) -> set[int]:
    """The pids holding the server's end of ``client``'s TCP connection (from /proc)."""
    client_port = client.getsockname()[1]
    server_port = client.getpeername()[1]
    inodes = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            remote_port = int(fields[2].split(":")[1], 16)
            if (local_port, remote_port) == (server_port, client_port):
                inodes.add(f"socket:[{fields[9]}]")
    owners = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        owners.add(int(pid))
    return owners


@pytest.mark.parametrize("env", [{}, READS_FIRST_HEADS], ids=["any-host", "dedicated-hosts"])
async def test_a_connection_is_held_by_one_host_and_never_by_the_supervisor(
    server_factory: Callable[..., ServerProcess], env: dict[str, str]
) -> None:
    server = server_factory(env)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = str((await _deploy(http, ECHO))["function_id"])
    hosts = set(server.host_pids())
    with socket.create_connection(("127.0.0.1", server.functions_port), timeout=10) as client:
        client.sendall(b"GET /a HTTP/1.1\r\nHost: %s.localhost\r\n\r\n" % function_id.encode())
        assert client.recv(65536).startswith(b"HTTP/1.1 200 ")
        owners = _owners_of_connection(client)
    assert len(owners) == 1 and owners <= hosts, (owners, hosts, server.process.pid)


async def test_kept_alive_connections_are_shared_evenly_by_the_hosts(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # As wrk or a proxy's pool opens them, all at once: each host gets its half. (Hosts that
    # accepted from one shared socket themselves let one of them take all 32.)
    server = server_factory({"VORTEX_DEBUG_HOST_HEADER": "1"}, workers=2)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = str((await _deploy(http, ECHO))["function_id"])
    request = b"GET / HTTP/1.1\r\nHost: %s.localhost\r\n\r\n" % function_id.encode()
    for _ in range(2):
        clients = [
            socket.create_connection(("127.0.0.1", server.functions_port), timeout=10)
            for _ in range(32)
        ]
        try:
            served_by = []
            for client in clients:
                client.sendall(request)
                answer = client.recv(65536)
                served_by.append(re.search(rb"x-vortex-host: (\d+)", answer).group(1))  # type: ignore[union-attr]
            assert sorted(Counter(served_by).values()) == [16, 16]
        finally:
            for client in clients:
                client.close()


async def test_a_date_the_function_sets_is_the_only_date(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """A proxy's response carries its origin's Date: the listener adds none of its own then."""
    dated = (
        "export default { fetch: () => new Response('x', "
        "{ headers: { Date: 'Wed, 21 Oct 2015 07:28:00 GMT' } }) };"
    )
    function_id = str((await _deploy(http, dated))["function_id"])
    plain = str((await _deploy(http, ECHO))["function_id"])
    async with aiohttp.ClientSession() as client:
        async with client.get(server.fn_url(function_id)) as response:
            assert response.headers.getall("date") == ["Wed, 21 Oct 2015 07:28:00 GMT"]
        async with client.get(server.fn_url(plain)) as response:
            assert len(response.headers.getall("date")) == 1
