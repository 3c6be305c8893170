"""HTMLRewriter's memory is bounded and counted: a huge page streams through in little memory,
a tag that never ends is stopped at the 32 MiB each rewrite may use (js/src/lolhtml.js), and
lol-html's WebAssembly memory is the run's, measured against its limit like any other."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from tests.hardening.conftest import Api, api_for
from tests.server import ServerProcess

BOUNDS_ENV = {
    "VORTEX_CPU_LIMIT_MS": "8000",
    "VORTEX_WALL_LIMIT_MS": "20000",
    "VORTEX_HOST_MEMORY_MB": "1024",
    "VORTEX_RUN_MEMORY_MB": "64",
}


@pytest.fixture(scope="module")
def bounds_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers(BOUNDS_ENV, workers=1)


@pytest.fixture
def api(client: aiohttp.ClientSession, bounds_server: ServerProcess) -> Api:
    return api_for(client, bounds_server)


async def test_a_huge_page_streams_through_in_bounded_memory(api: Api) -> None:
    # ~48 MB, made as it is read and counted as it comes out: under a 64 MiB run limit.
    result = await api.run(
        """
        const row = '<tr><td><a href="http://x.example/">link</a></td><td>' + 'x'.repeat(400) + '</td></tr>\\n';
        const chunk = new TextEncoder().encode(row.repeat(100));  // 48 KB, as a network read
        const chunks = 1000;
        let sent = 0;
        const body = new ReadableStream({
          pull(c) { if (sent++ < chunks) c.enqueue(chunk); else c.close(); },
        }, { highWaterMark: 0 });
        let links = 0, bytes = 0;
        const rewritten = new HTMLRewriter()
          .on('a[href^="http:"]', { element(e) { links++; e.setAttribute('href', 'https://x.example/'); } })
          .transform(new Response(body));
        for await (const chunk of rewritten.body) bytes += chunk.length;
        Vortex.return({ links, bytes, in: chunk.length * chunks });
        """
    )
    assert result.code is None, result.body
    out = result.body["output"]
    assert out["links"] == 100000
    assert out["bytes"] == out["in"] + 100000  # https: one byte more per link


async def test_a_tag_that_never_ends_is_stopped_at_the_cap(api: Api) -> None:
    before = (await api.wait_healthy())["host_restarts"]
    result = await api.run(
        """
        const piece = new TextEncoder().encode('x'.repeat(1 << 20));
        let sent = 0;
        const body = new ReadableStream({
          start(c) { c.enqueue(new TextEncoder().encode('<p>ok</p><a href="')); },
          pull(c) { if (sent++ < 200) c.enqueue(piece); else c.close(); },
        });
        const rewritten = new HTMLRewriter().on('a', { element() {} }).transform(new Response(body));
        const error = await rewritten.text().then(() => null, (e) => [e.name, e.message]);
        Vortex.return({ error, read: sent });
        """
    )
    out = result.body["output"]
    assert out["error"][0] == "TypeError", result.body
    assert "32 MiB" in out["error"][1]
    assert out["read"] < 40  # stopped at the cap, not after the 200 MiB
    assert (await api.health())["host_restarts"] == before
    await api.assert_serves_normally()


async def test_rewriters_held_open_count_against_the_run(api: Api) -> None:
    # Each rewrite holds ~16 MiB of lol-html memory for a tag it has not seen the end of: the
    # run's limit meets them as it meets any other memory, and the host stays.
    before = (await api.wait_healthy())["host_restarts"]
    result = await api.run(
        """
        const held = [];
        const piece = new TextEncoder().encode('<a href="' + 'x'.repeat(8 << 20));
        for (let i = 0; i < 40; i++) {
          const body = new ReadableStream({ start(c) { c.enqueue(piece); } });
          const reader = new HTMLRewriter().on('a', { element() {} }).transform(new Response(body)).body.getReader();
          reader.read();
          held.push(reader);
          await new Promise((r) => setTimeout(r, 5));
        }
        Vortex.return('all held');
        """
    )
    assert result.code == "memory_limit_exceeded", result.body
    assert (await api.health())["host_restarts"] == before
    await api.assert_serves_normally()
