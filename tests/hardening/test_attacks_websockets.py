"""A hostile tenant and hostile clients against the WebSockets of the functions listener
(vortex/isolates/wsconn.py, runsocket.py, js/src/websocket.js): every attack ends in the run's
own limits or the socket's, the host stays, and nothing of Python shows."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from collections.abc import Callable

import aiohttp
import pytest

from tests.hardening.attacks import assert_host_kept, hosts_rss, restarts, run_record
from tests.hardening.conftest import Api, api_for, fd_count
from tests.server import ServerProcess

ATTACKS = """
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const [client, server] = Object.values(new WebSocketPair());
    if (path === '/never-accepts') {
      // The kept end is never accepted: what the client sends waits in its inbox.
      return new Response(null, { status: 101, webSocket: client });
    }
    server.accept();
    let count = 0;
    const kept = [];
    if (path === '/keeps') server.addEventListener('message', (event) => kept.push(event.data));
    server.addEventListener('message', (event) => {
      const data = event.data;
      if (data === 'report') { server.send(String(count)); return; }
      count += 1;
      if (data === 'spray') {
        const chunk = 'x'.repeat(512 * 1024);
        for (;;) server.send(chunk);
      }
      if (data === 'pairs') {
        const kept = [];
        const chunk = new Uint8Array(64 * 1024);
        for (;;) {
          const [a, b] = Object.values(new WebSocketPair());
          a.accept();
          a.send(chunk);  // queued for b, which is never attached
          kept.push(a, b);
        }
      }
      if (data === 'big reason') {
        try { server.close(1000, 'x'.repeat(100000)); } catch (e) { server.send(e.name); }
        try { server.close(999); } catch (e) { server.send(e.name); }
        server.close(4000, 'é'.repeat(61));  // 122 bytes: the most a close frame may carry
      }
      if (data === 'close race') server.close(4001, 'race');
    });
    server.addEventListener('close', (event) => {
      if (path === '/send-after-close') {
        for (;;) { try { server.send('x'); } catch (e) { count += 1; } }
      }
      if (path === '/interval-after-close') {
        setInterval(() => { try { server.send('x'); } catch (e) {} }, 1);
      }
      try { server.close(1000); } catch (e) {}
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
"""

WS_ENV = {"VORTEX_RUN_MEMORY_MB": "64", "VORTEX_HOST_MEMORY_MB": "600"}


@pytest.fixture(scope="module")
def ws_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers(WS_ENV, workers=1)


@pytest.fixture
def api(client: aiohttp.ClientSession, ws_server: ServerProcess) -> Api:
    return api_for(client, ws_server)


@pytest.fixture
async def function_id(api: Api) -> str:
    return await api.deploy(ATTACKS, filename="attacks.mjs")


def _fds(api: Api) -> int:
    return sum(fd_count(pid) for pid in api.server.host_pids())


def _run_id(ws: aiohttp.ClientWebSocketResponse) -> str:
    response = ws._response
    assert response is not None
    return response.headers["x-vortex-run-id"]


async def test_a_flood_of_tiny_messages_is_read_as_fast_as_the_run_takes_them(
    api: Api, function_id: str
) -> None:
    before = await restarts(api)
    rss = hosts_rss(api)
    count = 20000
    async with api.http.ws_connect(api.server.fn_url(function_id, "/count")) as ws:
        for _ in range(count):
            await ws.send_str("a")
        await ws.send_str("report")
        assert await ws.receive_str(timeout=15) == str(count)
    # The client waits in its own buffers while the run is behind (16 messages at most pending).
    assert hosts_rss(api) - rss < 64, f"the host grew from {rss:.0f} to {hosts_rss(api):.0f} MiB"
    await assert_host_kept(api, before)


async def test_many_sockets_from_one_client_are_served_and_leave_nothing(
    api: Api, function_id: str
) -> None:
    before = await restarts(api)
    fds = _fds(api)
    many = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    sockets = await asyncio.gather(
        *(many.ws_connect(api.server.fn_url(function_id, "/count")) for _ in range(200))
    )
    for ws in sockets:
        await ws.send_str("report")
    assert [await ws.receive_str(timeout=10) for ws in sockets] == ["0"] * 200
    await asyncio.gather(*(ws.close() for ws in sockets))
    await many.close()
    for _ in range(100):
        if _fds(api) <= fds + 5:
            break
        await asyncio.sleep(0.1)
    assert _fds(api) <= fds + 5, f"{_fds(api) - fds} descriptors left in the hosts"
    await assert_host_kept(api, before)


async def test_a_run_that_sends_without_end_to_a_client_that_reads_nothing(
    api: Api, function_id: str
) -> None:
    # One turn that sends 512 KiB messages for ever: the host cuts the client once 4 MiB wait
    # for it, drops what follows, and the run's CPU limit ends the loop.
    before = await restarts(api)
    rss = hosts_rss(api)
    ws = await api.http.ws_connect(api.server.fn_url(function_id, "/spray"))
    run_id = _run_id(ws)
    await ws.send_str("spray")
    record = await run_record(api, function_id, run_id)
    await ws.close()
    assert record["error"]["code"] == "cpu_time_exceeded", record["error"]
    assert hosts_rss(api) - rss < 100
    await assert_host_kept(api, before)


@pytest.mark.parametrize("path", ["/never-accepts", "/keeps"])
async def test_messages_a_run_keeps_count_against_its_memory(
    api: Api, function_id: str, path: str
) -> None:
    # What a client sends is read and copied outside the run's turns: kept in the inbox of an
    # end never accepted, or by a listener, it is the run's memory all the same (64 MiB here).
    # Before, 120 MiB of messages grew the host by 230 MiB and the run went on.
    before = await restarts(api)
    ws = await api.http.ws_connect(api.server.fn_url(function_id, path))
    run_id = _run_id(ws)
    message = os.urandom(1 << 20)
    try:
        for _ in range(200):
            await ws.send_bytes(message)
            if ws.closed:
                break
    except (OSError, aiohttp.ClientError):
        pass  # the run was stopped and its socket with it
    record = await run_record(api, function_id, run_id)
    await ws.close()
    assert record["error"]["code"] == "memory_limit_exceeded", record["error"]
    await assert_host_kept(api, before)


async def test_a_run_that_keeps_thousands_of_pairs_meets_its_memory_limit(
    api: Api, function_id: str
) -> None:
    before = await restarts(api)
    async with api.http.ws_connect(api.server.fn_url(function_id, "/pairs")) as ws:
        run_id = _run_id(ws)
        await ws.send_str("pairs")
        record = await run_record(api, function_id, run_id)
    assert record["error"]["code"] in ("memory_limit_exceeded", "cpu_time_exceeded"), record
    await assert_host_kept(api, before)


async def test_sending_to_a_closed_socket_in_a_loop_ends_the_run(
    api: Api, function_id: str
) -> None:
    # Once the socket is closed the run has its CPU and wall limits again: a loop of sends that
    # throw is stopped by the CPU limit; an interval of them is cleared, the run over.
    before = await restarts(api)
    async with api.http.ws_connect(api.server.fn_url(function_id, "/send-after-close")) as ws:
        run_id = _run_id(ws)
    record = await run_record(api, function_id, run_id)
    assert record["error"]["code"] == "cpu_time_exceeded", record["error"]
    async with api.http.ws_connect(api.server.fn_url(function_id, "/interval-after-close")) as ws:
        run_id = _run_id(ws)
    record = await run_record(api, function_id, run_id, within=5)
    assert record["error"] is None, record["error"]
    await assert_host_kept(api, before)


async def test_close_reasons_past_the_frame_are_refused_both_ways(
    api: Api, function_id: str
) -> None:
    before = await restarts(api)
    async with api.http.ws_connect(api.server.fn_url(function_id, "/reason")) as ws:
        await ws.send_str("big reason")
        assert await ws.receive_str(timeout=5) == "SyntaxError"
        assert await ws.receive_str(timeout=5) == "TypeError"
        closing = await ws.receive(timeout=5)
        assert (closing.type, closing.data, closing.extra) == (
            aiohttp.WSMsgType.CLOSE,
            4000,
            "é" * 61,
        )
    # A client's close frame past 125 bytes is no frame: 1002, and the run hears of it.
    assert _raw_close_of(api.server, function_id, 4000, b"y" * 4000)[0] == 1002
    await assert_host_kept(api, before)


def _raw_close_of(
    server: ServerProcess, function_id: str, code: int, reason: bytes
) -> tuple[int, bytes]:
    """Handshake by hand and send a close frame of any length; the server's close, parsed."""
    key = base64.b64encode(os.urandom(16)).decode()
    head = (
        f"GET /reason HTTP/1.1\r\nHost: {function_id}.localhost:{server.functions_port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    payload = struct.pack("!H", code) + reason
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    frame = bytes([0x88, 0x80 | 126]) + struct.pack("!H", len(payload)) + mask + masked
    with socket.create_connection(("127.0.0.1", server.functions_port), timeout=10) as sock:
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        assert data.startswith(b"HTTP/1.1 101"), data
        data = data.split(b"\r\n\r\n", 1)[1]
        sock.sendall(frame)
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    # The server's frames: find its close (opcode 8), unmasked.
    at = 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        body = data[at + 2 : at + 2 + length]
        if opcode == 8:
            return struct.unpack("!H", body[:2])[0], body[2:]
        at += 2 + length
    raise AssertionError(f"no close frame in {data!r}")


async def test_close_races_leave_no_error(api: Api, function_id: str) -> None:
    # The client closes while the run closes, and while its message is in flight: every order.
    before = await restarts(api)

    async def race(delay: float) -> None:
        async with api.http.ws_connect(api.server.fn_url(function_id, "/race")) as ws:
            await ws.send_str("close race")
            if delay:
                await asyncio.sleep(delay)
            await ws.close(code=4002, message=b"mine")

    await asyncio.gather(*(race(delay) for delay in [0.0, 0.0005, 0.001, 0.005] * 10))
    await assert_host_kept(api, before)
