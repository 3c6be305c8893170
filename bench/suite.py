"""Vortex beside its peers, on one machine, in one run (``script/bench`` runs it).

Every figure is a median over repeated rounds, with its spread (min–max). Prints a markdown table
and writes it with a plot into docs/benchmarks.md and docs/benchmarks.png.

- cold start: deploy a new function, then its first run (client wall and server-side time)
- warm throughput: wrk (another process) against POST /execute and the HTTP trigger /fn/,
  and against workerd serving the same hello-world fetch handler
- concurrency: N runs that each sleep 100 ms, all at once: time to finish, memory per run
- new-context cost of the peers: a fresh `node -e` per request, isolated-vm, mini-racer
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.core import cold_starts, rss_kib  # noqa: E402
from tests.server import ServerProcess, free_port, start_server, stop_and_check  # noqa: E402

PEERS = ROOT / "bench" / "peers"
HELLO_SCRIPT = "Vortex.return({ hello: 'world' })"
HELLO_MODULE = (
    "export default { async fetch(request) { return Response.json({ hello: 'world' }); } };\n"
)
CONCURRENCY = (1, 8, 32, 128)


@dataclass
class Figure:
    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    peer_of: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    def spread(self) -> str:
        if len(self.samples) < 2:
            return ""
        return f"{min(self.samples):.4g}–{max(self.samples):.4g}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- load generation -------------------------------------------------------------------------
def wrk(url: str, connections: int, seconds: float, method: str = "GET") -> float:
    """Requests per second that wrk reached, or 0.0 on any error response."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{method}"\n')
        script.write(
            "errors = 0\n"
            "response = function(status, headers, body)\n"
            "  if status >= 400 then errors = errors + 1 end\n"
            "end\n"
        )
    try:
        threads = 1 if connections < 4 else 2
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if "Non-2xx" in out or match is None:
        print(out, file=sys.stderr)
        return 0.0
    return float(match.group(1))


# -- Vortex --------------------------------------------------------------------------------------
async def deploy(http: aiohttp.ClientSession, code: str, filename: str = "index.js") -> str:
    async with http.post("/deploy", json={"code": code, "filename": filename}) as r:
        body = await r.json()
        if r.status != 200:
            raise RuntimeError(f"deploy failed: {body}")
        return str(body["function_id"])


async def has_trigger(http: aiohttp.ClientSession, function_id: str) -> bool:
    async with http.get(f"/fn/{function_id}/") as r:
        return r.status == 200


async def sleepers(
    server: ServerProcess, http: aiohttp.ClientSession, n: int
) -> tuple[float, float]:
    """Seconds until n concurrent 100 ms sleeps all answered, and host KiB per live run."""
    function_id = await deploy(http, "await new Promise(r => setTimeout(r, 100)); Vortex.return(1)")
    pids = server.host_pids()
    before = rss_kib(pids)
    peak = before
    started = time.perf_counter()

    async def one() -> None:
        async with http.post(f"/execute/{function_id}") as r:
            await r.read()

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    while not all(t.done() for t in tasks):
        peak = max(peak, rss_kib(pids))
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return elapsed, (peak - before) / n


# -- peers ---------------------------------------------------------------------------------------
def node_process_per_request(n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        subprocess.run(
            ["node", "-e", "process.stdout.write(JSON.stringify({ hello: 'world' }))"],
            capture_output=True,
            check=True,
        )
        times.append((time.perf_counter() - started) * 1000)
    return times


def isolated_vm_contexts(n: int) -> list[float]:
    out = subprocess.run(
        ["node", str(PEERS / "isolated_vm_contexts.js"), str(n)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PEERS,
    ).stdout
    return [float(x) for x in json.loads(out)]


def mini_racer_contexts(n: int) -> list[float]:
    from py_mini_racer import MiniRacer

    times = []
    for _ in range(n):
        started = time.perf_counter()
        context = MiniRacer()
        context.eval("JSON.stringify({ hello: 'world' })")
        context.close()
        times.append((time.perf_counter() - started) * 1000)
    return times


class Workerd:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="vortex-bench-workerd-"))
        config = (PEERS / "workerd.capnp.in").read_text().replace("@PORT@", str(self.port))
        (self.dir / "config.capnp").write_text(config)
        shutil.copy(PEERS / "worker.js", self.dir / "worker.js")
        binary = PEERS / "node_modules" / ".bin" / "workerd"
        self.process = subprocess.Popen(
            [str(binary), "serve", "config.capnp"],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                subprocess.run(
                    ["curl", "-sf", self.url], capture_output=True, check=True, timeout=1
                )
                return
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                time.sleep(0.1)
        self.close()
        raise RuntimeError("workerd did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def rss_kib(self) -> int:
        return rss_kib([self.process.pid])

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the run -------------------------------------------------------------------------------------
async def measure(args: argparse.Namespace) -> list[Figure]:
    figures: dict[str, Figure] = {}

    def add(name: str, unit: str, value: float, peer_of: str | None = None) -> None:
        figures.setdefault(name, Figure(name, unit, peer_of=peer_of)).samples.append(value)

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), {"VORTEX_LOG_LEVEL": "WARNING"}, workers=args.workers)
        workerd = Workerd()
        try:
            connector = aiohttp.TCPConnector(limit=0)
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(
                base_url=server.url, connector=connector, timeout=timeout
            ) as http:
                await cold_starts(http, 20)
                script_id = await deploy(http, HELLO_SCRIPT)
                try:
                    module_id = await deploy(http, HELLO_MODULE, "index.mjs")
                    trigger = await has_trigger(http, module_id)
                except RuntimeError:
                    module_id, trigger = "", False  # a server without module functions
                for round_ in range(args.rounds):
                    print(f"round {round_ + 1}/{args.rounds}", file=sys.stderr)
                    client, server_side = await cold_starts(http, args.cold)
                    add("cold start p50, client wall", "ms", statistics.median(client))
                    add("cold start p99, client wall", "ms", percentile(client, 0.99))
                    add("cold start p50, server-side", "ms", statistics.median(server_side))
                    add("cold start p99, server-side", "ms", percentile(server_side, 0.99))
                    for c in CONCURRENCY:
                        add(
                            f"warm runs/s, POST /execute, c={c}",
                            "req/s",
                            wrk(f"{server.url}/execute/{script_id}", c, args.seconds, "POST"),
                        )
                        if trigger:
                            add(
                                f"warm runs/s, HTTP trigger /fn/, c={c}",
                                "req/s",
                                wrk(f"{server.url}/fn/{module_id}/", c, args.seconds),
                            )
                        add(
                            f"workerd req/s, c={c}",
                            "req/s",
                            wrk(workerd.url, c, args.seconds),
                            peer_of=f"warm runs/s, HTTP trigger /fn/, c={c}"
                            if trigger
                            else f"warm runs/s, POST /execute, c={c}",
                        )
                    for n in args.sleepers:
                        elapsed, per_run = await sleepers(server, http, n)
                        add(f"{n} concurrent 100 ms sleeps, time to finish", "s", elapsed)
                        add(f"{n} concurrent 100 ms sleeps, host memory per run", "KiB", per_run)
                    add(
                        "process per request (node -e), p50",
                        "ms",
                        statistics.median(node_process_per_request(args.peer_samples)),
                        peer_of="cold start p50, server-side",
                    )
                    add(
                        "isolated-vm new isolate+context, p50",
                        "ms",
                        statistics.median(isolated_vm_contexts(args.peer_samples)),
                        peer_of="cold start p50, server-side",
                    )
                    add(
                        "mini-racer new context, p50",
                        "ms",
                        statistics.median(mini_racer_contexts(args.peer_samples)),
                        peer_of="cold start p50, server-side",
                    )
        finally:
            workerd.close()
            stop_and_check(server)
    return list(figures.values())


