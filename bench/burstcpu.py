"""One burst against a fresh server, with the CPU time each of its processes spent on it.

    .venv/bin/python bench/burstcpu.py 10000 [VAR=value ...]   # connections; the server's env

``script/bench`` compares the burst with workerd; this answers where the time went (the
supervisor's front door, or the hosts), which CPU time shows even on a busy machine.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.burst import burst, raise_nofile
from bench.suite import PEERS, deploy
from tests.server import start_server, stop_and_check


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(child) for child in found.stdout.split()]


async def main(n: int, env: dict[str, str]) -> None:
    raise_nofile()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), {"VORTEX_LOG_LEVEL": "WARNING", **env}, workers=2)
        try:
            async with aiohttp.ClientSession(base_url=server.url) as http:
                await deploy(http, (PEERS / "sleep.js").read_text(), name="sleep")
            pids = [server.process.pid, *children_of(server.process.pid)]
            burst(server.functions_port, 200, hostname="sleep.localhost", timeout=30)  # warm
            before = cpu_seconds(pids)
            ready: dict[int, float] = {}
            seen = burst(
                server.functions_port,
                n,
                hostname="sleep.localhost",
                timeout=30,
                on_ready=lambda: ready.update(cpu_seconds(pids)),
            )
            after = cpu_seconds(pids)
        finally:
            stop_and_check(server)
    print(
        f"{n:,} connections: first to last answer {seen.first_to_last_s:.2f} s, "
        f"answered {seen.answered:,}, errors {len(seen.errors)}, "
        f"generator connecting {seen.connect_s:.2f} s, go to last {seen.go_to_last_s:.2f} s"
    )
    print("| process | CPU s | µs per connection of the burst | of which after the go |")
    print("|---|---|---|---|")
    for pid in pids:
        spent = after.get(pid, 0.0) - before.get(pid, 0.0)
        after_go = after.get(pid, 0.0) - ready.get(pid, 0.0)
        who = "server (supervisor)" if pid == server.process.pid else f"host {pid}"
        print(f"| {who} | {spent:.2f} | {spent / n * 1e6:.0f} | {after_go / n * 1e6:.0f} |")
    generator = seen.generator_cpu_s
    print(f"| generator, after the go | {generator:.2f} | | {generator / n * 1e6:.0f} |")


if __name__ == "__main__":
    pairs = dict(arg.split("=", 1) for arg in sys.argv[2:])
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000, pairs))
