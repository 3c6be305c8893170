"""A fetched response's body streams: fetch() resolves at the head, the body comes as the
origin sends it and no faster than the function reads it, and it stops (the connection to the
origin closed) when the function cancels it, aborts it or ends. The origins here wait on the
test, not on the clock, wherever the proof is that a byte arrived before the next was sent."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import signal
import socket
import threading
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import brotli
import pytest
from aiohttp import web

from tests.conftest import TEST_SERVER_ENV
from tests.runs import recorded
from tests.server import ServerProcess, start_server, stop_and_check
from tests.threaded_app import app_in_thread

STREAM_ENV = {
    **TEST_SERVER_ENV,
    "VORTEX_FETCH_ALLOW_PRIVATE": "1",
    "VORTEX_FETCH_TIMEOUT_MS": "1000",
    "VORTEX_FETCH_MAX_RESPONSE_BYTES": str(256 << 20),
    "VORTEX_WALL_LIMIT_MS": "15000",
}
SMALL_ENV = {**STREAM_ENV, "VORTEX_FETCH_MAX_RESPONSE_BYTES": "100000"}
FLOOD_BYTES = 200 << 20
PIECE = 64 << 10


@dataclass
class Origin:
    port: int = 0
    gates: dict[str, threading.Event] = field(default_factory=dict)
    ended: dict[str, str] = field(default_factory=dict)
    """How a long answer ended, by token: "whole", or "disconnected" (the server closed)."""
    written: dict[str, int] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)

    def url(self, path: str, **query: Any) -> tuple[str, str]:
        token = uuid.uuid4().hex
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        return f"http://127.0.0.1:{self.port}{path}?t={token}{extra}", token

    def gate(self, token: str) -> threading.Event:
        return self.gates.setdefault(token, threading.Event())

    async def wait_ended(self, token: str) -> str:
        """How the answer for ``token`` ended, given 5 s to."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                while token not in self.ended:
                    await asyncio.sleep(0.02)
        return self.ended.get(token, "still sending")


def _origin_app(origin: Origin) -> web.Application:
    async def stream(request: web.Request, content_type: str = "text/plain") -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        return response

    async def gated(request: web.Request) -> web.StreamResponse:
        """chunk 1, then chunk 2 only once the test (or the function) opened the gate."""
        gate = origin.gate(request.query["t"])
        response = await stream(request)
        await response.write(b"chunk-1\n")
        opened = await asyncio.to_thread(gate.wait, 20)
        await response.write(b"chunk-2\n" if opened else b"gate never opened\n")
        await response.write_eof()
        return response

    async def open_gate(request: web.Request) -> web.Response:
        origin.gate(request.query["t"]).set()
        return web.Response(text="opened")

    async def drip(request: web.Request) -> web.StreamResponse:
        """``n`` lines ``ms`` apart, in ``enc`` (gzip, br) if asked, flushed line by line."""
        n, pause = int(request.query["n"]), int(request.query["ms"]) / 1000
        encoding = request.query.get("enc")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        if encoding:
            response.headers["Content-Encoding"] = encoding
        await response.prepare(request)
        gz = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        br = brotli.Compressor()
        for i in range(n):
            line = f"line {i} ".encode() * 50 + b"\n"
            if encoding == "gzip":
                line = gz.compress(line) + gz.flush(zlib.Z_SYNC_FLUSH)
            elif encoding == "br":
                line = br.process(line) + br.flush()
            await response.write(line)
            await asyncio.sleep(pause)
        if encoding == "gzip":
            await response.write(gz.flush())
        elif encoding == "br":
            await response.write(br.finish())
        await response.write_eof()
        return response

    async def sse(request: web.Request) -> web.StreamResponse:
        n, pause = int(request.query["n"]), int(request.query["ms"]) / 1000
        response = await stream(request, "text/event-stream")
        for i in range(n):
            await response.write(f"id: {i}\ndata: event {i}\n\n".encode())
            await asyncio.sleep(pause)
        await response.write_eof()
        return response

    async def flood(request: web.Request) -> web.StreamResponse:
        """200 MB offered, counted as the writes return."""
        token = request.query["t"]
        response = web.StreamResponse(headers={"Content-Length": str(FLOOD_BYTES)})
        await response.prepare(request)
        piece = b"f" * PIECE
        origin.written[token] = 0
        try:
            for _ in range(FLOOD_BYTES // PIECE):
                await response.write(piece)
                origin.written[token] += PIECE
        except (ConnectionError, asyncio.CancelledError):
            origin.ended[token] = "disconnected"
            raise
        origin.ended[token] = "whole"
        return response

    async def held(request: web.Request) -> web.StreamResponse:
        """A first line, then a byte every 50 ms for 20 s, unless the server goes away."""
        token = request.query["t"]
        origin.started.add(token)
        response = await stream(request)
        try:
            await response.write(b"first\n")
            for _ in range(400):
                await asyncio.sleep(0.05)
                await response.write(b".")
        except (ConnectionError, asyncio.CancelledError):
            origin.ended[token] = "disconnected"
            raise
        origin.ended[token] = "whole"
        return response

    async def idle(request: web.Request) -> web.StreamResponse:
        response = await stream(request)
        await response.write(b"first\n")
        await asyncio.sleep(3)
        await response.write(b"late\n")
        return response

    async def unsized(request: web.Request) -> web.StreamResponse:
        """200 000 bytes without a Content-Length."""
        response = await stream(request)
        for _ in range(20):
            await response.write(b"u" * 10_000)
            await asyncio.sleep(0.005)
        return response

    async def slow_json(request: web.Request) -> web.StreamResponse:
        response = await stream(request, "application/json")
        await response.write(b'{"a": ')
        await asyncio.sleep(0.05)
        await response.write(b"[1, 2, 3]}")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/json", slow_json)
    app.router.add_get("/gated", gated)
    app.router.add_get("/open", open_gate)
    app.router.add_get("/drip", drip)
    app.router.add_get("/sse", sse)
    app.router.add_get("/flood", flood)
    app.router.add_get("/held", held)
    app.router.add_get("/idle", idle)
    app.router.add_get("/unsized", unsized)
    return app


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    made = Origin()
    with app_in_thread(_origin_app(made)) as port:
        made.port = port
        yield made


@pytest.fixture(scope="module")
def stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("stream"), STREAM_ENV)
    yield proc
    stop_and_check(proc)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("small"), SMALL_ENV)
    yield proc
    stop_and_check(proc)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # identity: what the client reads is the function's bytes as sent, never re-encoded.
    async with aiohttp.ClientSession(
        auto_decompress=False, headers={"Accept-Encoding": "identity"}
    ) as session:
        yield session


