"""The server's log as an operator reads it (vortex/oplog.py), one module at a time."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable

import aiohttp

from tests.server import ServerProcess
from vortex.oplog import HostEventWords


def formatted(name: str, msg: str, *args: object) -> str:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, None)
    assert HostEventWords().filter(record)
    return record.getMessage()


def test_a_host_kill_is_a_readable_line() -> None:
    reason = (
        "cpu_time_exceeded",
        "CPU time limit of 30 ms exceeded by one synchronous turn; the host process running it "
        "was replaced",
        30,
    )
    line = formatted("vortex.isolates.pool", "host %s exited (%s); pool refilling", 16039, reason)
    assert line == (
        "host 16039 exited (cpu_time_exceeded: CPU time limit of 30 ms exceeded by one "
        "synchronous turn; the host process running it was replaced); pool refilling"
    )
    assert "(" not in line.split("exited (", 1)[1].split(";")[0]
    line = formatted("vortex.isolates.pool", "host %s exited (%s); pool refilling", 7, None)
    assert line == (
        "host 7 exited (no reason known: it crashed or was killed from outside); pool refilling"
    )
    line = formatted("vortex.isolates.pool", "draining host %s was stopped (%s)", 8, reason)
    assert line.startswith("draining host 8 was stopped (cpu_time_exceeded: CPU time limit")


def test_other_lines_are_left_as_they_are() -> None:
    assert formatted("vortex.http", "a %s b", ("x", "y", 1)) == "a ('x', 'y', 1) b"
    assert formatted("vortex.isolates.pool", "spare %s ready", None) == "spare None ready"


# ------------------------------------------------------------------ the access log of a server


def lines_with(server: ServerProcess, text: str, timeout: float = 10.0) -> list[str]:
    """The server's log lines holding ``text``, once there is one (records come batched)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in server.log().splitlines() if text in line]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


async def test_one_access_line_per_api_request(server: ServerProcess) -> None:
    name = f"acc-{uuid.uuid4().hex[:8]}"
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": "Vortex.return(1);", "name": name}):
            pass
        async with http.post(f"/execute/{name}", headers={"X-Vortex-Run-Id": run_id}) as r:
            assert r.status == 200 and r.headers["X-Vortex-Run-Id"] == run_id
        async with http.get(f"/ws/{name}") as r:
            assert r.status == 426
        async with http.get(f"/functions/{name}/runs/{run_id}") as r:
            assert r.status == 200
    (line,) = lines_with(server, f"POST /execute/{name} ")
    assert re.search(
        rf"INFO vortex.access: POST /execute/{name} 200 \d+\.\dms fn={name} run={run_id}$", line
    ), line
    (line,) = lines_with(server, f"GET /ws/{name} ")
    assert re.search(rf"GET /ws/{name} 426 \d+\.\dms fn={name}$", line), line
    (line,) = lines_with(server, f"GET /functions/{name}/runs/{run_id} ")
    assert line.endswith(f"fn={name} run={run_id}"), line
    assert lines_with(server, "POST /deploy 200")[-1].endswith(f"ms fn={name}")
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.delete(f"/functions/{name}") as r,
    ):
        assert r.status == 200


async def test_json_lines_with_listener_runs(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env={"VORTEX_LOG_FORMAT": "json"})
    name = f"acc-{uuid.uuid4().hex[:8]}"
    module = "export default { fetch: () => new Response('hi') };"
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post(
            "/deploy", json={"code": module, "filename": "index.mjs", "name": name}
        ) as r:
            assert r.status == 200
        async with http.get(server.fn_url(name, "/a?b=1")) as r:
            assert await r.text() == "hi"
            run_id = r.headers["x-vortex-run-id"]
    (run,) = lines_with(server, run_id)
    entries = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    deploys = [e for e in entries if e.get("path") == "/deploy"]
    assert deploys and deploys[0]["method"] == "POST" and deploys[0]["status"] == 200
    assert isinstance(deploys[0]["ms"], float) and deploys[0]["logger"] == "vortex.access"
    assert deploys[0]["function"] == name and "run_id" not in deploys[0]
    assert entries[0]["message"].startswith("Vortex serving on ")  # the banner, as JSON
    listener = json.loads(run)
    assert listener["logger"] == "vortex.access" and listener["trigger"] == "http"
    assert (listener["function"], listener["version"], listener["run_id"]) == (name, 1, run_id)
    assert listener["outcome"] == "ok" and isinstance(listener["ms"], float)
