"""``POST /functions/{ref}/scheduled`` and ``vortex trigger``: a module's ``scheduled`` handler run
once on demand, as a tick runs it, through a real server."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result

from tests.server import ServerProcess
from vortex.cli.main import cli

Deploy = Callable[..., Awaitable[str]]
Invoke = Callable[..., Result]

NEVER = "0 0 1 1 *"
"""A schedule whose tick never falls within a test."""

TICKER = """
export default {
  async scheduled(event, env, ctx) {
    console.log(`tick ${event.type} [${event.cron}] ${event.scheduledTime}`);
    ctx.waitUntil(env.KV.put('last', `[${event.cron}]`));
  },
};
"""

FETCH_ONLY = """
export default { async fetch() { return new Response('hi'); } };
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def trigger(
    http: aiohttp.ClientSession, ref: str, body: object = None
) -> tuple[int, dict[str, Any], aiohttp.typedefs.LooseHeaders]:
    async with http.post(f"/functions/{ref}/scheduled", json=body) as response:
        return response.status, await response.json(), response.headers


async def history_entry(http: aiohttp.ClientSession, ref: str, run_id: str) -> dict[str, Any]:
    async with http.get(f"/functions/{ref}/runs/{run_id}") as response:
        assert response.status == 200
        entry: dict[str, Any] = await response.json()
        return entry


async def test_the_handler_runs_with_the_functions_schedule_and_now(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    name = unique("ticker")
    await deploy(TICKER, filename="ticker.mjs", name=name, schedule=NEVER)
    before = int(time.time() * 1000)
    status, body, headers = await trigger(http, name)
    after = int(time.time() * 1000)
    assert status == 200, body
    assert "error" not in body
    assert body["output"] is None
    assert body["name"] == name and body["version"] == 1
    assert headers["X-Vortex-Run-Id"] == body["run_id"]
    [line] = body["logs"]
    words = line["message"].split(" ")
    assert words[:2] == ["tick", "scheduled"]
    assert line["message"].startswith(f"tick scheduled [{NEVER}] ")
    assert before <= int(words[-1]) <= after

    async with http.get(f"/functions/{name}/kv/value", params={"key": "last"}) as response:
        assert (await response.json())["value"] == f"[{NEVER}]"
    entry = await history_entry(http, name, body["run_id"])
    assert entry["trigger"] == "scheduled"
    assert entry["ok"] is True
    assert entry["logs"][0]["message"] == line["message"]


async def test_the_body_gives_the_events_cron_and_time(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(TICKER, filename="ticker.mjs")
    status, body, _ = await trigger(
        http, function_id, {"cron": "*/5 * * * *", "scheduledTime": 1765000000000}
    )
    assert status == 200, body
    assert body["logs"][0]["message"] == "tick scheduled [*/5 * * * *] 1765000000000"
    # Without a schedule and without "cron", the event's cron is empty.
    status, body, _ = await trigger(http, function_id)
    assert body["logs"][0]["message"].startswith("tick scheduled [] ")


async def test_a_module_without_a_scheduled_handler_fails_as_a_tick_does(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(FETCH_ONLY, filename="web.mjs")
    status, body, headers = await trigger(http, function_id)
    assert status == 200, body
    assert body["error"]["code"] == "invalid_module"
    assert "scheduled method" in body["error"]["message"]
    assert headers["X-Vortex-Error"] == "invalid_module"
    entry = await history_entry(http, function_id, body["run_id"])
    assert (entry["trigger"], entry["ok"], entry["error_code"]) == (
        "scheduled",
        False,
        "invalid_module",
    )


async def test_a_throwing_handler_is_a_function_error(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    code = "export default { scheduled() { throw new Error('boom'); } };"
    function_id = await deploy(code, filename="boom.mjs")
    status, body, _ = await trigger(http, function_id)
    assert status == 200
    assert body["error"]["code"] == "function_error"
    assert "boom" in body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"cron": 5}, 400, "invalid_request"),
        ({"cron": "x" * 257}, 400, "invalid_request"),
        ({"scheduledTime": "now"}, 400, "invalid_request"),
        ({"scheduledTime": True}, 400, "invalid_request"),
        ({"scheduledTime": -1}, 400, "invalid_request"),
        ({"scheduled_time": 1}, 400, "invalid_request"),  # misspelt: refused, not "now"
        ([1], 400, "invalid_request"),
    ],
)
async def test_a_bad_body_is_refused(
    http: aiohttp.ClientSession, deploy: Deploy, body: object, status: int, code: str
) -> None:
    function_id = await deploy(TICKER, filename="ticker.mjs")
    got, answer, _ = await trigger(http, function_id, body)
    assert (got, answer["error"]["code"]) == (status, code)


async def test_a_script_or_an_unknown_function_is_refused(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy("Vortex.return(1)", schedule=NEVER)
    status, body, _ = await trigger(http, function_id)
    assert (status, body["error"]["code"]) == (400, "not_a_module")
    assert "POST /execute" in body["error"]["message"]
    async with http.get(f"/functions/{function_id}/runs") as response:
        assert (await response.json())["runs"] == []

    status, body, _ = await trigger(http, unique("nobody"))
    assert (status, body["error"]["code"]) == (404, "function_not_found")
    status, body, _ = await trigger(http, str(uuid.uuid4()))
    assert (status, body["error"]["code"]) == (404, "function_not_found")


# -- vortex trigger ---------------------------------------------------------------------------


@pytest.fixture
def invoke(server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.chdir(tmp_path)

    def _invoke(*args: str) -> Result:
        env: dict[str, str | None] = {"VORTEX_URL": server.url, "NO_COLOR": None}
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert "Traceback" not in result.output + result.stderr
        return result

    return _invoke


def cli_deploy(invoke: Invoke, code: str, filename: str, *extra: str) -> str:
    Path(filename).write_text(code)
    result = invoke("deploy", filename, "--json", *extra)
    assert result.exit_code == 0, result.output + result.stderr
    return str(json.loads(result.stdout)["function_id"])


def test_vortex_trigger_prints_the_handlers_output(invoke: Invoke) -> None:
    name = unique("cli-ticker")
    cli_deploy(invoke, TICKER, "ticker.mjs", "--name", name, "--schedule", NEVER)
    result = invoke("trigger", name)
    assert result.exit_code == 0, result.output + result.stderr
    assert f"[log] tick scheduled [{NEVER}] " in result.stdout
    assert "⏱ Executed in" in result.stdout
    assert "Return Value" not in result.stdout

    result = invoke("trigger", name, "--cron", "1 2 3 4 5", "--scheduled-time", "42", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    answer = json.loads(result.stdout)
    assert answer["logs"][0]["message"] == "tick scheduled [1 2 3 4 5] 42"

    result = invoke("runs", name)
    assert result.exit_code == 0
    assert result.stdout.count("scheduled") >= 2


def test_vortex_trigger_errors(invoke: Invoke) -> None:
    function_id = cli_deploy(invoke, FETCH_ONLY, "web.mjs")
    result = invoke("trigger", function_id)
    assert result.exit_code == 1
    assert "invalid_module" in result.output + result.stderr

    function_id = cli_deploy(invoke, "Vortex.return(1)", "script.js")
    result = invoke("trigger", function_id)
    assert result.exit_code == 1
    assert "is a script, which has no scheduled handler" in result.stderr

    result = invoke("trigger", unique("nobody"))
    assert result.exit_code == 4
