"""Promise jobs run beneath the muted trampoline (vortex/isolates/jobloop.py), checked in a
process of its own as a host does at boot: if a pythonmonkey release changes how it queues
jobs, this says so before a Symbol rejection crashes a host."""

from __future__ import annotations

import subprocess
import sys

from tests.server import REPO, ServerProcess

CHECK = """
import asyncio
from vortex.isolates.jobloop import MutedJobLoop, check_muting

async def main():
    print(check_muting(asyncio.get_running_loop()))

with asyncio.Runner(loop_factory={factory}) as runner:
    runner.run(main())
"""


def run_check(factory: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(factory=factory)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_promise_jobs_go_through_the_trampoline() -> None:
    assert run_check("MutedJobLoop") == "None"


def test_a_plain_loop_is_reported() -> None:
    assert "not a MutedJobLoop" in run_check("None")


def test_hosts_of_a_server_find_their_jobs_muted(server: ServerProcess) -> None:
    assert "trampoline" not in server.log()
    assert "MutedJobLoop" not in server.log()
