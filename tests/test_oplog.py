"""The server's log as an operator reads it (vortex/oplog.py), one module at a time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable

import aiohttp
import pytest

from tests.server import ServerProcess
from vortex import oplog
from vortex.isolates.access import MAX_PATH, logged_path
from vortex.isolates.bridge import ACCESS_BACKLOG, Host
from vortex.isolates.protocol import AccessRecord, Ended, Frame
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
    assert listener["logger"] == "vortex.access" and listener["kind"] == "listener"
    assert (listener["function"], listener["run_id"], listener["path"]) == (name, run_id, "/a")
    assert listener["status"] == 200 and isinstance(listener["ms"], float)


# ------------------------------------------------------ the access lines of the functions listener

TEXT_LINE = re.compile(
    r"INFO vortex\.access: (?P<method>\S+) (?P<path>\S+) (?P<status>\d+) (?P<ms>\d+\.\d)ms"
    r" host=(?P<host>\S+)(?: fn=(?P<function>\S+))?(?: run=(?P<run_id>\S+))?"
    r"(?: error=(?P<error>\S+))?$"
)
SLOW = (
    "export default { async fetch() { await new Promise((r) => setTimeout(r, 1500)); "
    "return new Response('late'); } };"
)


def listener_line(server: ServerProcess, marker: str, log_format: str) -> dict[str, object]:
    """The one access line of the listener request whose path holds ``marker``, as fields."""
    found = lines_with(server, marker)
    time.sleep(0.2)  # a second line, were there one, would come in the same batch or the next
    found = [line for line in server.log().splitlines() if marker in line]
    assert len(found) == 1, found
    if log_format == "json":
        entry = json.loads(found[0])
        assert entry["logger"] == "vortex.access" and entry["kind"] == "listener", entry
        assert entry["message"].startswith(f"{entry.get('method', '-')} {entry['path']} ")
        keys = ("method", "path", "status", "host", "function", "run_id", "error", "ms")
        return {key: entry.get(key) for key in keys}
    match = TEXT_LINE.search(found[0])
    assert match is not None, found[0]
    fields: dict[str, object] = dict(match.groupdict())
    fields["status"] = int(str(fields["status"]))
    fields["ms"] = float(str(fields["ms"]))
    for key in ("method", "host"):  # "-": not known (JSON leaves the key out)
        fields[key] = None if fields[key] == "-" else fields[key]
    return fields


def raw(port: int, data: bytes, wait: float = 10.0) -> bytes:
    """Send ``data`` on a new connection; what comes back until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        with contextlib.suppress(OSError):  # a refusal may come before all of it is sent
            sock.sendall(data)
        chunks = []
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_one_access_line_per_listener_request(
    server_factory: Callable[..., ServerProcess], log_format: str
) -> None:
    server = server_factory(
        env={
            "VORTEX_LOG_FORMAT": log_format,
            "VORTEX_MAX_BODY_BYTES": "1000",
            "VORTEX_FUNCTIONS_HEADER_TIMEOUT_MS": "500",
        }
    )
    name, slow = f"acc-{uuid.uuid4().hex[:8]}", f"slow-{uuid.uuid4().hex[:8]}"
    module = "export default { fetch: () => new Response('hi') };"
    port = server.functions_port
    host = f"{name}.localhost".encode()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        for code, called in ((module, name), (SLOW, slow)):
            async with http.post(
                "/deploy", json={"code": code, "filename": "index.mjs", "name": called}
            ) as r:
                assert r.status == 200
        async with http.get(server.fn_url(name, "/ran?token=tok-q7z")) as r:
            assert await r.text() == "hi"
            run_id = r.headers["x-vortex-run-id"]
    # The run of a request, answered by a host: method, path without its query, status, the
    # function by name and the run.
    line = listener_line(server, "/ran", log_format)
    assert line["method"] == "GET" and line["path"] == "/ran" and line["status"] == 200
    assert (line["host"], line["function"], line["run_id"]) == (f"{name}.localhost", name, run_id)
    assert line["error"] is None and isinstance(line["ms"], float)
    assert "tok-q7z" not in server.log()
    # ... and no second line for it in another shape (the run line is folded into it).
    assert [entry for entry in server.log().splitlines() if run_id in entry] == [
        entry for entry in server.log().splitlines() if "/ran" in entry
    ]
    # An unknown hostname: answered by the supervisor (a connection's first request) ...
    answer = raw(port, b"GET /nobody-first HTTP/1.1\r\nHost: nobody-x.localhost\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404 ")
    line = listener_line(server, "/nobody-first", log_format)
    assert (line["method"], line["status"], line["host"]) == ("GET", 404, "nobody-x.localhost")
    assert (line["function"], line["run_id"], line["error"]) == (None, None, "function_not_found")
    # ... or by the host, later on a connection (each request names its own host).
    answer = raw(
        port,
        b"GET /known HTTP/1.1\r\nHost: %s\r\n\r\n"
        b"HEAD /nobody-later HTTP/1.1\r\nHost: nobody-y.localhost\r\nConnection: close\r\n\r\n"
        % host,
    )
    assert answer.startswith(b"HTTP/1.1 200 ") and b"HTTP/1.1 404 " in answer, answer
    line = listener_line(server, "/nobody-later", log_format)
    assert (line["method"], line["status"], line["host"]) == ("HEAD", 404, "nobody-y.localhost")
    assert line["error"] == "function_not_found" and line["function"] is None
    assert listener_line(server, "/known", log_format)["status"] == 200
    # Refused by the host: a body over the limit; by the supervisor: a head over 64 KiB.
    answer = raw(port, b"POST /big HTTP/1.1\r\nHost: %s\r\nContent-Length: 5000\r\n\r\n" % host)
    assert answer.startswith(b"HTTP/1.1 413 ")
    line = listener_line(server, "/big", log_format)
    assert (line["method"], line["status"], line["error"]) == ("POST", 413, "payload_too_large")
    assert line["host"] == f"{name}.localhost" and line["run_id"] is None
    answer = raw(
        port, b"GET /wide HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n" % (host, b"x" * 70000)
    )
    assert answer.startswith(b"HTTP/1.1 431 ")
    line = listener_line(server, "/wide", log_format)
    assert (line["method"], line["status"], line["error"]) == ("GET", 431, "headers_too_large")
    # A head that never ends: 408, in the supervisor (first request) and in a host (later).
    assert raw(port, b"GET /stalled-first HTTP/1.1\r\nHo") == b""
    line = listener_line(server, "/stalled-first", log_format)
    assert (line["method"], line["status"], line["error"]) == ("GET", 408, None)
    answer = raw(
        port, b"GET /fine HTTP/1.1\r\nHost: %s\r\n\r\nGET /stalled-later HTTP/1.1\r\nHo" % host
    )
    assert answer.startswith(b"HTTP/1.1 200 ")
    line = listener_line(server, "/stalled-later", log_format)
    assert (line["method"], line["status"], line["host"]) == ("GET", 408, None)
    # A client that leaves before its answer: 499, with the run it started.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /gone HTTP/1.1\r\nHost: %s.localhost\r\n\r\n" % slow.encode())
        await asyncio.sleep(0.3)
    line = listener_line(server, "/gone", log_format)
    assert (line["status"], line["function"], line["error"]) == (499, slow, None)
    assert line["run_id"] and float(str(line["ms"])) < 1500


