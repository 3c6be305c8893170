"""The protocol between the supervisor and its hosts (vortex/isolates/protocol.py), with real host
processes: bytes cross as bytes, and a frame that is not one of the protocol's is handled as a
dead host (its runs fail with a clear code, the pool replaces it), never as a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest

from vortex.isolates.exchange import HttpRequest
from vortex.isolates.fetchbodies import WINDOW, Window
from vortex.isolates.host_process import HostProcess, _refused
from vortex.isolates.outcome import LogEntry
from vortex.isolates.pool import IsolatePool
from vortex.isolates.protocol import (
    FOR_HOST,
    FOR_SUPERVISOR,
    HEADER,
    MAX_FRAME,
    Answered,
    Fetch,
    FetchChunk,
    Fetched,
    FetchEnd,
    FetchPull,
    FrameTooLarge,
    Log,
    Outbox,
    Ping,
)
from vortex.modules.build import build
from vortex.modules.detect import Upload

WAITS = "await new Promise((resolve) => setTimeout(resolve, 20000)); Vortex.return(1);"
EVERY_BYTE = bytes(range(256)) * 64


@pytest.fixture
async def pool() -> AsyncIterator[IsolatePool]:
    pool = IsolatePool(1, spares=0)
    await pool.start()
    yield pool
    await pool.close()


def no_log(entry: LogEntry) -> None:
    pass


def the_host(pool: IsolatePool) -> HostProcess:
    (host,) = pool.active_hosts()  # the pool's only host (size 1, no spare)
    return host


async def test_request_and_response_bodies_cross_byte_for_byte(pool: IsolatePool) -> None:
    bundle = await build(
        Upload(
            {
                "w.mjs": "export default { async fetch(request) {"
                " const body = new Uint8Array(await request.arrayBuffer()); body.reverse();"
                " return new Response(body); } };"
            },
            "w.mjs",
        )
    )
    request = HttpRequest("POST", "http://echo.localhost/", [], EVERY_BYTE)
    invocation = await pool.start_invocation(
        bundle.script, on_log=no_log, filename="w.mjs", kind="module", request=request
    )
    head = await invocation.response
    assert head is not None and head.status == 200
    assert await invocation.read_body(head) == EVERY_BYTE[::-1]
    assert (await invocation.outcome).error is None


async def replaced(pool: IsolatePool) -> None:
    """Wait for the pool to count the host's restart, then run on its replacement."""
    for _ in range(200):
        if pool.stats().host_restarts:
            break
        await asyncio.sleep(0.05)
    assert pool.stats().host_restarts == 1
    again = await pool.invoke("Vortex.return('replaced')", on_log=no_log)
    assert again.error is None and again.output_json == '"replaced"'


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(frame(msgspec.msgpack.encode(["bogus", 1])), id="unknown-kind"),
        pytest.param(frame(msgspec.msgpack.encode(["done", "one", None, None, 1.0])), id="types"),
        pytest.param(frame(msgspec.msgpack.encode(["check", 1, "x"])), id="the-hosts-to-read"),
        pytest.param(frame(b"\xc1"), id="not-msgpack"),
        pytest.param(HEADER.pack(MAX_FRAME + 1), id="over-the-limit"),
    ],
)
async def test_a_malformed_frame_from_a_host_is_a_dead_host(pool: IsolatePool, data: bytes) -> None:
    invocation = await pool.start_invocation(WAITS, on_log=no_log)
    host = the_host(pool)
    # Bytes as if the host had written them on its pipe (it is idle, waiting on the timer).
    assert host.process.stdout is not None
    host.process.stdout.feed_data(data)
    outcome = await asyncio.wait_for(invocation.outcome, 10)
    assert outcome.error is not None
    assert outcome.error["code"] == "host_crashed"
    assert "malformed frame" in outcome.error["message"]
    await replaced(pool)


async def test_a_malformed_frame_to_a_host_ends_it_and_its_runs_fail_clearly(
    pool: IsolatePool,
) -> None:
    invocation = await pool.start_invocation(WAITS, on_log=no_log)
    host = the_host(pool)
    assert host.process.stdin is not None
    host.process.stdin.write(frame(msgspec.msgpack.encode(["done", 1, None, None, 0.0])))
    outcome = await asyncio.wait_for(invocation.outcome, 10)
    assert outcome.error is not None and outcome.error["code"] == "host_crashed"
    await replaced(pool)


def test_a_frame_over_the_limit_is_not_added_and_says_its_size() -> None:
    line = Log(1, "info", "before", "2026-12-07T00:00:00.000Z")
    outbox, alone = Outbox(), Outbox()
    outbox.add(line)
    alone.add(line)
    with pytest.raises(FrameTooLarge, match="over the 64 MiB"):
        outbox.add(Fetch(1, 2, "POST", "http://x/", [], "follow", b"x" * (MAX_FRAME + 1)))
    assert outbox.take() == alone.take()  # the line alone is written, whole


def test_the_supervisor_answers_in_error_what_it_cannot_send() -> None:
    exc = FrameTooLarge(MAX_FRAME + 1)
    fetched = _refused(Fetched(1, 2, status=200, body=b""), exc)
    assert isinstance(fetched, Fetched) and fetched.error and "over the 64 MiB" in fetched.error
    answered = _refused(Answered(1, 3, result=None, body=b""), exc)
    assert isinstance(answered, Answered) and answered.error is not None
    assert answered.error.code == "payload_too_large"
    assert _refused(Ping(1), exc) is None


def _frames(outbox: Outbox) -> list[bytes]:
    data, frames = bytes(outbox.take()), []
    while data:
        (size,) = HEADER.unpack_from(data)
        frames.append(data[HEADER.size : HEADER.size + size])
        data = data[HEADER.size + size :]
    return frames


def test_the_frames_of_a_streamed_fetch_body_cross_typed() -> None:
    to_host, to_supervisor = Outbox(), Outbox()
    to_host.add(Fetched(1, 2, status=200, body=EVERY_BYTE[:10], stream=True))
    to_host.add(FetchChunk(1, 2, EVERY_BYTE))
    to_host.add(FetchEnd(1, 2, "fetch to x timed out after 10 ms"))
    to_supervisor.add(FetchPull(1, 2, 1 << 20))
    head, chunk, end = (FOR_HOST.decode(frame) for frame in _frames(to_host))
    assert isinstance(head, Fetched) and head.stream and head.body == EVERY_BYTE[:10]
    assert isinstance(chunk, FetchChunk) and chunk.data == EVERY_BYTE
    assert isinstance(end, FetchEnd) and end.error == "fetch to x timed out after 10 ms"
    (pull,) = (FOR_SUPERVISOR.decode(frame) for frame in _frames(to_supervisor))
    assert pull == FetchPull(1, 2, 1 << 20)
    # Each side reads only the other's frames.
    with pytest.raises(msgspec.ValidationError):
        FOR_SUPERVISOR.decode(_encoded(FetchChunk(1, 2, b"x")))


def _encoded(frame: FetchChunk) -> bytes:
    outbox = Outbox()
    outbox.add(frame)
    return _frames(outbox)[0]


async def test_a_window_lets_a_body_through_only_as_it_is_read() -> None:
    window = Window(WINDOW - 10)
    assert await window.room() == 10
    window.in_flight = WINDOW
    waiting = asyncio.create_task(window.room())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    window.pulled(-5)  # a host's lie takes nothing away
    window.pulled(0)
    await asyncio.sleep(0.01)
    assert not waiting.done()
    window.pulled(1000)
    assert await waiting == 1000
    window.pulled(10 * WINDOW)
    assert window.in_flight == 0