async def deploy(http: aiohttp.ClientSession, server: ServerProcess, code: str) -> str:
    payload = {"code": code, "filename": "index.mjs", "allow_hosts": ["127.0.0.1"]}
    async with http.post(f"{server.url}/deploy", json=payload) as response:
        body = await response.json()
        assert response.status == 200, body
        return str(body["function_id"])


async def script(http: aiohttp.ClientSession, server: ServerProcess, code: str) -> Any:
    """Runs ``code`` as a script (``await`` allowed); its return value, or "Name: message"."""
    wrapped = (
        f"try {{ Vortex.return(await (async () => {{ {code} }})()); }}"
        " catch (e) { Vortex.return(e.name + ': ' + e.message); }"
    )
    payload = {"code": wrapped, "allow_hosts": ["127.0.0.1"]}
    async with http.post(f"{server.url}/deploy", json=payload) as response:
        function_id = (await response.json())["function_id"]
    async with http.post(f"{server.url}/execute/{function_id}") as response:
        body = await response.json()
    assert "error" not in body, body
    return body["output"]


PASS_THROUGH = """
export default {
  fetch(request) {
    return fetch(new URL(request.url).searchParams.get('to'));
  },
};
"""


async def test_a_passed_through_body_reaches_the_client_as_the_origin_sends_it(
    stream_server: ServerProcess, origin: Origin, http: aiohttp.ClientSession
) -> None:
    """The origin sends chunk 2 only once the client has chunk 1: a server that read the whole
    body before fetch() resolved would wait for ever (here, fail at the fetch timeout)."""
    function_id = await deploy(http, stream_server, PASS_THROUGH)
    url, token = origin.url("/gated")
    started = time.monotonic()
    async with http.get(stream_server.fn_url(function_id), params={"to": url}) as response:
        assert response.status == 200
        received = b""
        async with asyncio.timeout(10):
            while b"chunk-1\n" not in received:
                data = await response.content.readany()
                assert data, received
                received += data
        first_byte = time.monotonic() - started
        origin.gate(token).set()
        received += await response.read()
    assert received == b"chunk-1\nchunk-2\n"
    print(f"first chunk through the pass-through after {first_byte * 1000:.1f} ms")


