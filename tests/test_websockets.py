"""WebSockets accepted by functions on the listener, as Workers accept them: a real server, its
real listener, and aiohttp's client on the other end (docs/http-functions.md, WebSockets)."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.server import ServerProcess

ECHO = """
export default {
  async fetch(request, env, ctx) {
    if (request.headers.get('Upgrade') !== 'websocket') {
      return new Response('Expected websocket', { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.send('hello');
    server.addEventListener('message', (event) => {
      if (typeof event.data === 'string') {
        if (event.data === 'close please') server.close(4001, 'asked to');
        else if (event.data === 'throw') throw new Error('handler broke');
        else if (event.data === 'spin') { while (true) {} }
        else if (event.data === 'state') server.send(JSON.stringify({ readyState: server.readyState, OPEN: WebSocket.OPEN }));
        else { console.log('got', event.data); server.send('echo: ' + event.data); }
      } else {
        const bytes = new Uint8Array(event.data);
        server.send(bytes.map((b) => b ^ 0xff));
      }
    });
    server.addEventListener('close', (event) => {
      console.log('closed', event.code, event.reason, event.wasClean);
      server.close(event.code, 'bye');
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
"""

SERVICE_WORKER = """
addEventListener('fetch', (event) => {
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  server.addEventListener('message', (e) => server.send('sw: ' + e.data));
  event.respondWith(new Response(null, { status: 101, webSocket: client }));
});
"""

FLOOD = """
export default {
  fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    server.addEventListener('close', (e) => console.log('flood closed', e.code, e.wasClean, sent));
    server.addEventListener('error', () => console.log('flood error'));
    const pump = () => {
      for (let i = 0; i < 16 && server.readyState === WebSocket.OPEN; i++) {
        server.send(chunk);
        sent += 1;
      }
      if (server.readyState === WebSocket.OPEN) setTimeout(pump, 1);
    };
    pump();
    return new Response(null, { status: 101, webSocket: client });
  },
};
"""

Deploy = Callable[..., Awaitable[str]]


async def _deploy(http: aiohttp.ClientSession, code: str, filename: str = "index.mjs") -> str:
    async with http.post("/deploy", json={"code": code, "filename": filename}) as response:
        body = await response.json()
        assert response.status == 200, body
        return str(body["function_id"])


async def _runs(http: aiohttp.ClientSession, function_id: str, count: int) -> list[dict[str, Any]]:
    """The function's runs in the history, once ``count`` of them are there."""
    for _ in range(200):
        async with http.get(f"/functions/{function_id}/runs?limit=100") as response:
            body = await response.json()
        runs = body["runs"] if isinstance(body, dict) else body
        if len(runs) >= count:
            return list(runs)
        await asyncio.sleep(0.05)
    raise AssertionError(f"the runs of {function_id} never reached the history: {runs}")


async def _run(http: aiohttp.ClientSession, function_id: str, run_id: str) -> dict[str, Any]:
    for _ in range(200):
        async with http.get(f"/functions/{function_id}/runs/{run_id}") as response:
            if response.status == 200:
                return dict(await response.json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached the history")


async def test_text_and_binary_are_echoed_and_the_client_closes(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, ECHO)
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(server.fn_url(function_id, "/chat")) as ws,
    ):
        run_id = ws._response.headers["x-vortex-run-id"]
        assert (await ws.receive_str(timeout=5)) == "hello"
        await ws.send_str("hi there")
        assert (await ws.receive_str(timeout=5)) == "echo: hi there"
        await ws.send_bytes(bytes([0, 1, 2, 255]))
        assert (await ws.receive_bytes(timeout=5)) == bytes([255, 254, 253, 0])
        await ws.send_str("héllo ✓")
        assert (await ws.receive_str(timeout=5)) == "echo: héllo ✓"
        await ws.send_str("state")
        assert (await ws.receive_str(timeout=5)) == '{"readyState":1,"OPEN":1}'
        await ws.close(code=4000, message=b"done")
        assert ws.close_code == 4000
    record = await _run(http, function_id, run_id)
    assert record["error"] is None, record
    messages = [line["message"] for line in record["logs"]]
    assert "got hi there" in messages
    assert "closed 4000 done true" in messages


async def test_the_function_closes_with_a_code_and_a_reason(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, ECHO)
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(server.fn_url(function_id)) as ws,
    ):
        assert (await ws.receive_str(timeout=5)) == "hello"
        await ws.send_str("close please")
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == 4001
        assert message.extra == "asked to"


async def test_a_plain_request_to_the_same_function_is_served(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, ECHO)
    async with http.get(server.fn_url(function_id)) as response:
        assert response.status == 426
        assert await response.text() == "Expected websocket"
    # A bad handshake never reaches the function.
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "8"}
    async with http.get(server.fn_url(function_id), headers=headers) as response:
        assert response.status == 426
        assert response.headers["sec-websocket-version"] == "13"
        assert (await response.json())["error"]["code"] == "bad_websocket_handshake"


async def test_a_handler_that_throws_closes_with_1011_and_is_logged(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, ECHO)
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(server.fn_url(function_id)) as ws,
    ):
        run_id = ws._response.headers["x-vortex-run-id"]
        assert (await ws.receive_str(timeout=5)) == "hello"
        await ws.send_str("throw")
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == 1011
    record = await _run(http, function_id, run_id)
    assert record["error"]["code"] == "function_error"
    assert "handler broke" in record["error"]["message"]
    assert any("handler broke" in line["message"] for line in record["logs"])


async def test_a_message_over_the_limit_closes_with_1009(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, ECHO)
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(server.fn_url(function_id)) as ws,
    ):
        run_id = ws._response.headers["x-vortex-run-id"]
        assert (await ws.receive_str(timeout=5)) == "hello"
        await ws.send_bytes(b"x" * ((1 << 20) + 1))
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == 1009
    record = await _run(http, function_id, run_id)
    assert any(line["message"].startswith("closed 1009") for line in record["logs"]), record


def _raw_websocket(port: int, host: str) -> tuple[socket.socket, bytes, bytes]:
    """A WebSocket handshake by hand, for frames no client library sends: (socket, the
    answer's head, what came after it)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        f"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    answer, _, rest = head.partition(b"\r\n\r\n")
    return sock, answer, rest


async def test_a_text_message_of_bad_utf8_closes_with_1007_in_words(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """wsproto's reason for 1007 is Python's codec error, which the client and the run read."""
    function_id = await _deploy(http, ECHO)
    host = f"{function_id}.localhost"
    sock, head, received = await asyncio.to_thread(_raw_websocket, server.functions_port, host)
    assert head.startswith(b"HTTP/1.1 101 ")
    run_id = head.split(b"x-vortex-run-id: ", 1)[1].split(b"\r\n", 1)[0].decode()
    with sock:
        mask = b"\x01\x02\x03\x04"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"\xff\xfe"))
        sock.sendall(b"\x81\x82" + mask + payload)  # a masked text frame, FIN set
        while True:
            chunk = await asyncio.to_thread(sock.recv, 4096)
            if not chunk:
                break
            received += chunk
    close = received[received.index(b"\x88") :]
    assert close[2:4] == (1007).to_bytes(2, "big")
    assert close[4:] == b"A text message was not valid UTF-8"
    record = await _run(http, function_id, run_id)
    said = " ".join(line["message"] for line in record["logs"])
    assert "closed 1007 A text message was not valid UTF-8" in said
    assert "codec" not in said


async def test_a_runaway_handler_is_stopped_by_the_cpu_limit_and_the_host_serves_on(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, ECHO)
    pids = set(server.host_pids())
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(server.fn_url(function_id)) as ws,
    ):
        run_id = ws._response.headers["x-vortex-run-id"]
        assert (await ws.receive_str(timeout=5)) == "hello"
        await ws.send_str("spin")
        message = await ws.receive(timeout=10)
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == 1011
    record = await _run(http, function_id, run_id)
    assert record["error"]["code"] == "cpu_time_exceeded"
    assert set(server.host_pids()) == pids
    async with http.get(server.fn_url(function_id)) as response:
        assert response.status == 426


async def test_each_message_gets_the_cpu_limit_afresh(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # 700 ms of CPU per run in the tests: ten messages of 150 ms each are 1.5 s in all.
    code = """
    export default { fetch() {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener('message', () => {
        const until = Date.now() + 150;
        while (Date.now() < until) {}
        server.send('done');
      });
      return new Response(null, { status: 101, webSocket: client });
    } };
    """
    function_id = await _deploy(http, code)
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(server.fn_url(function_id)) as ws,
    ):
        for _ in range(10):
            await ws.send_str("work")
            assert (await ws.receive_str(timeout=10)) == "done"


async def test_a_client_that_never_reads_is_cut_off(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, FLOOD)
    address = ("127.0.0.1", server.functions_port)
    sock = socket.create_connection(address)
    # A small receive buffer, never read: the host's send buffer is what fills up.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: {function_id}.localhost\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    try:
        runs = await _runs(http, function_id, 1)
        record = await _run(http, function_id, runs[0]["run_id"])
        closing = [line["message"] for line in record["logs"] if "flood closed" in line["message"]]
        assert closing, record
        code, clean, sent = closing[0].split()[2:]
        assert (code, clean) == ("1006", "false")
        # Cut once ~4 MiB waited in the host (plus what the kernel holds), not a GiB later.
        assert int(sent) * 64 * 1024 < 64 << 20
    finally:
        sock.close()


async def test_many_sockets_at_once_on_one_host(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory({"VORTEX_DEBUG_HOST_HEADER": "1"}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = await _deploy(http, ECHO)
        async with aiohttp.ClientSession() as client:
            sockets = [await client.ws_connect(server.fn_url(function_id)) for _ in range(60)]
            assert len({ws._response.headers["x-vortex-host"] for ws in sockets}) == 1
            for ws in sockets:
                assert (await ws.receive_str(timeout=5)) == "hello"
            for index, ws in enumerate(sockets):
                await ws.send_str(f"n{index}")
            for index, ws in enumerate(sockets):
                assert (await ws.receive_str(timeout=10)) == f"echo: n{index}"
            for ws in sockets:
                await ws.close()
        runs = await _runs(http, function_id, 50)  # the history keeps the last 50
        assert all(run["ok"] for run in runs), runs


async def test_the_service_worker_syntax_accepts_websockets_too(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = await _deploy(http, SERVICE_WORKER, filename="index.js")
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(server.fn_url(function_id)) as ws,
    ):
        await ws.send_str("ping")
        assert (await ws.receive_str(timeout=5)) == "sw: ping"


async def test_a_host_being_retired_closes_its_sockets_with_1001(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = await _deploy(http, ECHO)
        async with aiohttp.ClientSession() as client:
            ws = await client.ws_connect(server.fn_url(function_id))
            assert (await ws.receive_str(timeout=5)) == "hello"
            server.process.send_signal(__import__("signal").SIGTERM)
            message = await ws.receive(timeout=10)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert message.data == 1001
            await ws.close()


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("new WebSocket('wss://example.com/')", "Outbound WebSockets are not supported"),
        (
            "await fetch('https://example.com/', { headers: { upgrade: 'websocket' } })",
            "outbound WebSockets (Upgrade: websocket) are not supported",
        ),
        ("new Response(null, { status: 101 })", "101 only with a webSocket"),
        ("new WebSocketPair()[0].send('x')", "accept()"),
    ],
)
async def test_what_is_not_supported_says_so(
    server: ServerProcess, http: aiohttp.ClientSession, code: str, error: str
) -> None:
    function_id = await _deploy(
        http,
        "export default { async fetch() { " + code + "; return new Response('no'); } };",
    )
    async with http.get(server.fn_url(function_id)) as response:
        body = await response.json()
        assert response.status == 500, body
        assert error in body["error"]["message"]


async def test_a_101_to_a_request_that_is_no_handshake_is_an_invalid_response(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    code = """export default { fetch() {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      return new Response(null, { status: 101, webSocket: client });
    } };"""
    function_id = await _deploy(http, code)
    async with http.get(server.fn_url(function_id)) as response:
        assert response.status == 502
        assert (await response.json())["error"]["code"] == "invalid_response"


async def test_a_subprotocol_the_client_offered_is_answered(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    code = """export default { fetch(request) {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.send(request.headers.get('sec-websocket-protocol'));
      const headers = { 'Sec-WebSocket-Protocol': 'chat', 'x-extra': 'yes' };
      return new Response(null, { status: 101, webSocket: client, headers });
    } };"""
    function_id = await _deploy(http, code)
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(server.fn_url(function_id), protocols=("other", "chat")) as ws,
    ):
        assert ws.protocol == "chat"
        assert ws._response.headers["x-extra"] == "yes"
        assert (await ws.receive_str(timeout=5)) == "other,chat"


async def test_a_101_is_dated_as_every_answer_and_the_functions_own_date_wins(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    code = """export default { fetch(request) {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.send('hi');
      const own = new URL(request.url).searchParams.get('date');
      const headers = own ? { Date: own } : {};
      return new Response(null, { status: 101, webSocket: client, headers });
    } };"""
    function_id = await _deploy(http, code)
    own = "Tue, 01 Jan 2030 00:00:00 GMT"
    for query, expected in (("", None), ("?date=" + own.replace(" ", "%20"), own)):
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(server.fn_url(function_id) + query) as ws,
        ):
            dates = ws._response.headers.getall("date")
            assert len(dates) == 1, dates
            if expected is None:
                parsed = email.utils.parsedate_to_datetime(dates[0])
                assert abs(parsed.timestamp() - time.time()) < 60
            else:
                assert dates[0] == expected
            assert (await ws.receive_str(timeout=5)) == "hi"


async def test_idle_and_lifetime_limits_close_with_1001(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """The idle limit (``VORTEX_FUNCTIONS_IDLE_TIMEOUT_MS``) and the lifetime
    (``VORTEX_FUNCTIONS_WS_LIFETIME_MS``), shortened: a client that leaves the host's ping
    unanswered is closed after the idle limit; one that answers stays open past it, until the
    lifetime closes it, however it answers."""
    idle, lifetime = 1.0, 3.0
    server = server_factory(
        {
            "VORTEX_FUNCTIONS_IDLE_TIMEOUT_MS": str(int(idle * 1000)),
            "VORTEX_FUNCTIONS_WS_LIFETIME_MS": str(int(lifetime * 1000)),
        }
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = await _deploy(http, ECHO)
    async with aiohttp.ClientSession() as client:

        async def silent() -> float:
            ws = await client.ws_connect(server.fn_url(function_id), autoping=False)
            opened = time.monotonic()
            assert (await ws.receive_str(timeout=5)) == "hello"
            ping = await ws.receive(timeout=5)
            assert ping.type == aiohttp.WSMsgType.PING, ping
            pinged = time.monotonic() - opened
            assert idle / 2 - 0.2 <= pinged <= idle, pinged
            closed = await ws.receive(timeout=5)
            assert closed.type == aiohttp.WSMsgType.CLOSE, closed
            assert (closed.data, closed.extra) == (1001, "The client answered nothing for 1 s")
            await ws.close()
            return time.monotonic() - opened

        async def answering() -> float:
            ws = await client.ws_connect(server.fn_url(function_id))  # autoping: pongs
            opened = time.monotonic()
            assert (await ws.receive_str(timeout=5)) == "hello"
            closed = await ws.receive(timeout=lifetime + 5)
            assert closed.type == aiohttp.WSMsgType.CLOSE, closed
            assert (closed.data, closed.extra) == (
                1001,
                "The WebSocket was open for its maximum of 3 s",
            )
            await ws.close()
            return time.monotonic() - opened

        async def talking() -> None:
            """Pongs answer the idle limit; it is still the same open socket past it."""
            ws = await client.ws_connect(server.fn_url(function_id))
            assert (await ws.receive_str(timeout=5)) == "hello"
            # aiohttp answers pings inside receive() (a client that reads nothing answers none),
            # whose timeout starts again after each ping.
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(idle * 2):
                    await ws.receive()
            await ws.send_str("still here")
            assert (await ws.receive_str(timeout=5)) == "echo: still here"
            await ws.close()

        silent_for, answered_for, _ = await asyncio.gather(silent(), answering(), talking())
    assert idle - 0.1 <= silent_for <= idle + 1.0, silent_for
    assert lifetime - 0.1 <= answered_for <= lifetime + 1.0, answered_for
    print(
        f"silent client closed after {silent_for:.2f} s, answering one after {answered_for:.2f} s"
    )
