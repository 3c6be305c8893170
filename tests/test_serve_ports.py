"""``vortex serve`` when a port it needs is taken: one line naming that port, no traceback, and
no process left behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.server import free_port


def serve(tmp_path: Path, api_port: int, functions_port: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VORTEX_DATA_DIR": str(tmp_path / "data"),
        "VORTEX_WORKERS": "1",
        "VORTEX_FUNCTIONS_PORT": str(functions_port),
    }
    command = [sys.executable, "-m", "vortex", "serve", "--host", "127.0.0.1"]
    return subprocess.run(
        [*command, "--port", str(api_port)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_taken_functions_port_is_named_as_the_listeners(tmp_path: Path) -> None:
    api_port = free_port()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        taken_port = taken.getsockname()[1]
        result = serve(tmp_path, api_port, taken_port)
    assert result.returncode == 1
    said = result.stderr.strip().splitlines()[-1]
    assert said.startswith(f"Error: cannot listen on 127.0.0.1:{taken_port} for the functions")
    assert "--functions-port" in said
    # Not blamed on the API's port, which was free.
    assert f":{api_port}" not in said
    assert "Traceback" not in result.stderr + result.stdout


def test_a_taken_api_port_is_named_as_the_apis(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        taken_port = taken.getsockname()[1]
        result = serve(tmp_path, taken_port, free_port())
    assert result.returncode == 1
    said = result.stderr.strip().splitlines()[-1]
    assert said.startswith(f"Error: cannot listen on 127.0.0.1:{taken_port}")
    assert "functions" not in said
    assert "Traceback" not in result.stderr + result.stdout