async def test_a_reader_gets_each_chunk_as_it_comes(
    stream_server: ServerProcess, origin: Origin, http: aiohttp.ClientSession
) -> None:
    """The function itself opens the gate after its first chunk, then reads the second."""
    url, token = origin.url("/gated")
    opener = f"http://127.0.0.1:{origin.port}/open?t={token}"
    out = await script(
        http,
        stream_server,
        f"""
        const response = await fetch('{url}');
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        const seen = [];
        const first = await reader.read();
        seen.push(decoder.decode(first.value));
        console.log('got', seen[0]);
        await (await fetch('{opener}')).text();
        for (;;) {{
          const {{ value, done }} = await reader.read();
          if (done) break;
          seen.push(decoder.decode(value));
          console.log('got', seen.at(-1));
        }}
        return [response.status, seen];
        """,
    )
    assert out == [200, ["chunk-1\n", "chunk-2\n"]]


@pytest.mark.parametrize("encoding", ["", "gzip", "br"])
async def test_whole_body_readers_get_a_streamed_body_whole(
    stream_server: ServerProcess, origin: Origin, http: aiohttp.ClientSession, encoding: str
) -> None:
    url, _ = origin.url("/drip", n=20, ms=10, enc=encoding)
    expected = b"".join(f"line {i} ".encode() * 50 + b"\n" for i in range(20))
    out = await script(
        http,
        stream_server,
        f"""
        const text = await (await fetch('{url}')).text();
        const buffer = await (await fetch('{url}')).arrayBuffer();
        const json = await (await fetch('http://127.0.0.1:{origin.port}/json')).json();
        return [text.length, text.slice(0, 20), buffer.byteLength, json];
        """,
    )
    assert out == [len(expected), expected[:20].decode(), len(expected), {"a": [1, 2, 3]}]
    if encoding:
        # Passed through, the body reaches the client in the origin's encoding.
        function_id = await deploy(http, stream_server, PASS_THROUGH)
        async with http.get(stream_server.fn_url(function_id), params={"to": url}) as response:
            assert response.headers["Content-Encoding"] == encoding
            data = await response.read()
        decoded = gzip.decompress(data) if encoding == "gzip" else brotli.decompress(data)
        assert decoded == expected


def _rss_mib(pid: int, field_name: str = "VmRSS:") -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith(field_name))
    return int(line.split()[1]) / 1024


async def test_a_function_that_stops_reading_holds_back_the_origin(
    stream_server: ServerProcess, origin: Origin, http: aiohttp.ClientSession
) -> None:
    """200 MB offered, one chunk read, then a wait: the origin's writes block after a few
    windows' worth, and neither the server nor the host holds the rest."""
    url, token = origin.url("/flood")
    code = f"""
export default {{
  async fetch() {{
    const response = await fetch('{url}');
    const reader = response.body.getReader();
    const first = await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return new Response(String(first.value.length));
  }},
}};
"""
    function_id = await deploy(http, stream_server, code)
    server_pid = stream_server.process.pid
    before = _rss_mib(server_pid)
    hosts_before = sum(_rss_mib(pid) for pid in stream_server.host_pids())
    request = asyncio.create_task(http.get(stream_server.fn_url(function_id)))
    peak = before
    samples: list[int] = []
    for _ in range(25):
        await asyncio.sleep(0.1)
        peak = max(peak, _rss_mib(server_pid))
        samples.append(origin.written.get(token, 0))
    response = await request
    async with response:
        assert response.status == 200
        assert int(await response.text()) > 0
    hosts_after = sum(_rss_mib(pid) for pid in stream_server.host_pids())
    written = samples[-1]
    print(
        f"server RSS {before:.0f} -> peak {peak:.0f} MiB; hosts {hosts_before:.0f} -> "
        f"{hosts_after:.0f} MiB; origin wrote {written / (1 << 20):.1f} MiB of 200"
    )
    assert written < 32 << 20, written
    # Blocked: nothing more went out in the last second of the function's wait.
    assert samples[-10] == written, samples
    assert peak - before < 48, (before, peak)
    # The run ended without reading the rest: the connection to the origin was closed.
    assert await origin.wait_ended(token) == "disconnected"


@pytest.mark.parametrize(
    "how",
    [
        "await reader.cancel();",
        "controller.abort();",
        "",  # the run ends with the body unread
    ],
)
async def test_cancel_abort_or_the_runs_end_close_the_origins_connection(
    stream_server: ServerProcess, origin: Origin, http: aiohttp.ClientSession, how: str
) -> None:
    url, token = origin.url("/held")
    out = await script(
        http,
        stream_server,
        f"""
        const controller = new AbortController();
        const response = await fetch('{url}', {{ signal: controller.signal }});
        const reader = response.body.getReader();
        const first = new TextDecoder().decode((await reader.read()).value);
        {how}
        let after = null;
        if ({"true" if how else "false"}) {{
          try {{ after = (await reader.read()).done; }} catch (e) {{ after = e.name; }}
        }}
        return [first.slice(0, 6), after];
        """,
    )
    expected_after = {"await reader.cancel();": True, "controller.abort();": "AbortError", "": None}
    assert out == ["first\n", expected_after[how]]
    assert await origin.wait_ended(token) == "disconnected"


