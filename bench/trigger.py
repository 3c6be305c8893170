"""HTTP trigger benchmark: a hello-world fetch handler on the functions listener.

Starts a real ``vortex serve`` (its own data dir, free port), drives it over HTTP from this
process, and prints a markdown table: the first request to a freshly deployed module function
(cold), warm latency and throughput, and the in-host CPU time of a trivial run of each kind
(``cpu_time_ms`` of ``POST /execute``), which is what the web APIs add to every run.
Run: ``.venv/bin/python bench/trigger.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.core import percentile
from tests.server import start_server, stop_and_check

HELLO_MODULE = "export default { fetch() { return new Response('Hello, world!'); } };\n"
HELLO_SCRIPT = "Vortex.return({ hello: 'world' })"


def on_listener(http: aiohttp.ClientSession, port: int, function_id: str) -> Any:
    """GET / of the function on the functions listener, by its id's hostname."""
    return http.get(f"http://127.0.0.1:{port}/", headers={"Host": f"{function_id}.localhost"})


async def deploy(http: aiohttp.ClientSession, code: str) -> str:
    async with http.post("/deploy", json={"code": code}) as r:
        body = await r.json()
        assert r.status == 200, body
        return str(body["function_id"])


async def cold_starts(http: aiohttp.ClientSession, port: int, n: int) -> list[float]:
    walls = []
    for i in range(n):
        function_id = await deploy(http, f"// {i}\n{HELLO_MODULE}")
        started = time.perf_counter()
        async with on_listener(http, port, function_id) as r:
            assert await r.text() == "Hello, world!"
        walls.append((time.perf_counter() - started) * 1000)
    return walls


async def warm_latency(
    http: aiohttp.ClientSession, port: int, function_id: str, n: int
) -> list[float]:
    walls = []
    for _ in range(n):
        started = time.perf_counter()
        async with on_listener(http, port, function_id) as r:
            await r.read()
        walls.append((time.perf_counter() - started) * 1000)
    return walls


async def warm_rate(
    http: aiohttp.ClientSession, port: int, function_id: str, concurrency: int, seconds: float
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with on_listener(http, port, function_id) as r:
                await r.read()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def cpu_per_run(http: aiohttp.ClientSession, function_id: str, n: int) -> list[float]:
    cpu = []
    for _ in range(n):
        async with http.post(f"/execute/{function_id}") as r:
            cpu.append((await r.json())["cpu_time_ms"])
    return cpu


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), {}, workers=args.workers)
        try:
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(base_url=server.url, connector=connector) as http:
                port = server.functions_port
                await cold_starts(http, port, 20)  # warm the client and the server's code paths
                cold = await cold_starts(http, port, args.cold)
                module = await deploy(http, HELLO_MODULE)
                script = await deploy(http, HELLO_SCRIPT)
                await warm_latency(http, port, module, 50)
                warm = await warm_latency(http, port, module, args.warm)
                rates = {c: await warm_rate(http, port, module, c, args.seconds) for c in (1, 32)}
                module_cpu = await cpu_per_run(http, module, args.warm)
                script_cpu = await cpu_per_run(http, script, args.warm)
        finally:
            stop_and_check(server)
    print(
        f"Vortex HTTP trigger benchmark ({args.workers} hosts, {args.cold} cold starts, "
        f"{args.warm} warm requests, {args.seconds:.0f} s per throughput point)\n"
    )
    print("| measure | value |")
    print("|---|---|")
    print(f"| cold start (first request after deploy), p50 | {statistics.median(cold):.2f} ms |")
    print(f"| cold start, client wall p99 | {percentile(cold, 0.99):.2f} ms |")
    print(f"| warm request, client wall p50 | {statistics.median(warm):.2f} ms |")
    print(f"| warm request, client wall p99 | {percentile(warm, 0.99):.2f} ms |")
    for c, rate in rates.items():
        print(f"| warm requests/s, concurrency {c} | {rate:.0f} |")
    print(f"| in-host CPU of a hello fetch handler, p50 | {statistics.median(module_cpu):.3f} ms |")
    print(f"| in-host CPU of a trivial script, p50 | {statistics.median(script_cpu):.3f} ms |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", type=int, default=200)
    parser.add_argument("--warm", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
