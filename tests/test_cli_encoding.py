"""The CLI sends UTF-8 and prints what it can, whatever the locale.

Run here under a latin-1 locale (C, without Python's UTF-8 mode, and latin-1 stdio): the code
read from the file, the request bodies and the printed output must not depend on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.server import ServerProcess

TEXT = "héllo ✓ 😀"
LATIN1 = {
    "LC_ALL": "C",
    "LANG": "C",
    "PYTHONUTF8": "0",
    "PYTHONCOERCECLOCALE": "0",
    "PYTHONIOENCODING": "latin-1",
}


def vortex(server: ServerProcess, cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("VORTEX_API_KEY", "LC_CTYPE")}
    env.update(VORTEX_URL=server.url, NO_COLOR="1", **LATIN1)
    return subprocess.run(
        [sys.executable, "-m", "vortex", *args], cwd=cwd, env=env, capture_output=True, timeout=60
    )


def execute(server: ServerProcess, function_id: str) -> dict[str, object]:
    request = urllib.request.Request(f"{server.url}/execute/{function_id}", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


def test_code_deployed_under_a_latin1_locale_runs_as_written(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(workers=1)
    script = f'console.log({json.dumps(TEXT, ensure_ascii=False)});\nVortex.return("{TEXT}");\n'
    (tmp_path / "hello.js").write_bytes(script.encode("utf-8"))

    deployed = vortex(server, tmp_path, "deploy", "hello.js")
    stdout = deployed.stdout.decode("latin-1")
    assert deployed.returncode == 0, deployed.stderr.decode("latin-1")
    assert stdout.startswith("\\u2192 Deploying hello.js ("), stdout
    function_id = stdout.split("Function ID: ")[1].split()[0]
    ran = execute(server, function_id)
    assert ran["output"] == TEXT
    assert [line["message"] for line in ran["logs"]] == [TEXT]  # type: ignore[attr-defined]

    # --json stays JSON, and says the same text, on a stdout that cannot encode it.
    as_json = vortex(server, tmp_path, "run", function_id, "--json")
    assert as_json.returncode == 0, as_json.stderr.decode("latin-1")
    assert json.loads(as_json.stdout.decode("latin-1"))["output"] == TEXT
    # Text output: what latin-1 holds as it is, the rest escaped.
    shown = vortex(server, tmp_path, "run", function_id)
    assert shown.returncode == 0, shown.stderr.decode("latin-1")
    assert "[log] héllo \\u2713 \\U0001f600".encode("latin-1") in shown.stdout


def test_code_under_the_code_limit_is_not_refused_for_its_escapes(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    # 24,000 emoji are 96,000 bytes of code, under the code limit; \u-escaped in JSON (as the
    # CLI sent them) they were a 288,000-byte body, over the body limit.
    server = server_factory(
        {"VORTEX_MAX_CODE_BYTES": "100000", "VORTEX_MAX_BODY_BYTES": "200000"}, workers=1
    )
    (tmp_path / "wide.js").write_bytes(("// " + "😀" * 24_000 + "\nVortex.return(1);\n").encode())
    wide = vortex(server, tmp_path, "deploy", "wide.js", "--json")
    assert wide.returncode == 0, wide.stdout + wide.stderr
