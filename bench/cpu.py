"""CPU time per request, by process: what a hello-world costs the server and the hosts.

Throughput on a busy or small machine is bounded by CPU, and CPU time (unlike wall time) barely
moves with what else the machine runs, so this is the figure to compare before and after a cut.
Starts a real ``vortex serve``, sends N sequential requests of each kind, and reads the user +
system time of the server process and of its host processes from /proc before and after.
Run: ``.venv/bin/python bench/cpu.py``.

``--load SECONDS`` sends them with ``wrk -t2 -c32`` instead, as ``script/bench`` does: under
concurrency a request costs other than alone (an async handler's extra cost more than
doubles), and this is the cost behind that benchmark's requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.suite import PEERS, wrk
from bench.trigger import HELLO_MODULE, HELLO_SCRIPT, deploy
from tests.server import start_server, stop_and_check

_TICKS = os.sysconf("SC_CLK_TCK")


class HostReplaced(Exception):
    pass


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children(pid: int) -> list[int]:
    """The host processes of the server (not the esbuild it may run to build a module)."""
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listed:
            found.extend(int(child) for child in listed.read().split())
    hosts = []
    for child in found:
        with open(f"/proc/{child}/cmdline", "rb") as cmdline:
            if b"vortex.isolates.host" in cmdline.read():
                hosts.append(child)
    return hosts


async def measure(
    http: aiohttp.ClientSession,
    server_pid: int,
    method: str,
    url: str,
    n: int,
    headers: dict[str, str],
    load: float = 0.0,
) -> tuple[float, float]:
    """Milliseconds of CPU per request: (server, hosts). ``load``: for that many seconds under
    wrk instead of ``n`` requests one after the other."""
    hosts = {pid: cpu_seconds(pid) for pid in children(server_pid)}
    server_before = cpu_seconds(server_pid)
    if load:
        result = await asyncio.to_thread(
            wrk, url, 32, load, method=method, host=headers.get("Host")
        )
        if result.errors or not result.rate:
            raise RuntimeError(f"wrk {url}: {result.errors} errors, {result.rate} req/s")
        n = max(1, round(result.rate * max(1, round(load))))
    else:
        for _ in range(n):
            async with http.request(method, url, headers=headers) as response:
                await response.read()
                assert response.status == 200
    server_ms = (cpu_seconds(server_pid) - server_before) * 1000 / n
    if set(children(server_pid)) != set(hosts):
        raise HostReplaced("a host process was replaced during the measure")
    host_ms = sum(cpu_seconds(pid) - used for pid, used in hosts.items()) * 1000 / n
    return server_ms, host_ms


async def main(args: argparse.Namespace) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # No recycling in the middle of a measure (it replaces the host).
        env = {"VORTEX_HOST_MAX_RUNS": "1000000"}
        if not args.warm:
            env["VORTEX_WARM_INSTANCES"] = "0"
        server = start_server(Path(tmp), env, workers=args.workers)
        try:
            async with aiohttp.ClientSession(base_url=server.url) as http:
                module = await deploy(http, HELLO_MODULE)
                awaiting = await deploy(http, (PEERS / "hello_async.js").read_text())
                script = await deploy(http, HELLO_SCRIPT)
                listener = f"http://127.0.0.1:{server.functions_port}/"
                cases = [
                    (
                        "hello fetch handler on the functions listener",
                        "GET",
                        listener,
                        {"Host": f"{module}.localhost"},
                    ),
                    (
                        "async hello (one await) on the functions listener",
                        "GET",
                        listener,
                        {"Host": f"{awaiting}.localhost"},
                    ),
                    (
                        "hello script, POST /execute/{id}",
                        "POST",
                        f"{server.url}/execute/{script}",
                        {},
                    ),
                ]
                for label, method, url, headers in cases:
                    pid = server.process.pid
                    await measure(http, pid, method, url, 200, headers)  # warm up
                    server_ms, host_ms = await measure(
                        http, pid, method, url, args.requests, headers, args.load
                    )
                    rows.append((label, server_ms, host_ms))
        except HostReplaced:
            print(server.log()[-3000:])
            raise
        finally:
            stop_and_check(server)
    instances = "warm module instances" if args.warm else "VORTEX_WARM_INSTANCES=0"
    sent = (
        f"wrk -t2 -c32 for {args.load:g} s" if args.load else f"{args.requests} sequential requests"
    )
    print(f"CPU per request ({sent}, {args.workers} hosts, {instances})\n")
    print("| request | server CPU | hosts CPU | total | ceiling on 2 cores |")
    print("|---|---|---|---|---|")
    for label, server_ms, host_ms in rows:
        total = server_ms + host_ms
        print(
            f"| {label} | {server_ms:.3f} ms | {host_ms:.3f} ms | {total:.3f} ms "
            f"| {2000 / total:.0f} req/s |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--load", type=float, default=0.0, help="seconds under wrk -t2 -c32 (0: sequential)"
    )
    parser.add_argument(
        "--no-warm", dest="warm", action="store_false", help="a fresh module instance per request"
    )
    asyncio.run(main(parser.parse_args()))
