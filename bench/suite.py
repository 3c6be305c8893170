"""Vortex beside workerd, on one machine, in one run (``script/bench`` runs it).

Every figure is a median over repeated rounds, with its spread (min–max). Prints markdown tables
and writes them with a plot into docs/benchmarks.md and docs/benchmarks.png. Both servers serve
the same files (bench/peers/*.js): Vortex on its functions listener, by hostname (a ``Host``
header to 127.0.0.1), workerd from its config on loopback.

1. hello world at ``wrk -t2 -c32``: requests/s, p50/p99 latency, Vortex and workerd
2. the same with an async handler and one ``await``, beside the sync one
3. a burst: 10,000 connections at once, one request each, to a handler that sleeps 100 ms
   (bench/burst.py, in several processes): from the first answer to the last, answered, errors
4. deploy, then the first request on the listener: server-side (the run's ``execution_time_ms``
   in ``GET /functions/{id}/runs``) and client wall (deploy answered → response read)

and, as before: cold start through ``POST /execute``, ``POST /execute`` under wrk, and the cost
of a new context in the peers (a ``node -e`` per request, mini-racer, isolated-vm if installed).
Every process the run starts is stopped at its end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import resource
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
from bench.burst import Burst, burst, raise_nofile  # noqa: E402
from bench.core import cold_starts, rss_kib  # noqa: E402
from tests.server import ServerProcess, free_port, start_server, stop_and_check  # noqa: E402

PEERS = ROOT / "bench" / "peers"
ISOLATED_VM = PEERS / "isolated-vm"
WORKERS = ("hello", "hello_async", "sleep")
"""bench/peers/{name}.js: deployed to Vortex under this name, served by workerd on a port each."""


def label(name: str) -> str:
    """A worker's name in Vortex, its hostname's label (no underscores there)."""
    return name.replace("_", "-")


HELLO_SCRIPT = "Vortex.return({ hello: 'world' })"


@dataclass
class Figure:
    name: str
    unit: str
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    def spread(self) -> str:
        if len(self.samples) < 2:
            return ""
        return f"{fmt(min(self.samples))}–{fmt(max(self.samples))}"


def fmt(value: float) -> str:
    if math.isnan(value):
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- load generation -------------------------------------------------------------------------
@dataclass
class WrkResult:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    connections: int,
    seconds: float,
    *,
    method: str = "GET",
    host: str | None = None,
    threads: int = 2,
) -> WrkResult:
    """wrk in its own process: requests/s, p50 and p99 latency, and its errors (socket errors
    and non-2xx answers)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--latency", "--timeout", "10s"]
    if host:
        command += ["-H", f"Host: {host}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{method}"\n')
    try:
        out = subprocess.run(
            [*command, "-s", script.name, url], capture_output=True, text=True, check=False
        ).stdout
    finally:
        os.unlink(script.name)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", out)
    if rate is None or p50 is None or p99 is None:
        print(out, file=sys.stderr)
        return WrkResult(0.0, float("nan"), float("nan"), -1)
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    if errors:
        print(f"wrk {url} ({host}): {errors} errors\n{out}", file=sys.stderr)
    return WrkResult(float(rate.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), errors)


# -- Vortex --------------------------------------------------------------------------------------
async def deploy(
    http: aiohttp.ClientSession, code: str, *, name: str | None = None, filename: str = "index.js"
) -> str:
    payload: dict[str, str] = {"code": code, "filename": filename}
    if name:
        payload["name"] = name
    async with http.post("/deploy", json=payload) as r:
        body = await r.json()
        if r.status != 200:
            raise RuntimeError(f"deploy failed: {body}")
        return str(body["function_id"])


async def deploy_to_first_request(
    server: ServerProcess, http: aiohttp.ClientSession, n: int, tag: str
) -> tuple[list[float], list[float]]:
    """n new functions, each deployed and then requested once on the listener, on a connection
    of its own (a new function is a new origin): (client wall ms, server-side ms)."""
    code = (PEERS / "hello.js").read_text()
    walls, server_side = [], []
    listener = f"http://127.0.0.1:{server.functions_port}/"
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as fresh:
        for i in range(n):
            function_id = await deploy(http, f"// {tag} {i}\n{code}")
            started = time.perf_counter()
            async with fresh.get(listener, headers={"Host": f"{function_id}.localhost"}) as r:
                body = await r.read()
            walls.append((time.perf_counter() - started) * 1000)
            if r.status != 200 or body != b"Hello World!":
                raise RuntimeError(f"first request: {r.status} {body[:200]!r}")
            server_side.append(await first_run_time(http, function_id))
    return walls, server_side


async def first_run_time(http: aiohttp.ClientSession, function_id: str) -> float:
    """The ``execution_time_ms`` of the function's only run, from its history (recorded once the
    host has told the supervisor of it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        async with http.get(f"/functions/{function_id}/runs") as r:
            runs = (await r.json())["runs"]
        if runs:
            return float(runs[-1]["execution_time_ms"])
        await asyncio.sleep(0.005)
    raise RuntimeError(f"no run of {function_id} in its history")


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


def isolated_vm_installed() -> bool:
    return (ISOLATED_VM / "node_modules" / "isolated-vm" / "package.json").exists()


def isolated_vm_contexts(n: int) -> list[float]:
    out = subprocess.run(
        ["node", str(ISOLATED_VM / "isolated_vm_contexts.js"), str(n)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ISOLATED_VM,
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
    """workerd serving bench/peers/{hello,hello_async,sleep}.js, each on a loopback port."""

    def __init__(self) -> None:
        self.ports = {name: free_port() for name in WORKERS}
        self.dir = Path(tempfile.mkdtemp(prefix="vortex-bench-workerd-"))
        config = (PEERS / "workerd.capnp.in").read_text()
        for name, port in self.ports.items():
            config = config.replace(f"@PORT_{name.upper()}@", str(port))
            shutil.copy(PEERS / f"{name}.js", self.dir / f"{name}.js")
        (self.dir / "config.capnp").write_text(config)
        binary = PEERS / "node_modules" / ".bin" / "workerd"
        self.process = subprocess.Popen(
            [str(binary), "serve", "config.capnp"],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "stderr", "wb"),  # noqa: SIM115 (closed with the process)
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                subprocess.run(
                    ["curl", "-sf", self.url("hello")], capture_output=True, check=True, timeout=1
                )
                return
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                time.sleep(0.1)
        self.close()
        raise RuntimeError("workerd did not start")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/"

    def rss_kib(self) -> int:
        return rss_kib([self.process.pid])

    def log(self) -> str:
        return (self.dir / "stderr").read_text(errors="replace")[-500:].strip()

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def workerd_burst(n: int) -> int:
    """As many of n connections as workerd can hold: it takes two descriptors per connection and
    exits when an accept() fails for want of one (10,000 need a limit above 20,000)."""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return min(n, (limit - 200) // 2)


# -- the run -------------------------------------------------------------------------------------
class Figures(dict[str, Figure]):
    def add(self, name: str, unit: str, value: float) -> None:
        self.setdefault(name, Figure(name, unit)).samples.append(value)

    def median(self, name: str) -> float:
        return self[name].median if name in self else float("nan")


def add_wrk(figures: Figures, who: str, what: str, result: WrkResult) -> None:
    if result.errors < 0:
        return  # wrk failed (printed): no figure rather than a zero
    figures.add(f"{who} {what} req/s", "req/s", result.rate)
    figures.add(f"{who} {what} p50", "ms", result.p50_ms)
    figures.add(f"{who} {what} p99", "ms", result.p99_ms)
    figures.add(f"{who} {what} errors", "", result.errors)


def add_burst(figures: Figures, who: str, seen: Burst) -> None:
    figures.add(f"{who} burst first to last", "s", seen.first_to_last_s)
    figures.add(f"{who} burst go to last", "s", seen.go_to_last_s)
    figures.add(f"{who} burst answered", "", seen.answered)
    figures.add(f"{who} burst errors", "", len(seen.errors))
    figures.add(f"{who} burst connect", "s", seen.connect_s)
    figures.add(f"{who} burst send", "s", seen.send_s)
    figures.add(f"{who} burst generator CPU", "s", seen.generator_cpu_s)
    figures.add(f"{who} burst KiB per request", "KiB", seen.peak_kib / seen.n)
    if seen.errors:
        kinds: dict[str, int] = {}
        for error in seen.errors:
            kinds[error] = kinds.get(error, 0) + 1
        print(f"{who} burst errors: {kinds}", file=sys.stderr)


async def measure(args: argparse.Namespace) -> Figures:
    figures = Figures()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), {"VORTEX_LOG_LEVEL": "WARNING"}, workers=args.workers)
        workerd: Workerd | None = None
        try:
            workerd = Workerd()
            connector = aiohttp.TCPConnector(limit=0)
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(
                base_url=server.url, connector=connector, timeout=timeout
            ) as http:
                for name in WORKERS:
                    await deploy(http, (PEERS / f"{name}.js").read_text(), name=label(name))
                script_id = await deploy(http, HELLO_SCRIPT)
                listener = f"http://127.0.0.1:{server.functions_port}/"
                # Warm both: the client's and the servers' code paths, the hosts' instances.
                await cold_starts(http, 20)
                await deploy_to_first_request(server, http, 10, "warm-up")
                for name in WORKERS:
                    wrk(listener, 8, 1, host=f"{label(name)}.localhost")
                    wrk(workerd.url(name), 8, 1)
                for round_ in range(args.rounds):
                    print(f"round {round_ + 1}/{args.rounds}", file=sys.stderr)
                    if workerd.process.poll() is not None:
                        print(f"workerd exited: {workerd.log()}", file=sys.stderr)
                        workerd.close()
                        workerd = Workerd()
                    for name in ("hello", "hello_async"):
                        c, t = args.connections, args.threads
                        add_wrk(
                            figures,
                            "Vortex",
                            name,
                            wrk(
                                listener,
                                c,
                                args.seconds,
                                host=f"{label(name)}.localhost",
                                threads=t,
                            ),
                        )
                        add_wrk(
                            figures,
                            "workerd",
                            name,
                            wrk(workerd.url(name), c, args.seconds, threads=t),
                        )
                    client, server_side = await deploy_to_first_request(
                        server, http, args.deploys, f"round {round_}"
                    )
                    figures.add(
                        "deploy to first request, server-side p50",
                        "ms",
                        statistics.median(server_side),
                    )
                    figures.add(
                        "deploy to first request, server-side p99",
                        "ms",
                        percentile(server_side, 0.99),
                    )
                    figures.add(
                        "deploy to first request, client wall p50", "ms", statistics.median(client)
                    )
                    figures.add(
                        "deploy to first request, client wall p99", "ms", percentile(client, 0.99)
                    )
                    client, server_side = await cold_starts(http, args.deploys)
                    figures.add(
                        "POST /execute cold start, server-side p50",
                        "ms",
                        statistics.median(server_side),
                    )
                    figures.add(
                        "POST /execute cold start, client wall p50", "ms", statistics.median(client)
                    )
                    add_wrk(
                        figures,
                        "Vortex",
                        "POST /execute",
                        wrk(
                            f"{server.url}/execute/{script_id}",
                            args.connections,
                            args.seconds,
                            method="POST",
                        ),
                    )
                    if args.burst:
                        add_burst(
                            figures,
                            "Vortex",
                            burst(
                                server.functions_port,
                                args.burst,
                                hostname=f"{label('sleep')}.localhost",
                                processes=args.burst_processes,
                                timeout=args.burst_timeout,
                                rss=lambda: rss_kib(server.host_pids()),
                            ),
                        )
                        add_burst(
                            figures,
                            "workerd",
                            burst(
                                workerd.ports["sleep"],
                                workerd_burst(args.burst),
                                hostname="localhost",
                                processes=args.burst_processes,
                                timeout=args.burst_timeout,
                                rss=workerd.rss_kib,
                            ),
                        )
                    n = args.peer_samples
                    figures.add(
                        "node -e per request, p50",
                        "ms",
                        statistics.median(node_process_per_request(n)),
                    )
                    figures.add(
                        "mini-racer new context, p50",
                        "ms",
                        statistics.median(mini_racer_contexts(n)),
                    )
                    if isolated_vm_installed():
                        figures.add(
                            "isolated-vm new isolate+context, p50",
                            "ms",
                            statistics.median(isolated_vm_contexts(n)),
                        )
        finally:
            if workerd is not None:
                workerd.close()
            stop_and_check(server)
    return figures


def cell(figures: Figures, name: str) -> str:
    if name not in figures:
        return "—"
    f = figures[name]
    unit = f" {f.unit}" if f.unit and f.unit != "req/s" else ""
    spread = f.spread()
    return f"{fmt(f.median)}{unit}" + (f" ({spread})" if spread else "")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b and not math.isnan(a) and not math.isnan(b) else "—"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**not met**")


def tables(figures: Figures, args: argparse.Namespace) -> str:
    m = figures.median
    c = f"wrk -t{args.threads} -c{args.connections}, {args.seconds:g} s"
    rows = [
        "| measure | Vortex | workerd | Vortex ÷ workerd | target | |",
        "|---|---|---|---|---|---|",
    ]

    def row(label: str, name: str, target: str = "", ok: bool | None = None, *, peer=True) -> None:
        ours, theirs = f"Vortex {name}", f"workerd {name}"
        rows.append(
            f"| {label} | {cell(figures, ours)} | {cell(figures, theirs) if peer else '—'} "
            f"| {ratio(m(ours), m(theirs)) if peer else ''} | {target} "
            f"| {verdict(ok) if target else ''} |"
        )

    sync_ratio = m("Vortex hello req/s") / m("workerd hello req/s")
    row(f"1. hello world, req/s ({c})", "hello req/s", "≥ 0.5× workerd", sync_ratio >= 0.5)
    row("hello world, latency p50", "hello p50")
    row("hello world, latency p99", "hello p99")
    row("hello world, errors (socket + non-2xx)", "hello errors")
    async_ratio = m("Vortex hello_async req/s") / m("Vortex hello req/s")
    row(f"2. async hello (one `await`), req/s ({c})", "hello_async req/s")
    rows.append(
        f"| async ÷ sync, req/s | {ratio(m('Vortex hello_async req/s'), m('Vortex hello req/s'))} "
        f"| {ratio(m('workerd hello_async req/s'), m('workerd hello req/s'))} | | ≥ 0.8× sync "
        f"| {verdict(async_ratio >= 0.8)} |"
    )
    row("async hello, latency p50", "hello_async p50")
    row("async hello, latency p99", "hello_async p99")
    row("async hello, errors", "hello_async errors")
    if args.burst:
        n = f"{args.burst:,}"
        spread_ok = (
            m("Vortex burst first to last") <= 1.5 and m("Vortex burst answered") >= args.burst
        )
        row(
            f"3. {n} connections at once to a 100 ms sleep: first answer to last",
            "burst first to last",
            f"all {n} within 1.5 s",
            spread_ok,
        )
        if workerd_burst(args.burst) < args.burst:
            rows.append(
                f"| burst: connections to workerd | {n} | {workerd_burst(args.burst):,} | | | |"
            )
        row("burst: answered (200)", "burst answered")
        row("burst: errors (reset, no answer in time, non-200)", "burst errors")
        row("burst: first request written to last answer", "burst go to last")
        row("burst: the generator opening its connections (before the requests)", "burst connect")
        row("burst: the generator writing its requests", "burst send")
        row("burst: the generator's CPU, go to last answer (2 cores in all)", "burst generator CPU")
        row("burst: server memory per request (peak RSS rise)", "burst KiB per request")
    for label, name, target in [
        (
            "4. deploy → first request, server-side p50",
            "deploy to first request, server-side p50",
            "< 1 ms",
        ),
        ("deploy → first request, server-side p99", "deploy to first request, server-side p99", ""),
        ("deploy → first request, client wall p50", "deploy to first request, client wall p50", ""),
        ("deploy → first request, client wall p99", "deploy to first request, client wall p99", ""),
    ]:
        ok = m(name) < 1 if target else None
        rows.append(
            f"| {label} | {cell(figures, name)} | — | | {target} "
            f"| {verdict(ok) if target else ''} |"
        )
    others = [
        "| measure | median (spread) |",
        "|---|---|",
    ]
    for label, name in [
        (
            "cold start, `POST /execute` after deploy, server-side p50",
            "POST /execute cold start, server-side p50",
        ),
        (
            "cold start, `POST /execute` after deploy, client wall p50",
            "POST /execute cold start, client wall p50",
        ),
        (f"`POST /execute` of a script, req/s ({c})", "Vortex POST /execute req/s"),
        ("`POST /execute`, latency p50", "Vortex POST /execute p50"),
        ("`POST /execute`, latency p99", "Vortex POST /execute p99"),
        ("peer: a process per request (`node -e`), p50", "node -e per request, p50"),
        ("peer: isolated-vm new isolate+context, p50", "isolated-vm new isolate+context, p50"),
        ("peer: mini-racer new context, p50", "mini-racer new context, p50"),
    ]:
        if name in figures:
            others.append(f"| {label} | {cell(figures, name)} |")
    return "\n".join(rows) + "\n\nOther figures of the same run:\n\n" + "\n".join(others)


def plot(figures: Figures, path: Path, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.5))
    labels = ["hello", "async hello"]
    xs = range(len(labels))
    for offset, who in [(-0.2, "Vortex"), (0.2, "workerd")]:
        figs = [figures.get(f"{who} {name} req/s") for name in ("hello", "hello_async")]
        medians = [f.median if f else 0 for f in figs]
        errs = [
            [f.median - min(f.samples) if f else 0 for f in figs],
            [max(f.samples) - f.median if f else 0 for f in figs],
        ]
        left.bar([x + offset for x in xs], medians, 0.4, yerr=errs, capsize=3, label=who)
    left.set_xticks(list(xs), labels)
    left.set_ylabel("requests per second (median)")
    left.set_title(f"wrk -t{args.threads} -c{args.connections}")
    left.legend()
    if args.burst:
        who = ["Vortex", "workerd"]
        middle.bar(who, [figures.median(f"{w} burst first to last") for w in who])
        middle.axhline(1.5, color="grey", linestyle="--", label="target 1.5 s")
        middle.set_ylabel("seconds, first answer to last (median)")
        middle.set_title(f"{args.burst:,} connections at once, 100 ms sleep")
        middle.legend()
    cold = [
        ("Vortex deploy → 1st request\n(server-side)", "deploy to first request, server-side p50"),
        ("Vortex deploy → 1st request\n(client wall)", "deploy to first request, client wall p50"),
        ("isolated-vm new context", "isolated-vm new isolate+context, p50"),
        ("mini-racer new context", "mini-racer new context, p50"),
        ("node -e", "node -e per request, p50"),
    ]
    present = [(label, figures[name]) for label, name in cold if name in figures]
    right.barh([label for label, _ in present], [f.median for _, f in present])
    right.set_xscale("log")
    right.set_xlabel("milliseconds, p50 (log scale)")
    right.set_title("New function / new context")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="per wrk measurement")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--deploys", type=int, default=50, help="deploy → first request, per round")
    parser.add_argument("--burst", type=int, default=10_000, help="connections at once (0: none)")
    parser.add_argument("--burst-processes", type=int, default=2)
    parser.add_argument("--burst-timeout", type=float, default=15.0, help="seconds, per burst")
    parser.add_argument("--peer-samples", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="Vortex hosts")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    raise_nofile()  # the servers inherit it: each holds thousands of sockets in a burst
    load_before = os.getloadavg()
    figures = asyncio.run(measure(args))
    load_after = os.getloadavg()
    text = tables(figures, args)
    load = (
        f"load average {load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f} before, "
        f"{load_after[0]:.1f} / {load_after[1]:.1f} / {load_after[2]:.1f} after"
    )
    print(text)
    print(f"\n{load}")
    if args.no_write:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    plot(figures, args.out / "benchmarks.png", args)
    command = " ".join(["script/bench", *sys.argv[1:]])
    machine = f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, {vortex_source()}, {load}"
    generated = (
        f"{START}\n"
        f"Measured by `{command}` ({args.rounds} rounds, {args.workers} Vortex hosts, "
        f"{machine}). Each figure is the "
        "median of the rounds, with the spread (min–max) in brackets.\n\n"
        f"{text}\n\n![throughput, burst and new function](benchmarks.png)\n{END}"
    )
    (args.out / "benchmarks.md").write_text(with_generated(args.out / "benchmarks.md", generated))


def vortex_source() -> str:
    """Which Vortex ran: the commit, or where PYTHONPATH took it from."""
    if os.environ.get("PYTHONPATH"):
        return f"vortex from PYTHONPATH={os.environ['PYTHONPATH']}"
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "vortex"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return f"Vortex at {rev or 'unknown'}" + (" with uncommitted changes" if dirty else "")


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