async def test_a_client_that_leaves_a_passed_through_body_closes_the_origins_connection(
    stream_server: ServerProcess, origin: Origin, http: aiohttp.ClientSession
) -> None:
    """The client reads the first line and goes: the function's body is cancelled, and so the
    fetch it passes through, whose origin sees its connection closed, instead of streaming to
    nobody until the run's wall limit (the origin sends for 20 s). The run has not failed."""
    function_id = await deploy(http, stream_server, PASS_THROUGH)
    url, token = origin.url("/held")
    with socket.create_connection(("127.0.0.1", stream_server.functions_port), timeout=10) as sock:
        sock.sendall(
            f"GET /?to={quote(url)} HTTP/1.1\r\nHost: {function_id}.localhost\r\n"
            "X-Vortex-Run-Id: left\r\n\r\n".encode()
        )
        received = b""
        while b"first" not in received:
            data = sock.recv(65536)
            assert data, received
            received += data
    assert await origin.wait_ended(token) == "disconnected"
    async with aiohttp.ClientSession(base_url=stream_server.url) as api:
        run = await recorded(api, function_id, "left")
    assert run["error"] is None, run


HOLDS = """
export default {
  async fetch(request) {
    const how = new URL(request.url).searchParams.get('how');
    const response = await fetch(new URL(request.url).searchParams.get('to'));
    await response.body.getReader().read();
    console.log('first chunk read');
    if (how === 'limit') for (;;);
    await new Promise((resolve) => setTimeout(resolve, 10000));
    return new Response('never');
  },
};
"""


@pytest.mark.parametrize("how", ["limit", "crash"])
async def test_a_run_ended_by_a_limit_or_its_hosts_crash_closes_the_origins_connection(
    server_factory: Callable[..., ServerProcess], origin: Origin, how: str
) -> None:
    server = server_factory(STREAM_ENV)
    async with aiohttp.ClientSession() as http:
        function_id = await deploy(http, server, HOLDS)
        url, token = origin.url("/held")
        request = asyncio.create_task(
            http.get(server.fn_url(function_id), params={"to": url, "how": how})
        )
        if how == "crash":
            deadline = time.monotonic() + 10
            while token not in origin.started and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            for pid in server.host_pids():
                os.kill(pid, signal.SIGKILL)
            # The listener's connections are the host's: the client's goes with it.
            with pytest.raises(aiohttp.ClientError):
                await request
        else:
            async with await request as response:
                body = await response.json()
            assert (response.status, body["error"]["code"]) == (500, "cpu_time_exceeded"), body
    assert await origin.wait_ended(token) == "disconnected"


async def test_idle_timeout_and_size_limit_break_the_body_with_the_usual_errors(
    small_server: ServerProcess, origin: Origin, http: aiohttp.ClientSession
) -> None:
    idle, _ = origin.url("/idle")
    unsized, _ = origin.url("/unsized")
    out = await script(
        http,
        small_server,
        f"""
        const results = [];
        for (const url of ['{idle}', '{unsized}']) {{
          const response = await fetch(url);
          results.push(response.status);
          try {{ await response.text(); results.push('whole'); }}
          catch (e) {{ results.push(e.name + ': ' + e.message); }}
        }}
        return results;
        """,
    )
    assert out == [
        200,
        "TypeError: fetch to 127.0.0.1 timed out after 1000 ms",
        200,
        "TypeError: fetch to 127.0.0.1: the response body is larger than 100000 bytes",
    ]


async def test_a_stream_that_keeps_sending_outlives_the_fetch_timeout(
    stream_server: ServerProcess, origin: Origin, http: aiohttp.ClientSession
) -> None:
    """2.5 s of events, 250 ms apart, under a fetch timeout of 1 s; EventSource gets each as
    it comes, not all at the end."""
    url, _ = origin.url("/sse", n=10, ms=250)
    out = await script(
        http,
        stream_server,
        f"""
        const started = Date.now();
        const source = new EventSource('{url}');
        const seen = [];
        await new Promise((resolve) => {{
          source.onmessage = (e) => {{
            seen.push([e.data, Date.now() - started]);
            if (seen.length === 10) {{ source.close(); resolve(); }}
          }};
        }});
        return seen;
        """,
    )
    assert [data for data, _ in out] == [f"event {i}" for i in range(10)]
    times = [at for _, at in out]
    assert times[-1] > 2000, times
    # Each as sent: the first long before the last.
    assert times[-1] - times[0] > 1800, times
