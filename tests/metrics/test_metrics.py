"""``Metrics``: the series it records and renders, and ``/metrics`` on a real server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.server import ServerProcess
from vortex.health import BackendHealth
from vortex.metrics import CONTENT_TYPE_LATEST, Metrics, Snapshot

A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"


def samples(text: bytes | str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    if isinstance(text, bytes):
        text = text.decode()
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@dataclass(frozen=True)
class Stats:
    active_workers: int = 2
    max_workers: int = 2
    spare_workers: int = 1
    running: int = 3
    host_restarts: int = 4


def test_runs_by_function_and_outcome() -> None:
    metrics = Metrics()
    metrics.observe_run(A, None, 12.0, 3.0, name="hello")
    metrics.observe_run(A, "ok", 2.0, 1.0, name="hello")
    metrics.observe_run(A, "cpu_time_exceeded", 700.0, 700.0, name="hello")
    metrics.observe_run(B, "uncaught_exception", 1.0, None)
    found = samples(metrics.render(Snapshot()))
    a, b = (("function", A), ("name", "hello")), (("function", B), ("name", B))
    assert found[("vortex_runs_total", (*a, ("outcome", "ok")))] == 2
    assert found[("vortex_runs_total", (*a, ("outcome", "cpu_time_exceeded")))] == 1
    assert found[("vortex_runs_total", (*b, ("outcome", "uncaught_exception")))] == 1
    assert found[("vortex_run_duration_seconds_count", a)] == 3
    assert found[("vortex_run_duration_seconds_sum", a)] == 0.714
    assert found[("vortex_run_duration_seconds_bucket", (a[0], ("le", "0.005"), a[1]))] == 1
    assert found[("vortex_run_cpu_seconds_count", a)] == 3
    assert ("vortex_run_cpu_seconds_count", b) not in found


def test_registries_are_per_application() -> None:
    first, second = Metrics(), Metrics()
    first.observe_run(A, None, 1.0, 1.0)
    assert ("vortex_runs_total", (("function", A), ("name", A), ("outcome", "ok"))) not in samples(
        second.render(Snapshot())
    )


def test_forget_function() -> None:
    metrics = Metrics()
    metrics.observe_run(A, None, 1.0, 1.0, name="hello")
    metrics.observe_run(A, "wall_time_exceeded", 1.0, None, name="hello")
    metrics.observe_run(B, None, 1.0, 1.0)
    metrics.forget_function(A)
    metrics.forget_function("never-seen")
    text = metrics.render(Snapshot()).decode()
    assert A not in text and "hello" not in text and B in text


def test_function_label_is_bounded() -> None:
    metrics = Metrics(max_functions=1)
    metrics.observe_run(A, None, 1.0, 1.0, name="hello")
    metrics.observe_run(B, None, 1.0, 1.0, name="world")
    metrics.observe_run(B, None, 1.0, 1.0, name="world")
    found = samples(metrics.render(Snapshot()))
    other = (("function", "_other"), ("name", "_other"), ("outcome", "ok"))
    assert found[("vortex_runs_total", other)] == 2
    text = metrics.render(Snapshot()).decode()
    assert B not in text and "world" not in text


def test_scrape_time_series() -> None:
    metrics = Metrics()
    snapshot = Snapshot(
        pool=Stats(),
        backends={
            "storage": BackendHealth("s3", True),
            "logbus": BackendHealth("redis", False, "down", {"published": 10, "dropped": 2}),
            "kv": BackendHealth("redis", True),
        },
        cron={"fired": 5, "skipped": 1},
    )
    found = samples(metrics.render(snapshot))
    assert found[("vortex_pool_hosts", (("role", "active"),))] == 2
    assert found[("vortex_pool_hosts", (("role", "spare"),))] == 1
    assert found[("vortex_pool_max_hosts", ())] == 2
    assert found[("vortex_pool_running_invocations", ())] == 3
    assert found[("vortex_host_restarts_total", ())] == 4
    assert found[("vortex_backend_up", (("backend", "s3"), ("component", "storage")))] == 1
    assert found[("vortex_backend_up", (("backend", "redis"), ("component", "logbus")))] == 0
    assert found[("vortex_logbus_published_total", ())] == 10
    assert found[("vortex_logbus_dropped_total", ())] == 2
    assert found[("vortex_cron_ticks_total", (("result", "fired"),))] == 5
    assert ("vortex_pool_busy_hosts", ()) not in found  # a stats object without it

    @dataclass(frozen=True)
    class WithBusy(Stats):
        busy_hosts: int = 1

    found = samples(metrics.render(Snapshot(pool=WithBusy())))
    assert found[("vortex_pool_busy_hosts", ())] == 1
    assert ("vortex_backend_up", (("backend", "s3"), ("component", "storage"))) not in found


async def test_metrics_route(server: ServerProcess) -> None:
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": "Vortex.return(1)"}) as response:
            function_id = (await response.json())["function_id"]
        async with http.post(f"/execute/{function_id}") as response:
            assert response.status == 200
        async with http.get("/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
            found = samples(await response.text())
    assert found[("vortex_pool_max_hosts", ())] >= 1
    assert found[("vortex_pool_hosts", (("role", "active"),))] >= 1
    for component, backend in [
        ("storage", "local"),
        ("logbus", "memory"),
        ("kv", "sqlite"),
        ("auth", "local"),
    ]:
        assert found[("vortex_backend_up", (("backend", backend), ("component", component)))] == 1


async def test_busy_hosts_counts_hosts_with_a_run_in_flight(server: ServerProcess) -> None:
    async with aiohttp.ClientSession(base_url=server.url) as http:
        code = "await new Promise((resolve) => setTimeout(resolve, 1500)); Vortex.return(1);"
        async with http.post("/deploy", json={"code": code}) as response:
            function_id = (await response.json())["function_id"]

        async def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            async with http.get("/metrics") as response:
                return samples(await response.text())

        async def execute() -> int:
            async with http.post(f"/execute/{function_id}") as response:
                return response.status

        run = asyncio.create_task(execute())
        try:
            async with asyncio.timeout(10):
                during = await scrape()
                while during[("vortex_pool_running_invocations", ())] < 1:
                    await asyncio.sleep(0.05)
                    during = await scrape()
        finally:
            assert await run == 200
        after = await scrape()
    assert during[("vortex_pool_busy_hosts", ())] >= 1
    active = after[("vortex_pool_hosts", (("role", "active"),))]
    assert 0 <= after[("vortex_pool_busy_hosts", ())] <= active
