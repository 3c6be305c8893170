"""Scale by the number of functions (issue 18): what grows with how many are deployed.

Deploys functions to a real ``vortex serve`` (every 10th under a name, every 100th with a cron
schedule that never fires in the run), and at each count (``--counts``) restarts the server and
prints: the deploy rate of the functions added since the previous count, the start-up time (to
``/health`` answering 200), the first page of ``GET /functions`` (p50 of 20) and a prefix
search, the first run of random functions never run before (``POST /execute``, p50/p99), one
cron refresh (the schedule index, beside the full listing of the store that a refresh did
before), the server's RSS, and a rebuild of the index from the records. Then the same against
moto's S3 server (``moto_server``, in a process of its own) for ``--s3-counts``.

With ``--s3-redis`` the S3 nodes also have a Redis of their own (``redis-server`` on a free
port), which then holds the function index, as in a deployment with both. The full listing and
the rebuild read every record: they are measured up to ``--listing-max`` functions only.

Run: ``.venv/bin/python bench/scale.py [--counts 1000,10000,100000] [--s3-counts 1000,10000,20000]
[--s3-redis]``. Not a test: it takes minutes (100,000 deploys: several) and prints a markdown
table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.server import free_port, start_server, stop_and_check
from vortex.backends import make_store
from vortex.config import Settings
from vortex.storage.base import FunctionStore
from vortex.storage.index import FunctionIndex
from vortex.storage.local import LocalStore

CONCURRENCY = 32
SCHEDULE = "0 0 1 1 *"
ACCESS_KEY, SECRET_KEY = "bench", "bench-secret"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Row:
    store: str
    count: int
    figures: dict[str, str] = field(default_factory=dict)


@dataclass
class Fleet:
    """The functions deployed so far: ids, and which were never run."""

    ids: list[str] = field(default_factory=list)
    unrun: set[str] = field(default_factory=set)


async def deploy_up_to(http: aiohttp.ClientSession, fleet: Fleet, count: int) -> float:
    """Deploys functions until ``count`` exist; answers deploys per second."""
    start = len(fleet.ids)
    queue = iter(range(start, count))
    started = time.perf_counter()

    async def worker() -> None:
        for i in queue:
            body: dict[str, Any] = {"code": f"// {i}\nVortex.return({i})"}
            if i % 10 == 0:
                body["name"] = f"fn-{i:06d}"
            if i % 100 == 0:
                body["schedule"] = SCHEDULE
            async with http.post("/deploy", json=body) as response:
                answer = await response.json()
                if response.status != 200:
                    raise RuntimeError(f"deploy {i}: {answer}")
            fleet.ids.append(answer["function_id"])
            fleet.unrun.add(answer["function_id"])

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return (count - start) / (time.perf_counter() - started)


async def timed(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def get_ok(http: aiohttp.ClientSession, path: str) -> dict[str, Any]:
    async with http.get(path) as response:
        body: dict[str, Any] = await response.json()
        if response.status != 200:
            raise RuntimeError(f"{path}: {body}")
        return body


async def cold_runs(http: aiohttp.ClientSession, fleet: Fleet, n: int) -> list[float]:
    chosen = random.sample(sorted(fleet.unrun), min(n, len(fleet.unrun)))
    times = []
    for function_id in chosen:
        fleet.unrun.discard(function_id)
        started = time.perf_counter()
        async with http.post(f"/execute/{function_id}") as response:
            body = await response.json()
            if response.status != 200 or not body.get("success", True):
                raise RuntimeError(f"run {function_id}: {body}")
        times.append((time.perf_counter() - started) * 1000)
    return times


async def store_figures(store: FunctionStore, listing: bool) -> dict[str, str]:
    """Measured in this process, on the store the server uses: a cron refresh now (the schedule
    index) and before (a listing of every record), and a rebuild of the index."""
    index = FunctionIndex(store.index, store)
    started = time.perf_counter()
    schedules = await index.schedules()
    by_index = time.perf_counter() - started
    if not listing:
        return {
            "cron refresh": f"{by_index * 1000:.1f} ms ({len(schedules)} schedules)",
            "full listing (before)": "not run",
            "index rebuild": "not run",
        }
    started = time.perf_counter()
    records = await store.list_records()
    listed = sum(1 for r in records if r.schedule is not None)
    by_listing = time.perf_counter() - started
    started = time.perf_counter()
    rebuilt = await index.rebuild()
    rebuild = time.perf_counter() - started
    assert listed >= len(schedules), (listed, len(schedules))
    return {
        "cron refresh": f"{by_index * 1000:.1f} ms ({len(schedules)} schedules)",
        "full listing (before)": f"{by_listing * 1000:,.0f} ms",
        "index rebuild": f"{rebuild:.1f} s ({rebuilt.functions:,} listed)",
    }


def fmt(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} ms"


async def measure(
    label: str,
    counts: list[int],
    tmp: Path,
    env: dict[str, str],
    open_store: Callable[[], FunctionStore],
    workers: int,
    listing_max: int,
) -> list[Row]:
    rows: list[Row] = []
    fleet = Fleet()
    server = start_server(tmp, env, workers=workers, timeout=600)
    try:
        for count in counts:
            async with aiohttp.ClientSession(base_url=server.url) as http:
                rate = await deploy_up_to(http, fleet, count)
            stop_and_check(server)
            started = time.perf_counter()
            server = start_server(tmp, env, workers=workers, timeout=600)
            startup = time.perf_counter() - started
            row = Row(label, count)
            row.figures["deploys/s"] = f"{rate:,.0f}"
            row.figures["start-up"] = f"{startup:.2f} s"
            async with aiohttp.ClientSession(base_url=server.url) as http:
                await get_ok(http, "/functions")  # the index is checked once per process
                first = await timed(lambda: get_ok(http, "/functions"), 20)
                prefix = await timed(lambda: get_ok(http, "/functions?prefix=fn-0001"), 20)
                runs = await cold_runs(http, fleet, 200)
            row.figures["first page p50"] = fmt(first)
            row.figures["prefix page p50"] = fmt(prefix)
            row.figures["cold run p50"] = fmt(runs)
            row.figures["cold run p99"] = f"{percentile(runs, 0.99):.1f} ms"
            row.figures["server RSS"] = f"{rss_mib(server.process.pid):.0f} MiB"
            store = open_store()
            try:
                row.figures.update(await store_figures(store, count <= listing_max))
            finally:
                await store.close()
            rows.append(row)
            print(f"{label} {count:>7,}: {row.figures}", flush=True)
    finally:
        stop_and_check(server)
    return rows


def start_moto() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return moto, port
        except OSError:
            time.sleep(0.2)
    moto.kill()
    raise RuntimeError("moto_server did not start")


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed")
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return process, port


def table(rows: list[Row]) -> str:
    columns = list(rows[0].figures)
    lines = [
        "| store | functions | " + " | ".join(columns) + " |",
        "|---|---:|" + "---:|" * len(columns),
    ]
    for row in rows:
        cells = [row.figures.get(c, "") for c in columns]
        lines.append(f"| {row.store} | {row.count:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.counts.split(",") if c]
    s3_counts = [int(c) for c in args.s3_counts.split(",") if c]
    print(f"load average before: {os.getloadavg()}", flush=True)
    rows: list[Row] = []
    tmp = Path(tempfile.mkdtemp(prefix="vortex-scale-"))
    try:
        if counts:
            local = tmp / "local"
            local.mkdir()
            rows += await measure(
                "local",
                counts,
                local,
                {},
                lambda: LocalStore(local / "data"),
                args.workers,
                args.listing_max,
            )
        if s3_counts:
            moto, port = start_moto()
            redis_server = None
            try:
                env = {
                    "MINIO_ENDPOINT": f"127.0.0.1:{port}",
                    "MINIO_ACCESS_KEY": ACCESS_KEY,
                    "MINIO_SECRET_KEY": SECRET_KEY,
                    "VORTEX_S3_BUCKET": "vortex-scale",
                }
                label = "s3 (moto)"
                if args.s3_redis:
                    redis_server, redis_port = start_redis(tmp)
                    env["REDIS_ADDR"] = f"127.0.0.1:{redis_port}"
                    label = "s3 (moto) + redis"
                s3 = tmp / "s3"
                s3.mkdir()

                def open_s3() -> FunctionStore:
                    return make_store(
                        Settings.from_env({**env, "VORTEX_DATA_DIR": str(s3 / "data")})
                    )

                rows += await measure(
                    label, s3_counts, s3, env, open_s3, args.workers, args.listing_max
                )
            finally:
                moto.send_signal(signal.SIGTERM)
                moto.wait(10)
                if redis_server is not None:
                    redis_server.send_signal(signal.SIGTERM)
                    redis_server.wait(10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")
    print(table(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1000,10000,100000")
    parser.add_argument("--s3-counts", default="1000,10000,20000")
    parser.add_argument("--s3-redis", action="store_true")
    parser.add_argument("--listing-max", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
