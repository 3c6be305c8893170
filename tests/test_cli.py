"""The ``vortex`` CLI, driven by click's CliRunner against a real ``vortex serve``.

CliRunner's streams are not terminals, so colours and the spinner are off here; their rules are
tested at the unit level in tests/test_cli_output.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.server import REPO, ServerProcess, free_port
from vortex.cli.init import TEMPLATE
from vortex.cli.main import cli
from vortex.client import UnexpectedResponse, VortexClient

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``vortex ARGS`` in a fresh directory against the shared server."""
    monkeypatch.chdir(tmp_path)

    def _invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
        full_env: dict[str, str | None] = {"VORTEX_URL": server.url, "NO_COLOR": None}
        full_env.update(env or {})
        result = CliRunner().invoke(cli, list(args), env=full_env, catch_exceptions=False)
        assert "Traceback" not in result.output + result.stderr
        return result

    return _invoke


def deploy_code(invoke: Invoke, code: str, name: str = "index.js") -> str:
    Path(name).write_text(code)
    result = invoke("deploy", name, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    return str(json.loads(result.stdout)["function_id"])


def stop(process: subprocess.Popen[bytes]) -> None:
    """Never leave a CLI process behind, whatever the test did."""
    if process.poll() is None:
        process.kill()
        process.wait()


def one_line(text: str) -> str:
    lines = text.strip("\n").split("\n")
    assert len(lines) == 1, text
    return lines[0]


def test_init_creates_the_readme_example(invoke: Invoke) -> None:
    result = invoke("init")
    assert result.exit_code == 0, result.stderr
    assert Path("index.js").read_text(encoding="utf-8") == TEMPLATE
    assert TEMPLATE.startswith('// index.js\nconsole.log("🚀 Function starting...");\n')
    assert "\\ V /" in result.stdout  # the banner
    assert result.stdout.split("\n")[-6:] == [
        "✓ Initializing new Vortex function...",
        "✓ Created index.js",
        "→ Next steps:",
        "  1. Edit index.js to add your logic",
        "  2. Deploy with: vortex deploy index.js",
        "",
    ]


def test_init_refuses_to_overwrite_without_force(invoke: Invoke) -> None:
    Path("index.js").write_text("// mine\n")
    result = invoke("init")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert one_line(result.stderr) == "Error: index.js already exists; use --force to overwrite it"
    assert Path("index.js").read_text() == "// mine\n"

    result = invoke("init", "--force")
    assert result.exit_code == 0
    assert "✓ Overwrote index.js" in result.stdout
    assert Path("index.js").read_text(encoding="utf-8") == TEMPLATE


def test_deploy_then_run_the_example_as_the_readme_shows(invoke: Invoke) -> None:
    invoke("init")
    result = invoke("deploy", "index.js")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    size = len(TEMPLATE.encode())
    assert lines[0] == f"→ Deploying index.js ({size} bytes)..."
    assert lines[1] == "✓ Function deployed successfully!"
    match = re.fullmatch(r"  Function ID: ([0-9a-f-]{36})", lines[2])
    assert match, lines
    function_id = match.group(1)
    assert lines[3:] == ["  Run your function with:", f"  vortex run {function_id}"]

    result = invoke("run", function_id)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(
        f"→ Executing function {function_id}...\n"
        "📋 Console Output:\n"
        "  [log] 🚀 Function starting...\n"
        "  [log] Result: {\n"
        '    "message": "Hello from Vortex!",\n'
    )
    _, rest = out.split("📦 Return Value:\n")
    value_text, timing = rest.rsplit("⏱ Executed in ", 1)
    value = json.loads(value_text)
    assert value["message"] == "Hello from Vortex!"
    assert value["computed"] == [0, 1, 4, 9, 16]
    assert '"computed": [0, 1, 4, 9, 16]' in value_text  # short arrays stay on one line
    assert re.fullmatch(r"\d+ms\n", timing)
    assert 100 <= int(timing[:-3]) < 2000


def test_deploy_sends_the_file_name(invoke: Invoke, server: ServerProcess) -> None:
    function_id = deploy_code(invoke, "Vortex.return(1);", name="my handler.js")
    with urllib.request.urlopen(f"{server.url}/functions/{function_id}") as response:
        record = json.load(response)
    assert record["filename"] == "my_handler.js"
    assert record["code"] == "Vortex.return(1);"


def test_deploy_syntax_error_points_at_the_spot(invoke: Invoke) -> None:
    Path("bad.js").write_text("const ok = 1;\nlet x = ;\n")
    result = invoke("deploy", "bad.js")
    assert result.exit_code == 1
    assert "Function deployed" not in result.stdout
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: syntax error in bad.js:2:9: ")
    assert "(bad.js" not in lines[0]  # the server's own location suffix is not repeated
    source = next(line for line in lines if line.endswith("let x = ;"))
    caret = lines[lines.index(source) + 1]
    assert caret.index("^") == source.index(";")

    result = invoke("deploy", "bad.js", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["line"], error["column"]) == ("syntax_error", 2, 9)


def test_deploy_over_the_limits_says_which_setting_raises_them(invoke: Invoke) -> None:
    Path("big.js").write_text("// " + "x" * (21 << 19) + "\nVortex.return(1);\n")
    result = invoke("deploy", "big.js")
    assert (result.exit_code, result.stdout) == (1, "")
    assert one_line(result.stderr) == (
        "Error: the code, 10.5 MiB (11,010,070 bytes) of UTF-8, is over the limit of 10 MiB "
        "(10,485,760 bytes); the server's operator can raise it with VORTEX_MAX_CODE_BYTES"
    )
    # Over the deploy's body limit as well: the server's JSON error, not aiohttp's plain text.
    Path("huge.js").write_text("// " + "x" * (22 << 20) + "\nVortex.return(1);\n")
    result = invoke("deploy", "huge.js", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["setting"]) == ("payload_too_large", "VORTEX_MAX_CODE_BYTES")
    assert "twice the code's limit of 10 MiB (10,485,760 bytes)" in error["message"]


def test_deploy_of_a_missing_file(invoke: Invoke) -> None:
    result = invoke("deploy", "nothere.js")
    assert result.exit_code == 2
    assert one_line(result.stderr) == "Error: nothere.js: no such file"


def test_run_prints_logs_in_order_then_value_and_time(invoke: Invoke) -> None:
    function_id = deploy_code(
        invoke,
        """
        console.log("one");
        await new Promise(r => setTimeout(r, 20));
        console.info("two\\nlines");
        console.warn("three");
        console.log("three");
        console.log("three");
        console.error("four");
        Vortex.return({ n: [1, 2], s: "ok" });
        """,
    )
    result = invoke("run", function_id)
    assert result.exit_code == 0, result.stderr
    console = result.stdout.split("📋 Console Output:\n")[1].split("📦 Return Value:\n")[0]
    assert console == (
        "  [log] one\n"
        "  [info] two\n"
        "  lines\n"
        "  [warn] three\n"
        "  [log] three\n"
        "  [log] three\n"
        "  [error] four\n"
    )
    assert '  { "n": [1, 2], "s": "ok" }\n⏱ Executed in ' in result.stdout
    assert result.stderr == ""


def test_run_says_when_the_run_goes_on_after_its_answer(invoke: Invoke) -> None:
    """A handler that throws while its waitUntil work goes on is answered at once; the CLI
    says the run is not over, and where the rest will show."""
    function_id = deploy_code(
        invoke,
        "export default { async fetch(request, env, ctx) {\n"
        "  ctx.waitUntil(new Promise((r) => setTimeout(r, 1500)));\n"
        "  throw new Error('handler failed');\n} };\n",
        name="index.mjs",
    )
    result = invoke("run", function_id)
    assert result.exit_code == 1
    assert "Error: handler failed" in result.stdout + result.stderr
    assert (
        f"⏳ Still running: its waitUntil work goes on (vortex logs {function_id} --follow)"
        in result.stdout
    )
    done = invoke("run", deploy_code(invoke, "Vortex.return(1)"))
    assert done.exit_code == 0 and "Still running" not in done.stdout


def test_run_shows_console_output_live(server: ServerProcess, invoke: Invoke) -> None:
    """The first line is on screen while the function is still running."""
    function_id = deploy_code(
        invoke,
        """
        console.log("first");
        await new Promise(r => setTimeout(r, 1500));
        console.log("second");
        Vortex.return(2);
        """,
    )
    env = {**os.environ, "VORTEX_URL": server.url, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [sys.executable, "-m", "vortex", "run", function_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    ) as process:
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                if raw.decode().strip() == "[log] first":
                    break
            else:
                pytest.fail("the first line never came")
            first_seen = time.monotonic()
            assert process.poll() is None, "the line arrived only after the run ended"
            rest, errors = process.communicate(timeout=30)
            assert time.monotonic() - first_seen > 1.0
        finally:
            stop(process)
    assert process.returncode == 0, errors
    assert rest.decode().index("[log] second") < rest.decode().index("📦 Return Value:")


def test_run_of_a_throwing_function(invoke: Invoke) -> None:
    function_id = deploy_code(
        invoke,
        'function explode() { throw new TypeError("boom"); }\nconsole.log("before");\nexplode();\n',
        name="explode.js",
    )
    result = invoke("run", function_id)
    assert result.exit_code == 1
    out = result.stdout
    assert "  [log] before\n" in out
    assert "✗ TypeError: boom\n" in out
    assert re.search(r"^    at explode \(explode\.js:1:\d+\)$", out, re.M), out
    assert "📦 Return Value:" not in out
    assert re.search(r"⏱ Executed in [\d.]+ms\n$", out)

    result = invoke("run", function_id, "--json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["error"]["name"] == "TypeError"
    assert body["logs"][0]["message"] == "before"


def test_run_of_a_function_over_a_limit_names_the_limit(
    invoke: Invoke, server_factory: Callable[..., ServerProcess]
) -> None:
    # A private server: the limit costs a host process, which the shared one should not pay.
    private = server_factory()
    Path("loop.js").write_text("while (true) {}")
    function_id = json.loads(invoke("deploy", "loop.js", "--json", "--url", private.url).stdout)[
        "function_id"
    ]
    result = invoke("run", function_id, "--url", private.url)
    assert result.exit_code == 1
    assert re.search(r"^✗ Error: CPU time limit .* \[cpu_time_exceeded\]$", result.stdout, re.M)


def test_run_without_output_or_return(invoke: Invoke) -> None:
    function_id = deploy_code(invoke, "const x = 1;")
    result = invoke("run", function_id)
    assert result.exit_code == 0
    assert "📋 Console Output:\n  (no output)\n📦 Return Value:\n  null\n" in result.stdout


def test_run_falls_back_to_the_response_without_a_websocket(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    function_id = deploy_code(invoke, 'console.log("a"); console.log("b"); Vortex.return(1);')

    def no_websocket(self: VortexClient, function_id: str) -> Any:
        raise UnexpectedResponse("the proxy refused the upgrade")

    monkeypatch.setattr(VortexClient, "tail", no_websocket)
    result = invoke("run", function_id)
    assert result.exit_code == 0
    assert "  [log] a\n  [log] b\n📦 Return Value:\n  1\n" in result.stdout
    assert "no live output: the proxy refused the upgrade" in result.stderr


def test_run_json(invoke: Invoke) -> None:
    function_id = deploy_code(invoke, 'console.log("hi"); Vortex.return({ a: 1 });')
    result = invoke("run", function_id, "--json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["output"] == {"a": 1}
    assert [line["message"] for line in body["logs"]] == ["hi"]
    assert "execution_time_ms" in body and "error" not in body


def test_list_shows_functions_newest_first(invoke: Invoke) -> None:
    older = deploy_code(invoke, "Vortex.return(1);", name="older.js")
    time.sleep(0.01)
    newer = deploy_code(invoke, "Vortex.return(2);", name="newer.js")
    invoke("run", older)

    result = invoke("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "FILENAME", "SIZE", "CREATED", "LAST", "RUN"]
    rows = {line.split()[0]: (index, line) for index, line in enumerate(lines[1:])}
    assert rows[newer][0] < rows[older][0]
    assert rows[newer][1].split()[1:4] == ["-", "newer.js", "17"]
    assert rows[newer][1].rstrip().endswith("never")
    assert re.search(r"✓ [\d.]+ms, just now$", rows[older][1])

    result = invoke("list", "--json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)["functions"]
    ids = [f["id"] for f in listed]
    assert ids.index(newer) < ids.index(older)
    assert listed[ids.index(older)]["last_run"]["ok"] is True


def test_delete(invoke: Invoke) -> None:
    function_id = deploy_code(invoke, "Vortex.return(1);")
    result = invoke("delete", function_id)
    assert result.exit_code == 0
    assert result.stdout == f"✓ Deleted function {function_id}\n"

    result = invoke("run", function_id)
    assert result.exit_code == 4
    assert one_line(result.stderr) == f"Error: no function with id {function_id}"

    result = invoke("delete", function_id, "--json")
    assert result.exit_code == 4
    assert json.loads(result.stdout)["error"]["code"] == "function_not_found"

    other = deploy_code(invoke, "Vortex.return(1);")
    result = invoke("delete", other, "--json")
    assert json.loads(result.stdout) == {"deleted": other}


def test_health(invoke: Invoke, server: ServerProcess) -> None:
    result = invoke("health")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"✓ Vortex at {server.url} is healthy\n")
    assert "  Workers: 2 of 2 active" in result.stdout
    assert "  KV: sqlite ✓\n" in result.stdout
    assert "  API keys: local ✓\n" in result.stdout

    result = invoke("health", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "healthy"


def test_logs_without_follow_summarises_the_last_run(invoke: Invoke) -> None:
    function_id = deploy_code(invoke, 'console.log("kept line"); Vortex.return(1);')
    result = invoke("logs", function_id)
    assert result.exit_code == 0
    assert "No runs of" in result.stdout
    assert f"vortex logs {function_id} --follow" in result.stdout

    invoke("run", function_id)
    result = invoke("logs", function_id)
    assert result.exit_code == 0
    assert "✓ succeeded just now" in result.stdout
    assert "  [log] kept line" in result.stdout

    result = invoke("logs", function_id, "--json")
    body = json.loads(result.stdout)
    assert body["function_id"] == function_id
    assert body["last_run"]["ok"] is True


def test_logs_of_a_failed_run_show_its_error_and_stack(invoke: Invoke) -> None:
    code = 'function inner() { throw new TypeError("boom"); }\nconsole.log("before");\ninner();\n'
    function_id = deploy_code(invoke, code, name="boom.js")
    assert invoke("run", function_id).exit_code == 1
    result = invoke("logs", function_id)
    assert result.exit_code == 0
    assert "failed just now" in result.stdout and "function_error" in result.stdout
    assert "  [log] before" in result.stdout
    assert "✗ TypeError: boom" in result.stdout
    assert "at inner (boom.js:1:" in result.stdout


def test_logs_follow_tails_live_until_ctrl_c(server: ServerProcess, invoke: Invoke) -> None:
    function_id = deploy_code(invoke, 'console.log("tick\\ntock"); console.warn("careful");')
    with subprocess.Popen(
        [sys.executable, "-m", "vortex", "logs", function_id, "--follow", "--url", server.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    ) as process:
        try:
            assert process.stderr is not None and process.stdout is not None
            assert b"Tailing logs of function" in process.stderr.readline()
            request = urllib.request.Request(f"{server.url}/execute/{function_id}", method="POST")
            with urllib.request.urlopen(request) as response:
                run_id = json.load(response)["run_id"]
            first, second, third = (process.stdout.readline().decode() for _ in range(3))
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
            errors = process.stderr.read().decode()
        finally:
            stop(process)
    assert re.fullmatch(rf"\d\d:\d\d:\d\d\.\d{{3}} {run_id[:8]} \[log\] tick\n", first)
    assert second == " " * 22 + "tock\n"  # a continuation lines up under the time and run
    assert third.endswith(" [warn] careful\n")
    assert process.returncode == 0
    assert "Traceback" not in errors


def test_logs_follow_json_is_one_object_per_line(server: ServerProcess, invoke: Invoke) -> None:
    function_id = deploy_code(invoke, 'console.log("a"); console.log("b");')
    with subprocess.Popen(
        [sys.executable, "-m", "vortex", "logs", function_id, "-f", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "VORTEX_URL": server.url},
        cwd=REPO,
    ) as process:
        try:
            assert process.stderr is not None and process.stdout is not None
            process.stderr.readline()
            request = urllib.request.Request(f"{server.url}/execute/{function_id}", method="POST")
            urllib.request.urlopen(request).close()
            lines = [json.loads(process.stdout.readline()) for _ in range(2)]
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
        finally:
            stop(process)
    assert [line["message"] for line in lines] == ["a", "b"]
    assert all(set(line) == {"level", "message", "timestamp", "run_id"} for line in lines)
    assert process.returncode == 0


@pytest.fixture
def nothing_listening() -> str:
    return f"http://127.0.0.1:{free_port()}"


SERVER_COMMANDS = [
    ["deploy", "index.js"],
    ["run", "a1b2c3d4-e5f6-4890-abcd-ef1234567890"],
    ["list"],
    ["logs", "a1b2c3d4-e5f6-4890-abcd-ef1234567890"],
    ["logs", "a1b2c3d4-e5f6-4890-abcd-ef1234567890", "--follow"],
    ["delete", "a1b2c3d4-e5f6-4890-abcd-ef1234567890"],
    ["health"],
]


@pytest.mark.parametrize("args", SERVER_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_an_unreachable_server_is_one_line_and_exit_3(
    invoke: Invoke, nothing_listening: str, args: list[str]
) -> None:
    Path("index.js").write_text("Vortex.return(1);")
    result = invoke(*args, env={"VORTEX_URL": nothing_listening})
    assert result.exit_code == 3
    line = one_line(result.stderr)
    assert line.startswith(f"Error: cannot reach {nothing_listening}: connection refused;")
    assert "vortex serve" in line
    assert "Function deployed" not in result.stdout

    result = invoke(*args, "--json", "--url", nothing_listening)
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "server_unreachable"


def test_something_else_at_the_url_is_not_a_traceback(
    invoke: Invoke, server: ServerProcess
) -> None:
    # The API's base URL with a path in front: every route answers 404 "not_found".
    result = invoke("list", "--url", f"{server.url}/not-vortex/")
    assert result.exit_code == 3
    assert "has no GET /not-vortex/functions" in one_line(result.stderr)


@pytest.mark.parametrize("args", [["list"], ["run", "hello"], ["health"]], ids=" ".join)
def test_the_functions_port_given_as_the_url_is_named_and_exit_3(
    invoke: Invoke, server: ServerProcess, args: list[str]
) -> None:
    # 8787 is the port a Workers user knows (wrangler dev's): it was "no function named
    # hello" (exit 4) for run, and the same puzzle for every other command.
    result = invoke(*args, "--url", f"http://127.0.0.1:{server.functions_port}")
    assert result.exit_code == 3, result.output + result.stderr
    line = one_line(result.stderr)
    assert "this is the functions listener, not the API" in line
    assert f"is on port {server.port}" in line


@pytest.mark.parametrize("command", ["run", "logs", "delete"])
def test_an_unknown_id_is_one_line_and_exit_4(invoke: Invoke, command: str) -> None:
    unknown = str(uuid.uuid4())
    result = invoke(command, unknown)
    assert result.exit_code == 4
    assert one_line(result.stderr) == f"Error: no function with id {unknown}"
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["run", "logs", "delete"])
@pytest.mark.parametrize("bad_id", ["No_pe", "../health", "A1B2C3D4E5F64890ABCDEF1234567890"])
def test_a_malformed_id_is_one_line_and_exit_2(invoke: Invoke, command: str, bad_id: str) -> None:
    result = invoke(command, bad_id)
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith(
        f"Error: {bad_id!r} is neither a function id (a UUID) nor a function name"
    )
    assert result.stdout == ""


def test_an_id_in_capitals_is_accepted(invoke: Invoke) -> None:
    function_id = deploy_code(invoke, "Vortex.return(7);")
    result = invoke("run", function_id.upper())
    assert result.exit_code == 0
    assert "📦 Return Value:\n  7\n" in result.stdout


def test_a_bad_url_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("list", "--url", "ftp://example.com")
    assert result.exit_code == 2
    assert "is not an http:// or https:// URL" in result.stderr


def test_help_documents_the_exit_codes(invoke: Invoke) -> None:
    result = invoke("--help")
    assert "3 server unreachable" in result.stdout
    for command in ("init", "deploy", "run", "list", "logs", "delete", "health", "serve"):
        assert re.search(rf"^  {command}\b", result.stdout, re.M)


def test_deploying_an_empty_file_says_the_file_is_empty(invoke: Invoke) -> None:
    Path("empty.js").write_text("\n  \n")
    result = invoke("deploy", "empty.js")
    assert result.exit_code == 1
    assert one_line(result.stderr) == "Error: empty.js is empty: there is no code to deploy"
    result = invoke("deploy", "empty.js", "--json")
    assert json.loads(result.stdout)["error"]["code"] == "empty_file"


def test_logs_of_a_named_function_are_headed_with_its_name(invoke: Invoke) -> None:
    name = f"logs-{uuid.uuid4().hex[:8]}"
    Path("counter.js").write_text('console.log("counted"); Vortex.return(1);')
    assert invoke("deploy", "counter.js", "--name", name).exit_code == 0
    result = invoke("logs", name)
    assert result.stdout.startswith(f"No runs of {name} v1 (counter.js) on this server yet.")
    invoke("run", name)
    result = invoke("logs", name)
    assert result.stdout.startswith(f"Last run of {name} v1 (counter.js):"), result.stdout
    assert json.loads(invoke("logs", name, "--json").stdout)["name"] == name
    assert invoke("delete", name).exit_code == 0