def table(figures: list[Figure]) -> str:
    by_name = {f.name: f for f in figures}
    lines = [
        "| measure | median | spread (min–max) | ratio to Vortex |",
        "|---|---|---|---|",
    ]
    for f in figures:
        ratio = ""
        if f.peer_of and f.peer_of in by_name:
            ours = by_name[f.peer_of].median
            ratio = f"{f.median / ours:.2f}× ({f.peer_of})" if ours else ""
        lines.append(f"| {f.name} | {f.median:.4g} {f.unit} | {f.spread()} | {ratio} |")
    return "\n".join(lines)


def plot(figures: list[Figure], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_name = {f.name: f for f in figures}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, pattern in [
        ("Vortex POST /execute", "warm runs/s, POST /execute, c={}"),
        ("Vortex HTTP trigger", "warm runs/s, HTTP trigger /fn/, c={}"),
        ("workerd", "workerd req/s, c={}"),
    ]:
        points = [
            (c, by_name[pattern.format(c)]) for c in CONCURRENCY if pattern.format(c) in by_name
        ]
        if points:
            left.errorbar(
                [c for c, _ in points],
                [f.median for _, f in points],
                yerr=[
                    [f.median - min(f.samples) for _, f in points],
                    [max(f.samples) - f.median for _, f in points],
                ],
                marker="o",
                capsize=3,
                label=label,
            )
    left.set_xscale("log", base=2)
    left.set_xlabel("concurrent connections")
    left.set_ylabel("requests per second (median)")
    left.set_title("Warm hello-world throughput")
    left.legend()
    cold = [
        ("Vortex (server)", "cold start p50, server-side"),
        ("Vortex (client)", "cold start p50, client wall"),
        ("isolated-vm", "isolated-vm new isolate+context, p50"),
        ("mini-racer", "mini-racer new context, p50"),
        ("node -e", "process per request (node -e), p50"),
    ]
    present = [(label, by_name[name]) for label, name in cold if name in by_name]
    right.barh([label for label, _ in present], [f.median for _, f in present])
    right.set_xscale("log")
    right.set_xlabel("milliseconds (median of p50s, log scale)")
    right.set_title("Cold start / new context")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sleepers", type=int, nargs="*", default=[100, 1000, 10000])
    parser.add_argument("--peer-samples", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    figures = asyncio.run(measure(args))
    text = table(figures)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    plot(figures, args.out / "benchmarks.png")
    machine = f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}"
    generated = (
        f"{START}\n"
        f"Measured by `script/bench` ({args.rounds} rounds, {args.workers} Vortex hosts, "
        f"{machine}). Each figure is the median of the rounds; the spread is min–max.\n\n"
        f"{text}\n\n![throughput and cold start](benchmarks.png)\n{END}"
    )
    (args.out / "benchmarks.md").write_text(with_generated(args.out / "benchmarks.md", generated))


START = "<!-- script/bench writes from here -->"
END = "<!-- to here -->"


def with_generated(path: Path, generated: str) -> str:
    """The page with its measured part replaced; what is written around it is kept."""
    old = path.read_text() if path.exists() else ""
    if START in old and END in old:
        before, rest = old.split(START, 1)
        return before + generated + rest.split(END, 1)[1]
    return f"# Benchmarks\n\n{generated}\n"


if __name__ == "__main__":
    main()
