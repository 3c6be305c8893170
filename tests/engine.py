"""Scripts run on pythonmonkey's engine in a process of their own, as a host runs it: a test
process that loaded the engine could not be told apart from one whose engine a check broke."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.server import REPO


def run_on_engine(script: str, timeout: float = 120) -> dict[str, Any]:
    """Runs ``script`` with this interpreter from the repository; its last line of output is a
    JSON object, answered."""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
