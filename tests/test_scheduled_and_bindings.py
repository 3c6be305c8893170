"""The isolates layer on its own, with real host processes: a module's ``scheduled`` handler
and the binding call frames (here with a binding written for the test; the real KV binding is
tested through the server in test_kv_js.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from vortex.isolates.bindings import Binding, BindingError
from vortex.isolates.exchange import HttpRequest
from vortex.isolates.outcome import LogEntry, RunOutcome
from vortex.isolates.pool import IsolatePool
from vortex.modules.build import build
from vortex.modules.detect import Upload

TICK = {"cron": "*/5 * * * *", "scheduledTime": 1_800_000_000_000}


@pytest.fixture
async def pool() -> AsyncIterator[IsolatePool]:
    pool = IsolatePool(1, spares=0)
    await pool.start()
    yield pool
    await pool.close()


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.data: dict[str, str] = {}

    async def __call__(self, op: str, args: Mapping[str, Any], body: bytes | None) -> Any:
        self.calls.append((op, dict(args)))
        if op == "get":
            value = self.data.get(args["key"])
            return None if value is None else {"value": value}
        if op == "put":
            if args["key"] == "refused":
                raise BindingError("kv_invalid_key", "not this one")
            self.data[args["key"]] = args["value"]
            return None
        raise RuntimeError("an unexpected failure of the service")


async def scheduled(
    pool: IsolatePool, code: str, recorder: Recorder | None = None
) -> tuple[RunOutcome, list[str]]:
    bundle = await build(Upload({"w.mjs": code}, "w.mjs"))
    lines: list[str] = []

    def on_log(entry: LogEntry) -> None:
        lines.append(entry["message"])

    bindings = {"kv": Binding(recorder or Recorder(), {"max_value_bytes": 100})}
    invocation = await pool.start_invocation(
        bundle.script,
        on_log=on_log,
        filename="w.mjs",
        kind="module",
        bindings=bindings,
        scheduled=TICK,
    )
    return await invocation.outcome, lines


async def test_the_scheduled_handler_gets_the_tick_and_its_waituntil_is_awaited(
    pool: IsolatePool,
) -> None:
    outcome, lines = await scheduled(
        pool,
        """
        export default {
          async scheduled(event, env, ctx) {
            console.log(event.type, event.cron, event.scheduledTime, typeof event.noRetry);
            ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 30)).then(() => console.log("later")));
            return "ignored";
          },
        };
        """,
    )
    assert outcome.error is None
    assert lines == ["scheduled */5 * * * * 1800000000000 function", "later"]


async def test_a_module_without_a_scheduled_handler_fails_clearly(pool: IsolatePool) -> None:
    outcome, _ = await scheduled(
        pool, "export default { async fetch() { return new Response('x'); } };"
    )
    assert outcome.error is not None
    assert outcome.error["code"] == "invalid_module"
    assert "scheduled(event, env, ctx)" in outcome.error["message"]


async def test_a_request_to_a_cron_only_module_says_it_is_cron_only(pool: IsolatePool) -> None:
    # A Worker with only `scheduled` is valid; "must export ... a fetch method" read as if the
    # module were broken.
    bundle = await build(Upload({"w.mjs": "export default { async scheduled() {} };"}, "w.mjs"))
    invocation = await pool.start_invocation(
        bundle.script,
        on_log=lambda entry: None,
        filename="w.mjs",
        kind="module",
        request=HttpRequest("GET", "http://cron.localhost/", [], b""),
    )
    outcome = await invocation.outcome
    assert outcome.error is not None
    assert outcome.error["code"] == "invalid_module"
    assert outcome.error["message"].startswith("This module has a scheduled handler only")
    assert "fetch(request, env, ctx)" in outcome.error["message"]


async def test_a_throwing_scheduled_handler_is_a_function_error(pool: IsolatePool) -> None:
    outcome, _ = await scheduled(
        pool, "export default { async scheduled() { throw new RangeError('nope'); } };"
    )
    assert outcome.error is not None
    assert (outcome.error["code"], outcome.error["name"]) == ("function_error", "RangeError")


async def test_a_scheduled_handler_that_throws_lets_its_wait_until_work_finish(
    pool: IsolatePool,
) -> None:
    """As in workerd, where the tick's outcome is known once its waitUntil work is over: the
    work a handler started before it threw still runs (ending the run at the throw cleared its
    timer), and the run is a function_error all the same."""
    outcome, lines = await scheduled(
        pool,
        """
        export default {
          async scheduled(event, env, ctx) {
            ctx.waitUntil(new Promise((resolve) => setTimeout(() => { console.log('reported'); resolve(); }, 200)));
            throw new RangeError('nope');
          },
        };
        """,
    )
    assert lines == ["reported"]
    assert outcome.error is not None
    assert (outcome.error["code"], outcome.error["message"]) == ("function_error", "nope")


async def test_binding_calls_answer_refuse_and_fail_with_codes(pool: IsolatePool) -> None:
    recorder = Recorder()
    outcome, lines = await scheduled(
        pool,
        """
        export default {
          async scheduled(event, env) {
            await env.KV.put("a", "1");
            console.log(await env.KV.get("a"), await env.KV.get("b"));
            for (const attempt of [() => env.KV.put("refused", "x"), () => env.KV.list(),
                                   () => env.KV.put("big", "x".repeat(101))]) {
              try { await attempt(); } catch (e) { console.log(e.code, e.message); }
            }
            env.KV.put("unawaited", "still written");
          },
        };
        """,
        recorder,
    )
    assert outcome.error is None, outcome.error
    assert lines == [
        "1 null",
        "kv_invalid_key not this one",
        "binding_unavailable list failed: internal error",
        "kv_value_too_large KV value is over the limit of 100 bytes",
    ]
    # The over-long value never left the host; the unawaited put finished before the run ended.
    assert [op for op, _ in recorder.calls] == ["put", "get", "get", "put", "list", "put"]
    assert recorder.data == {"a": "1", "unawaited": "still written"}
