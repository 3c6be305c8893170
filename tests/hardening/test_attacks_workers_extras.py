"""A hostile tenant against Workers' smaller globals: MessageChannel, scheduler.wait,
reportError, FixedLengthStream, IdentityTransformStream and crypto.DigestStream. Each attack ends
in the run's own limits, with a stable code, and its host stays."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from tests.hardening.attacks import assert_host_kept, restarts, run_record
from tests.hardening.conftest import CPU_LIMIT_S, MARGIN_S, WALL_LIMIT_S, Api, api_for
from tests.server import ServerProcess


@pytest.fixture(scope="module")
def extras_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers({"VORTEX_MAX_RESPONSE_BYTES": str(4 << 20)}, workers=1)


@pytest.fixture
def api(client: aiohttp.ClientSession, extras_server: ServerProcess) -> Api:
    return api_for(client, extras_server)


PING_PONG = """
const { port1, port2 } = new MessageChannel();
let seen = 0;
port1.onmessage = (e) => { seen++; port1.postMessage(e.data + 1); };
port2.onmessage = (e) => { seen++; port2.postMessage(e.data + 1); };
port1.postMessage(0);
"""


CASES: list[tuple[str, str, str | tuple[str | None, ...] | None]] = [
    # A script that never returns: the ping-pong is a chain of tasks, each a turn; the CPU
    # limit (300 ms) meets it before the wall limit (2 s).
    ("ping-pong", PING_PONG, "cpu_time_exceeded"),
    # A thousand channels at once: each message waiting for delivery takes a place of the
    # run's timer limit (100), so the 101st post ends the run.
    (
        "many-channels",
        "for (let i = 0; i < 1000; i++) {" + PING_PONG + "}",
        "timer_limit_exceeded",
    ),
    # Posting to a port never started queues in the run's memory, a place of its timer limit
    # each.
    (
        "queue-to-a-port-never-started",
        "const { port1 } = new MessageChannel();"
        "const big = 'x'.repeat(1 << 20);"
        "for (;;) port1.postMessage(big);",
        "timer_limit_exceeded",
    ),
    # Many messages posted each turn, the ping-pong doubling: still the timer limit.
    (
        "message-flood",
        "const { port1, port2 } = new MessageChannel();"
        "port2.onmessage = () => { port1.postMessage(0); port1.postMessage(0); };"
        "port1.postMessage(0);",
        "timer_limit_exceeded",
    ),
    # scheduler.wait is a timer of the run: its limit counts it.
    (
        "scheduler-wait-storm",
        "for (let i = 0; i < 1000; i++) scheduler.wait(60000);",
        "timer_limit_exceeded",
    ),
    (
        "report-error-flood",
        "for (;;) reportError(new Error('x'.repeat(100)));",
        "log_limit_exceeded",
    ),
    (
        "report-error-with-a-throwing-message",
        "const e = { get message() { throw new Error('no'); }, get stack() { for (;;) {} } };"
        "reportError(e); Vortex.return('after');",
        ("cpu_time_exceeded", None),
    ),
    (
        "digest-stream-fed-gigabytes",
        "const d = new crypto.DigestStream('SHA-256'); const w = d.getWriter();"
        "const chunk = new Uint8Array(1 << 20);"
        "for (let i = 0; i < 4096; i++) await w.write(chunk);"
        "await w.close(); Vortex.return(new Uint8Array(await d.digest).length);",
        "cpu_time_exceeded",
    ),
    (
        "fixed-length-stream-of-a-huge-length",
        "const s = new FixedLengthStream(Number.MAX_SAFE_INTEGER); const w = s.writable.getWriter();"
        "const r = s.readable.getReader(); w.write(new Uint8Array(10)); await r.read();"
        "w.close(); const e = await r.read().then(() => null, (e) => e.name);"
        "Vortex.return(e);",
        None,
    ),
    (
        "fixed-length-stream-past-2-53",
        "try { new FixedLengthStream(2n ** 64n); Vortex.return('made'); }"
        "catch (e) { Vortex.return(e.name); }",
        None,
    ),
]


@pytest.mark.parametrize(("name", "code", "expected"), CASES, ids=[case[0] for case in CASES])
async def test_extras_end_in_the_runs_own_limits(
    api: Api, name: str, code: str, expected: str | tuple[str | None, ...] | None
) -> None:
    before = await restarts(api)
    result = await api.run(code)
    allowed = expected if isinstance(expected, tuple) else (expected,)
    assert result.code in allowed, (name, result.body)
    if result.code == "cpu_time_exceeded":
        assert result.elapsed < CPU_LIMIT_S + MARGIN_S + WALL_LIMIT_S, result.elapsed
    await assert_host_kept(api, before)


async def test_a_ping_pong_after_the_response_ends_with_the_run(api: Api) -> None:
    # A module answers at once and leaves two ports ping-ponging: nothing of the run runs after
    # it (Workers drop what a finished request left), and the host's thread goes idle.
    before = await restarts(api)
    function_id = await api.deploy(
        "export default { fetch() {" + PING_PONG + "return new Response('ok'); } };",
        filename="pingpong.mjs",
    )
    async with api.http.get(api.server.fn_url(function_id)) as response:
        assert response.status == 200
        assert await response.text() == "ok"
        run_id = response.headers["x-vortex-run-id"]
    record = await run_record(api, function_id, run_id)
    assert record["error"] is None, record
    await assert_host_kept(api, before)


FIXED = """
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const { readable, writable } = new FixedLengthStream(path === '/huge' ? Number.MAX_SAFE_INTEGER : 1 << 30);
    const writer = writable.getWriter();
    (async () => {
      const chunk = new Uint8Array(256 * 1024);
      if (path === '/huge') { await writer.write(chunk); await writer.close().catch(() => {}); return; }
      for (;;) await writer.write(chunk);
    })().catch(() => {});
    return new Response(readable);
  },
};
"""


@pytest.mark.parametrize("path", ["/huge", "/endless"])
async def test_a_fixed_length_body_that_lies_is_cut_cleanly(api: Api, path: str) -> None:
    # A Content-Length of 2^53-1 with 256 KiB sent, or 1 GiB sent past the response limit
    # (4 MiB here): the client sees a cut body, never more than the limit; the run's record
    # says why with a stable code; the host stays.
    before = await restarts(api)
    function_id = await api.deploy(FIXED, filename="fixed.mjs")
    received = 0
    async with api.http.get(api.server.fn_url(function_id, path)) as response:
        run_id = response.headers["x-vortex-run-id"]
        try:
            async for chunk in response.content.iter_any():
                received += len(chunk)
        except aiohttp.ClientPayloadError:
            pass
    assert received <= 4 << 20
    record = await run_record(api, function_id, run_id)
    assert record["error"] is not None, record
    # The declared length past the limit is refused before a byte; a stream past it is cut.
    assert record["error"]["code"] == "invalid_response", record["error"]
    assert "larger than 4194304 bytes" in record["error"]["message"]
    await assert_host_kept(api, before)
