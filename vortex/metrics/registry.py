"""``Metrics``: what ``/metrics`` exposes, in one ``CollectorRegistry`` per application.

Not prometheus-client's global registry: several applications in one process (tests, or an
embedding program) must not share or clash over their series.

Two kinds of series:

- recorded as runs happen, through ``observe_run``: ``vortex_runs_total{function,outcome}``
  (``outcome`` is ``ok`` or the run's error code, so errors by code are
  ``vortex_runs_total{outcome!="ok"}``), ``vortex_run_duration_seconds{function}`` and
  ``vortex_run_cpu_seconds{function}`` (histograms);
- read at scrape time from a ``Snapshot`` the handler takes just before rendering: the pool's
  hosts, invocations and restarts, and whether each backend (storage, log bus, KV, API keys,
  cron lock) is up, with the log bus's counters.

The ``function`` label is bounded: past ``max_functions`` distinct ids, runs of new functions
are counted under ``function="_other"``, so a deploy loop cannot make a scrape unbounded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from vortex.health import BackendHealth

OK = "ok"
OTHER_FUNCTIONS = "_other"
MAX_FUNCTIONS = 10_000
# From a trivial warm run (about a millisecond) to the default wall limit (30 s).
DURATION_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
# CPU time is bounded by the CPU limit (1 s by default).
CPU_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PoolStatsLike(Protocol):
    """What the pool's ``stats()`` gives (read-only), without importing the pool here."""

    @property
    def active_workers(self) -> int: ...
    @property
    def max_workers(self) -> int: ...
    @property
    def spare_workers(self) -> int: ...
    @property
    def running(self) -> int: ...
    @property
    def host_restarts(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    pool: PoolStatsLike | None = None
    backends: Mapping[str, BackendHealth] = field(default_factory=dict)
    """Component (``storage``, ``logbus``, ``kv``, ``auth``, ``cron``) → its health."""
    cron: Mapping[str, int] = field(default_factory=dict)
    """Scheduler counters (fired, claimed_elsewhere, skipped, lock_errors, failed)."""


class _ScrapeCollector(Collector):
    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterable[Metric]:
        snapshot = self.snapshot
        pool = snapshot.pool
        if pool is not None:
            hosts = GaugeMetricFamily(
                "vortex_pool_hosts", "Host processes alive, by role", labels=["role"]
            )
            hosts.add_metric(["active"], pool.active_workers)
            hosts.add_metric(["spare"], pool.spare_workers)
            yield hosts
            yield GaugeMetricFamily(
                "vortex_pool_max_hosts", "Host processes the pool is configured to run",
                value=pool.max_workers,
            )  # fmt: skip
            yield GaugeMetricFamily(
                "vortex_pool_running_invocations", "Invocations running on the pool's hosts",
                value=pool.running,
            )  # fmt: skip
            busy = getattr(pool, "busy_hosts", None)
            if isinstance(busy, int):
                yield GaugeMetricFamily(
                    "vortex_pool_busy_hosts", "Active hosts running at least one invocation",
                    value=busy,
                )  # fmt: skip
            yield CounterMetricFamily(
                "vortex_host_restarts", "Hosts replaced (killed at a limit, crashed)",
                value=pool.host_restarts,
            )  # fmt: skip
            recycles = getattr(pool, "host_recycles", None)
            if isinstance(recycles, int):
                yield CounterMetricFamily(
                    "vortex_host_recycles",
                    "Hosts retired gracefully: after their run count or memory threshold, or to "
                    "make room for another namespace's dedicated host",
                    value=recycles,
                )
        if snapshot.backends:
            up = GaugeMetricFamily(
                "vortex_backend_up",
                "1 when a backend answers, 0 when it is unreachable",
                labels=["component", "backend"],
            )
            for component, health in sorted(snapshot.backends.items()):
                up.add_metric([component, health.backend], 1 if health.ok else 0)
            yield up
        logbus = snapshot.backends.get("logbus")
        if logbus is not None:
            for name, help_text in (
                ("published", "Log lines this node published to the shared bus"),
                ("dropped", "Log lines dropped because the bus's queue was full"),
            ):
                value = logbus.details.get(name)
                if isinstance(value, int):
                    yield CounterMetricFamily(f"vortex_logbus_{name}", help_text, value=value)
        if snapshot.cron:
            ticks = CounterMetricFamily(
                "vortex_cron_ticks", "Cron ticks seen by this node, by result", labels=["result"]
            )
            for result, count in sorted(snapshot.cron.items()):
                ticks.add_metric([result], count)
            yield ticks


class Metrics:
    def __init__(self, *, max_functions: int = MAX_FUNCTIONS) -> None:
        self.registry = CollectorRegistry()
        self.max_functions = max_functions
        self._functions: dict[str, set[str]] = {}
        """Function id → the outcomes it has series for."""
        self.runs = Counter(
            "vortex_runs",
            "Runs, by function and outcome (ok, or the run's error code)",
            ["function", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "vortex_run_duration_seconds",
            "Wall time of runs, by function",
            ["function"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.cpu = Histogram(
            "vortex_run_cpu_seconds",
            "CPU time of runs, by function",
            ["function"],
            buckets=CPU_BUCKETS,
            registry=self.registry,
        )
        self._scrape = _ScrapeCollector()
        self.registry.register(self._scrape)

    def _label(self, function_id: str) -> str:
        if function_id in self._functions:
            return function_id
        if len(self._functions) >= self.max_functions:
            return OTHER_FUNCTIONS
        self._functions[function_id] = set()
        return function_id

    def observe_run(
        self,
        function_id: str,
        outcome_code: str | None,
        duration_ms: float,
        cpu_ms: float | None = None,
    ) -> None:
        """Record one finished run: ``outcome_code`` ``None`` (or ``"ok"``) for a success, else
        the error code the run ended with; ``cpu_ms`` ``None`` when it is not known."""
        function = self._label(function_id)
        outcome = outcome_code or OK
        self._functions.get(function, set()).add(outcome)
        self.runs.labels(function, outcome).inc()
        self.duration.labels(function).observe(max(duration_ms, 0.0) / 1000)
        if cpu_ms is not None:
            self.cpu.labels(function).observe(max(cpu_ms, 0.0) / 1000)

    def forget_function(self, function_id: str) -> None:
        """Drop a deleted function's series, so they do not linger until a restart."""
        outcomes = self._functions.pop(function_id, None)
        if outcomes is None:
            return
        for outcome in outcomes:
            self.runs.remove(function_id, outcome)
        for histogram in (self.duration, self.cpu):
            with contextlib.suppress(KeyError):  # no CPU time was ever known for it
                histogram.remove(function_id)

    def render(self, snapshot: Snapshot) -> bytes:
        """The text exposition, with the scrape-time series taken from ``snapshot``."""
        # No await between setting the snapshot and rendering: concurrent scrapes cannot mix.
        self._scrape.snapshot = snapshot
        return generate_latest(self.registry)
