"""Core benchmark: cold start, warm throughput and memory per live invocation.

Starts a real ``vortex serve`` (its own data dir, free port), drives it over HTTP from this
process, and prints a markdown table. Run: ``.venv/bin/python bench/core.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.server import ServerProcess, start_server, stop_and_check

HELLO = "Vortex.return({ hello: 'world' })"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def cold_starts(http: aiohttp.ClientSession, n: int) -> tuple[list[float], list[float]]:
    client, server = [], []
    for i in range(n):
        async with http.post("/deploy", json={"code": f"// {i}\n{HELLO}"}) as r:
            function_id = (await r.json())["function_id"]
        started = time.perf_counter()
        async with http.post(f"/execute/{function_id}") as r:
            body = await r.json()
        client.append((time.perf_counter() - started) * 1000)
        server.append(body["execution_time_ms"])
    return client, server


async def warm_rate(
    http: aiohttp.ClientSession, function_id: str, concurrency: int, seconds: float
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with http.post(f"/execute/{function_id}") as r:
                await r.read()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


async def memory_per_invocation(
    server: ServerProcess, http: aiohttp.ClientSession, n: int
) -> float:
    async with http.post(
        "/deploy", json={"code": "await new Promise(r => setTimeout(r, 3000)); Vortex.return(1)"}
    ) as r:
        function_id = (await r.json())["function_id"]
    pids = server.host_pids()
    before = rss_kib(pids)
    tasks = [asyncio.create_task(http.post(f"/execute/{function_id}")) for _ in range(n)]
    peak = before
    while True:
        await asyncio.sleep(0.2)
        async with http.get("/health") as r:
            running = (await r.json())["running"]
        peak = max(peak, rss_kib(pids))
        if running >= n or all(t.done() for t in tasks):
            break
    await asyncio.sleep(0.3)
    peak = max(peak, rss_kib(pids))
    for response in await asyncio.gather(*tasks):
        response.release()
    return (peak - before) / n


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), {"VORTEX_LOG_LEVEL": "WARNING"}, workers=args.workers)
        try:
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(base_url=server.url, connector=connector) as http:
                await cold_starts(http, 20)  # warm the client and the server's code paths
                client, server_side = await cold_starts(http, args.cold)
                async with http.post("/deploy", json={"code": HELLO}) as r:
                    function_id = (await r.json())["function_id"]
                rates = {c: await warm_rate(http, function_id, c, args.seconds) for c in (1, 32)}
                per_inv = await memory_per_invocation(server, http, args.sleepers)
        finally:
            stop_and_check(server)
    print(
        f"Vortex core benchmark ({args.workers} hosts, {args.cold} cold starts, "
        f"{args.seconds:.0f} s per throughput point)\n"
    )
    print("| measure | value |")
    print("|---|---|")
    print(f"| cold start, client wall p50 | {statistics.median(client):.2f} ms |")
    print(f"| cold start, client wall p99 | {percentile(client, 0.99):.2f} ms |")
    print(f"| cold start, server-side p50 | {statistics.median(server_side):.2f} ms |")
    print(f"| cold start, server-side p99 | {percentile(server_side, 0.99):.2f} ms |")
    for c, rate in rates.items():
        print(f"| warm runs/s, concurrency {c} | {rate:.0f} |")
    print(f"| host memory per live sleeping invocation ({args.sleepers}) | {per_inv:.1f} KiB |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sleepers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