def test_a_logged_path_has_no_query_and_nothing_a_terminal_would_run() -> None:
    assert logged_path(b"/a/b?token=secret") == "/a/b"
    assert logged_path(b"http://x.localhost:8787/p?q") == "/p"
    assert logged_path(b"http://x.localhost") == "/"
    assert logged_path(b"/caf\xc3\xa9") == "/caf\\xc3\\xa9"
    assert logged_path(b"/a\x1b[31m") == "/a\\x1b[31m"
    assert logged_path(b"/" + b"x" * 1000) == "/" + "x" * (MAX_PATH - 1)


async def test_access_records_are_dropped_not_held_while_the_pipe_is_full() -> None:
    sent: list[Frame] = []
    host = Host(None, sent.append)
    backlog = [ACCESS_BACKLOG + 1]
    host.backlog = lambda: backlog[0]
    record = AccessRecord("GET", "/", 200, 1.0, "x.localhost")
    for _ in range(3):
        host.access(record)
    host.flush_records()
    assert sent == []  # the count waits for the pipe to clear
    backlog[0] = 0
    host.access(record)
    host.flush_records()
    assert sent == [Ended([], [record], 3)]
    backlog[0] = ACCESS_BACKLOG + 1
    host.access(record)
    host.flush_records(final=True)  # the host's end: the count goes, whatever the pipe holds
    assert sent[1:] == [Ended([], [], 1)]


def test_dropped_access_lines_are_counted_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="vortex.access"):
        oplog.access_dropped(3, 42)
        oplog.listener_request(AccessRecord("", "", 400, 0.25, "", error="bad_request"), None)
    dropped, refused = caplog.records
    assert dropped.levelname == "WARNING"
    assert dropped.getMessage() == "3 access lines dropped: host 42's pipe to the server was full"
    assert refused.getMessage() == "- - 400 0.2ms host=- error=bad_request"
    entry = json.loads(oplog.JsonLines().format(refused))
    assert (entry["kind"], entry["status"], entry["error"]) == ("listener", 400, "bad_request")
    assert "method" not in entry and "host" not in entry and "function" not in entry


def test_a_batch_of_listener_requests_is_a_line_each(caplog: pytest.LogCaptureFixture) -> None:
    records = [
        AccessRecord("GET", f"/item/{n}", 200, 0.5 + n, "hello.localhost", "fid", f"run{n}")
        for n in range(3)
    ]
    with caplog.at_level(logging.INFO, logger="vortex.access"):
        oplog.listener_requests([(record, "hello") for record in records])
        for record in records:
            oplog.listener_request(record, "hello")
    batch, *singles = caplog.records
    assert len(singles) == 3
    singles[0].created = singles[1].created = singles[2].created = batch.created
    singles[0].msecs = singles[1].msecs = singles[2].msecs = batch.msecs
    text = oplog.TextLines()
    assert text.format(batch).splitlines() == [text.format(single) for single in singles]
    as_json = oplog.JsonLines()
    assert as_json.format(batch).splitlines() == [as_json.format(single) for single in singles]
    assert [json.loads(line)["path"] for line in as_json.format(batch).splitlines()] == [
        "/item/0",
        "/item/1",
        "/item/2",
    ]
