"""The CLI against a server that refuses its key: the server's reason, exit 1, nothing else.

No header ("→ Executing ...", "→ Deploying ...", "Tailing ...") may be printed before the server
has taken the request, and no command may wait on after a refusal (``logs --follow`` used to
report a refused handshake as "not the Vortex API", and reconnect forever after a revocation).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.auth.test_server import _made, vortex_keys
from tests.server import REPO, ServerProcess

MISSING = "an API key is required: send Authorization: Bearer <key>"
WRONG = "the API key is not valid: unknown or revoked"
METRICS_ONLY = "this API key is for metrics and cannot be used on"


def cli_env(server: ServerProcess, key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VORTEX_API_KEY"}
    env.update(VORTEX_URL=server.url, NO_COLOR="1")
    if key is not None:
        env["VORTEX_API_KEY"] = key
    return env


def vortex(
    server: ServerProcess, key: str | None, *args: str, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vortex", *args],
        cwd=cwd,
        env=cli_env(server, key),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def guarded(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> tuple[ServerProcess, str, str]:
    """A server with a functions key (and a function ``hello`` deployed with it) and a metrics
    key."""
    server = server_factory(workers=1)
    token, _ = _made(vortex_keys(server, "create", "--namespace", "acme", "--json"))
    metrics = vortex_keys(server, "create", "--metrics").stdout.strip()
    server.wait_for_keys(token, metrics)
    (tmp_path / "hello.js").write_text('console.log("hi"); Vortex.return(1);')
    deployed = vortex(server, token, "deploy", str(tmp_path / "hello.js"), "--name", "hello")
    assert deployed.returncode == 0, deployed.stderr
    return server, token, metrics


def test_refused_commands_print_the_servers_reason_and_no_header(
    guarded: tuple[ServerProcess, str, str], tmp_path: Path
) -> None:
    server, _, metrics = guarded
    script = str(tmp_path / "hello.js")
    commands = [
        ("logs", "hello", "--follow"),
        ("run", "hello"),
        ("trigger", "hello"),
        ("deploy", script, "--name", "hello"),
        ("deploy", script),
    ]
    for key, reason in ((None, MISSING), ("vx_acme_" + "x" * 43, WRONG), (metrics, METRICS_ONLY)):
        for command in commands:
            started = time.monotonic()
            result = vortex(server, key, *command)
            what = f"{' '.join(command)} with key {key!r}: {result}"
            assert time.monotonic() - started < 20, what
            assert result.returncode == 1, what
            assert result.stdout == "", what
            assert result.stderr.startswith(f"Error: {reason}"), what
            assert len(result.stderr.strip().split("\n")) == 1, what
            if key is None:
                assert "VORTEX_API_KEY or `vortex --api-key KEY`" in result.stderr, what
    as_json = vortex(server, None, "logs", "hello", "--follow", "--json")
    assert as_json.returncode == 1, as_json
    assert json.loads(as_json.stdout) == {"error": {"code": "unauthorized", "message": MISSING}}


def test_a_tail_whose_key_is_revoked_ends_with_the_refusal(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    token, key_id = _made(vortex_keys(server, "create", "--namespace", "acme", "--json"))
    keeper, _ = _made(vortex_keys(server, "create", "--namespace", "acme", "--json"))
    server.wait_for_keys(token, keeper)
    (server.data_dir / "hello.js").write_text("Vortex.return(1);")
    deployed = vortex(server, token, "deploy", str(server.data_dir / "hello.js"), "--name", "hello")
    assert deployed.returncode == 0, deployed.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "vortex", "logs", "hello", "--follow"],
        cwd=REPO,
        env=cli_env(server, token),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        assert "Tailing logs of function hello" in process.stderr.readline()
        assert vortex_keys(server, "revoke", key_id).returncode == 0
        # The server closes the tail (4401) within ~4 s; reconnecting is then refused.
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 1, stderr
    assert "the API key was revoked; reconnecting" in stderr
    assert stderr.strip().split("\n")[-1].startswith(f"Error: {WRONG}")


def test_dev_ends_on_a_refused_key(guarded: tuple[ServerProcess, str, str], tmp_path: Path) -> None:
    server, _, _ = guarded
    project = tmp_path / "project"
    project.mkdir()
    (project / "api.js").write_text('export default { fetch() { return new Response("x"); } };')
    result = vortex(server, "vx_acme_" + "x" * 43, "dev", "api.js", cwd=project)
    assert result.returncode == 1, result
    assert result.stdout == "", result
    assert result.stderr.startswith(f"Error: {WRONG}"), result
