"""A streamed response body of a run the supervisor started (``POST /execute``, a service
binding's target) flows no faster than its reader takes it (``BodyPull``), and is cancelled in
the run when its reader gives up (``BodyCancel``), as a listener's client that is slow, or
leaves, holds back or cancels a listener run's body. Real host processes, no server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from vortex.isolates.exchange import BODY_WINDOW, HttpRequest
from vortex.isolates.outcome import LogEntry
from vortex.isolates.pool import IsolatePool
from vortex.modules.build import build
from vortex.modules.detect import Upload

CHUNK = 256 << 10

ENDLESS = f"""
export default {{
  fetch() {{
    let sent = 0;
    const body = new ReadableStream({{
      pull(controller) {{
        sent += 1;
        console.log('chunk ' + sent);
        controller.enqueue(new Uint8Array({CHUNK}));
      }},
      cancel(reason) {{ console.log('cancelled: ' + reason.message); }},
    }});
    return new Response(body);
  }},
}};
"""


@pytest.fixture
async def pool() -> AsyncIterator[IsolatePool]:
    pool = IsolatePool(1, spares=0)
    await pool.start()
    yield pool
    await pool.close()


async def test_a_body_waits_for_its_reader_and_is_cancelled_when_it_leaves(
    pool: IsolatePool,
) -> None:
    bundle = await build(Upload({"w.mjs": ENDLESS}, "w.mjs"))
    lines: list[str] = []

    def on_log(entry: LogEntry) -> None:
        lines.append(entry["message"])

    invocation = await pool.start_invocation(
        bundle.script,
        on_log=on_log,
        filename="w.mjs",
        kind="module",
        request=HttpRequest("GET", "http://w.localhost/", [], None),
    )
    head = await asyncio.wait_for(invocation.response, 5)
    assert head is not None and head.streaming
    # Nobody reads: the run waits a window ahead (and its stream's own queue), rather than
    # go on to its limit of 32 MiB (128 chunks), where it failed within a second before.
    await asyncio.sleep(2)
    assert not invocation.outcome.done(), invocation.outcome.result().error
    assert len(lines) <= BODY_WINDOW // CHUNK + 3, lines
    taken = 0
    async with contextlib.aclosing(invocation.body_chunks()) as chunks:
        async for chunk in chunks:
            taken += len(chunk)
            if taken >= 3 * BODY_WINDOW:
                break
    # Read on, it went on; left, it was cancelled, and the run ended well.
    outcome = await asyncio.wait_for(invocation.outcome, 5)
    assert outcome.error is None, outcome.error
    assert lines[-1] == "cancelled: Nobody reads the response body any more"
    assert len(lines) - 1 <= (3 * BODY_WINDOW + 2 * BODY_WINDOW) // CHUNK + 3, len(lines)
