"""``Metrics``: what ``/metrics`` exposes, in one ``CollectorRegistry`` per application.

Not prometheus-client's global registry: several applications in one process (tests, or an
embedding program) must not share or clash over their series.

Two kinds of series:

- recorded as runs happen, through ``observe_run``:
  ``vortex_runs_total{function,name,outcome}`` (``outcome`` is ``ok`` or the run's error code,
  so errors by code are ``vortex_runs_total{outcome!="ok"}``),
  ``vortex_run_duration_seconds{function,name}`` and ``vortex_run_cpu_seconds{function,name}``
  (histograms). ``function`` is the version's id, ``name`` the function's name (its id when it
  has none): a dashboard sums a name's versions ``by (name)``;
- read at scrape time from a ``Snapshot`` the handler takes just before rendering: the pool's
  hosts, invocations and restarts, and whether each backend (storage, log bus, KV, API keys,
  cron lock) is up, with the log bus's counters.

The labels are bounded: past ``max_functions`` distinct ids, runs of new functions are counted
under ``function="_other", name="_other"``, so a deploy loop cannot make a scrape unbounded. A
name adds no series of its own: each id has one name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from vortex.health import BackendHealth

# prometheus_client adds a ``*_created`` gauge (the series' creation time) to every counter and
# histogram: Prometheus does not use it, and it was a third of the samples of /metrics. The
# switch is the library's, for the process: Vortex is its only user here.
disable_created_metrics()  # type: ignore[no-untyped-call]

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
    log_lines_dropped: int | None = None
    """Lines of the server's own log dropped for a writer that fell behind (vortex.logqueue)."""


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
                "vortex_host_restarts", "Hosts replaced (killed at a limit, crashed, unresponsive)",
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
        if snapshot.log_lines_dropped is not None:
            yield CounterMetricFamily(
                "vortex_log_lines_dropped",
                "Lines of the server's log dropped: VORTEX_LOG_QUEUE_LINES were waiting to be "
                "written",
                value=snapshot.log_lines_dropped,
            )
        if snapshot.cron:
            ticks = CounterMetricFamily(
                "vortex_cron_ticks", "Cron ticks seen by this node, by result", labels=["result"]
            )
            for result, count in sorted(snapshot.cron.items()):
                ticks.add_metric([result], count)
            yield ticks


@dataclass(slots=True)
class _Series:
    """The labelled series one function's runs with one outcome go to."""

    runs: Counter
    duration: Histogram
    make_cpu: Callable[[], Histogram]
    cpu: Histogram | None = None
    """Made at the first run whose CPU time is known (none is shown before)."""


class Metrics:
    def __init__(self, *, max_functions: int = MAX_FUNCTIONS) -> None:
        self.registry = CollectorRegistry()
        self.max_functions = max_functions
        self._functions: dict[str, tuple[str, set[str]]] = {}
        """Function id → its name label, and the outcomes it has series for."""
        self._series: dict[tuple[str, str], _Series] = {}
        """(function id, outcome) → its run counter, duration and CPU histograms: looking a
        labelled series up by its labels was a tenth of the server's CPU under load."""
        self.runs = Counter(
            "vortex_runs",
            "Runs, by function and outcome (ok, or the run's error code)",
            ["function", "name", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "vortex_run_duration_seconds",
            "Wall time of runs, by function",
            ["function", "name"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.cpu = Histogram(
            "vortex_run_cpu_seconds",
            "CPU time of runs, by function",
            ["function", "name"],
            buckets=CPU_BUCKETS,
            registry=self.registry,
        )
        self._scrape = _ScrapeCollector()
        self.registry.register(self._scrape)

    def _labels(self, function_id: str, name: str) -> tuple[str, str, set[str]]:
        known = self._functions.get(function_id)
        if known is not None:
            return function_id, known[0], known[1]
        if len(self._functions) >= self.max_functions:
            other = self._functions.setdefault(OTHER_FUNCTIONS, (OTHER_FUNCTIONS, set()))
            return OTHER_FUNCTIONS, OTHER_FUNCTIONS, other[1]
        outcomes: set[str] = set()
        self._functions[function_id] = (name, outcomes)
        return function_id, name, outcomes

    def observe_run(
        self,
        function_id: str,
        outcome_code: str | None,
        duration_ms: float,
        cpu_ms: float | None = None,
        *,
        name: str | None = None,
    ) -> None:
        """Record one finished run: ``outcome_code`` ``None`` (or ``"ok"``) for a success, else
        the error code the run ended with; ``cpu_ms`` ``None`` when it is not known; ``name``
        the function's name (``vortex.functions.public_name``), its id when None."""
        outcome = outcome_code or OK
        series = self._series.get((function_id, outcome))
        if series is None:
            function, label, outcomes = self._labels(function_id, name or function_id)
            outcomes.add(outcome)
            series = _Series(
                self.runs.labels(function, label, outcome),
                self.duration.labels(function, label),
                lambda: self.cpu.labels(function, label),
            )
            if function == function_id:  # not the catch-all of functions past the limit
                self._series[(function_id, outcome)] = series
        series.runs.inc()
        series.duration.observe(max(duration_ms, 0.0) / 1000)
        if cpu_ms is not None:
            if series.cpu is None:
                series.cpu = series.make_cpu()
            series.cpu.observe(max(cpu_ms, 0.0) / 1000)

    def forget_function(self, function_id: str) -> None:
        """Drop a deleted function's series, so they do not linger until a restart."""
        known = self._functions.pop(function_id, None)
        if known is None:
            return
        for outcome in known[1]:
            self._series.pop((function_id, outcome), None)
        label, outcomes = known
        for outcome in outcomes:
            self.runs.remove(function_id, label, outcome)
        for histogram in (self.duration, self.cpu):
            with contextlib.suppress(KeyError):  # no CPU time was ever known for it
                histogram.remove(function_id, label)

    def render(self, snapshot: Snapshot) -> bytes:
        """The text exposition, with the scrape-time series taken from ``snapshot``."""
        # No await between setting the snapshot and rendering: concurrent scrapes cannot mix.
        self._scrape.snapshot = snapshot
        return generate_latest(self.registry)
