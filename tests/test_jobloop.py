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


QUIET = """
import asyncio, gc
from vortex.isolates.jobloop import MutedJobLoop, check_job_wrappers, check_muting, quiet_job_counter

async def main():
    import pythonmonkey as pm
    loop = asyncio.get_running_loop()
    print(check_muting(loop), check_job_wrappers(loop), quiet_job_counter(loop))
    events = [o for o in gc.get_objects() if type(o) is asyncio.Event]
    print([e.__dict__.get("clear") is tuple for e in events])
    seen = []
    pm.eval("(f) => Promise.resolve(1).then((v) => v + 1).then(f)")(seen.append)
    await asyncio.sleep(0.05)
    print(seen, loop.jobs_waiting)

with asyncio.Runner(loop_factory=MutedJobLoop) as runner:
    runner.run(main())
"""


def test_pythonmonkeys_job_counter_is_quieted_and_jobs_still_run() -> None:
    done = subprocess.run(
        [sys.executable, "-c", QUIET], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["None None None", "[True]", "[2.0] 0"]


def test_hosts_of_a_server_find_their_jobs_muted(server: ServerProcess) -> None:
    assert "trampoline" not in server.log()
    assert "MutedJobLoop" not in server.log()
    assert "not pythonmonkey's one" not in server.log()
