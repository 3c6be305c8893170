"""The pool supervisor: keeps warm host processes, dispatches invocations, enforces limits.

It lives in the server process and never imports pythonmonkey. Limits a host cannot enforce on
itself (a turn that does not take its interrupt, the host's own memory) are enforced here by
killing the host and promoting a warm spare in its place (what it reads to decide: backstop.py).
What a run asks of the supervisor while it runs (fetch, KV) is answered by runrequests.py.

Hosts are also retired gracefully: recycled after ``host_max_runs`` runs or once their memory
passes ``host_recycle_bytes`` (pythonmonkey keeps a few KB of every run), and, with dedicated
hosts, when an idle host of one namespace must make room for another. A retired host takes no
new run, finishes the ones it has, and then stops; a warm host has already taken its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vortex.errors import PoolUnavailable
from vortex.isolates.backstop import rss_bytes, run_past_its_memory_in_a_turn, turn_overran
from vortex.isolates.bindings import (
    Binding,
)
from vortex.isolates.cgroups import HostCgroups
from vortex.isolates.exchange import HttpRequest
from vortex.isolates.host_process import HostProcess, HostStartError, Listening
from vortex.isolates.invocation import Invocation
from vortex.isolates.limits import Limits
from vortex.isolates.outcome import (
    MEMORY_LIMIT_EXCEEDED,
    WALL_TIME_EXCEEDED,
    LogEntry,
    RunOutcome,
    platform_error,
)
from vortex.isolates.pids import left_by_dead_process
from vortex.isolates.runrequests import RunRequests
from vortex.isolates.subrequests import (
    Fetcher,
    refuse_all,
)

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.05
DEDICATED_POLL = 0.05
DRAIN_POLL = 0.05
MEMORY_CHECK_EVERY = 5  # watchdog ticks
WATCH_MEMORY_FROM = 0.5
"""Past this fraction of its memory limit a host measures which run grows it (turnclock.py)."""
JS_DIR = Path(__file__).with_name("js")


def default_ses_path() -> Path:
    configured = os.environ.get("VORTEX_SES_PATH")
    if configured:
        return Path(configured)
    return JS_DIR / "node_modules" / "ses" / "dist" / "ses.umd.js"


def default_webapi_path() -> Path:
    """The web APIs bundle that script/bootstrap builds with esbuild (``npm run build``)."""
    configured = os.environ.get("VORTEX_WEBAPI_PATH")
    if configured:
        return Path(configured)
    return JS_DIR / "dist" / "webapi.js"


WORKDIR_PREFIX = "vortex-hosts-"
MIN_CGROUP_BYTES = 64 << 20


def remove_stale_workdirs(root: Path | None = None) -> None:
    """Remove the host directories (turn clocks) of servers that died without cleaning up
    (SIGKILL, power loss): each is named after its server's pid, removed once that is gone."""
    root = root or Path(tempfile.gettempdir())
    for path in root.glob(f"{WORKDIR_PREFIX}*-*"):
        if left_by_dead_process(path.name, WORKDIR_PREFIX):
            shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class PoolStats:
    active_workers: int
    max_workers: int
    spare_workers: int
    running: int
    host_restarts: int
    host_recycles: int = 0
    """Hosts retired gracefully (run count, memory, or room for another namespace)."""


class IsolatePool:
    def __init__(
        self,
        size: int,
        *,
        spares: int = 1,
        limits: Limits | None = None,
        host_memory_bytes: int = 1 << 30,
        cgroups: HostCgroups | None = None,
        ses_path: Path | None = None,
        webapi_path: Path | None = None,
        fetcher: Fetcher | None = None,
        dedicated_hosts: bool = False,
        host_max_runs: int = 0,
        host_recycle_bytes: int = 0,
        host_wait: float = 30.0,
    ) -> None:
        self.size = size
        self.spares = spares
        self.limits = limits or Limits()
        self.host_memory_bytes = host_memory_bytes
        self.cgroups = cgroups
        self.ses_path = ses_path or default_ses_path()
        self.webapi_path = webapi_path or default_webapi_path()
        self.requests = RunRequests(fetcher or refuse_all)
        self.dedicated_hosts = dedicated_hosts
        """No host ever runs code of two namespaces: see ``_pick_host``."""
        self.host_max_runs = host_max_runs
        """Runs after which a host is recycled; 0: never."""
        self.host_recycle_bytes = host_recycle_bytes
        """Resident memory past which a host is recycled; 0: never."""
        self.host_wait = host_wait
        """Seconds a run or check waits for a host before ``pool_unavailable``."""
        self._active: list[HostProcess] = []
        self._spare: list[HostProcess] = []
        self._ids = itertools.count(1)
        self._workdir: Path | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._host_joined = asyncio.Event()
        self._starting = 0
        self._closing = False
        self._restarts = 0
        self._recycles = 0
        self._namespace_of: dict[HostProcess, str] = {}
        """With dedicated hosts: the namespace whose code a host has run (its only one)."""
        self._served: dict[HostProcess, int] = {}
        self._last_used: dict[HostProcess, float] = {}
        self._draining: set[HostProcess] = set()
        self._recycling = False
        self.listening: Listening | None = None
        """Set when the functions listener is on: hosts ask it for routes and tell it of runs."""
        self._listen_frame: dict[str, Any] | None = None
        self._next_host = itertools.count()

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if not self.ses_path.is_file():
            raise HostStartError(
                f"SES was not found at {self.ses_path}: run script/bootstrap "
                "(it installs the JavaScript dependencies with npm)"
            )
        if not self.webapi_path.is_file():
            raise HostStartError(
                f"the web APIs bundle was not found at {self.webapi_path}: run script/bootstrap "
                "(it builds it with npm run build)"
            )
        remove_stale_workdirs()
        self._workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
        hosts = await asyncio.gather(
            *(self._spawn() for _ in range(self.size + self.spares)), return_exceptions=True
        )
        for host in hosts:
            if isinstance(host, BaseException):
                await self.close()
                raise host
            self._adopt(host)
        self._spawn_task(self._watchdog())

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hosts = self._active + self._spare + list(self._draining)
        self._active, self._spare = [], []
        self._draining.clear()
        await asyncio.gather(*(host.close() for host in hosts))
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def stats(self) -> PoolStats:
        return PoolStats(
            active_workers=sum(1 for h in self._active if h.alive),
            max_workers=self.size,
            spare_workers=sum(1 for h in self._spare if h.alive),
            running=sum(h.load for h in self._serving()),
            host_restarts=self._restarts,
            host_recycles=self._recycles,
        )

    def host_pids(self) -> list[int]:
        return [h.pid for h in self._active + self._spare + list(self._draining)]

    def _serving(self) -> list[HostProcess]:
        """Hosts that may have runs: the active ones and those draining their last runs."""
        return self._active + list(self._draining)

    # -- the functions listener ---------------------------------------------------------------
    def listen(self, listening: Listening, frame: dict[str, Any]) -> None:
        """Let hosts serve the functions listener: ``frame`` is their ``listen`` settings."""
        self.listening = listening
        self._listen_frame = frame
        for host in self._active + self._spare + list(self._draining):
            host.listening = listening
            host.send(frame)

    def routes_changed(self) -> None:
        """A name means another version now, or a function is gone: before this returns,
        every host knows its routes are stale (turnclock.py)."""
        for host in self._active + self._spare + list(self._draining):
            if host.alive:
                host.clock.routes_changed()

    async def host_for_connection(self, namespace: str) -> HostProcess:
        """The host to hand a listener connection to: the next one in turn (connections, not
        runs, are what is balanced: a host's runs are its own), or with dedicated hosts the
        namespace's own."""
        if self.dedicated_hosts:
            return await self._pick_host(namespace)
        alive = [h for h in self._active if h.alive]
        if not alive:
            return await self._pick_host(namespace)
        return alive[next(self._next_host) % len(alive)]

    def warm(self, frame: dict[str, Any]) -> None:
        """Push a just-deployed function's route to every active host, to make an instance
        before its first request. Not with dedicated hosts: which host serves a namespace is
        settled by its first request."""
        if self.dedicated_hosts:
            return
        for host in self._active:
            if host.alive:
                host.send(frame)

    def claims(self, host: HostProcess, namespace: str) -> bool:
        """Whether ``host`` may run ``namespace``'s code (always, but with dedicated hosts)."""
        if not self.dedicated_hosts:
            return True
        owner = self._namespace_of.setdefault(host, namespace)
        return owner == namespace

    def count_listener_runs(self, host: HostProcess, runs: int) -> None:
        self._count_run(host, runs)

    # -- work -----------------------------------------------------------------------------------
    async def start_invocation(
        self,
        code: str,
        *,
        on_log: Callable[[LogEntry], None],
        limits: Limits | None = None,
        filename: str = "index.js",
        kind: Literal["script", "module"] = "script",
        env: Mapping[str, str] | None = None,
        request: HttpRequest | None = None,
        allow_hosts: Sequence[str] = (),
        map_error: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        bindings: Mapping[str, Binding] | None = None,
        scheduled: Mapping[str, Any] | None = None,
        instance: str | None = None,
        namespace: str = "default",
    ) -> Invocation:
        """Start a run; its ``response`` and ``outcome`` futures tell how it goes.

        ``code`` is a script, or for ``kind="module"`` the built script of a module function
        (see ``vortex.modules``), whose ``fetch`` handler gets ``request``, or whose
        ``scheduled`` handler gets ``scheduled`` as its event (a cron tick). A module run with
        an ``instance`` key reuses the module instance that the host keeps under that key (one
        per function version: same code, env and bindings), as a Worker's isolate does.
        ``namespace`` is whose code it is: with dedicated hosts, it runs only on a host of
        that namespace.
        """
        limits = limits or self.limits
        host = await self._pick_host(namespace)
        invocation = Invocation(
            next(self._ids),
            limits,
            on_log,
            tuple(allow_hosts),
            map_error=map_error,
            bindings=dict(bindings or {}),
        )
        invocation.host_pid = host.pid
        message: dict[str, Any] = {
            "t": "run",
            "id": invocation.id,
            "code": code,
            "limits": limits.to_json(),
            "filename": filename,
            "kind": kind,
            "env": dict(env or {}),
            "bindings": {name: dict(b.describe) for name, b in invocation.bindings.items()},
        }
        if request is not None:
            message["request"] = request.to_frame()
        if scheduled is not None:
            message["scheduled"] = dict(scheduled)
        if instance is not None:
            message["instance"] = instance
        host.run(invocation, message)
        self._count_run(host)
        # The host enforces the wall limit itself; this backstop only fires if it cannot.
        loop = asyncio.get_running_loop()
        backstop = loop.call_later(
            limits.wall_ms / 1000 + 2.0, self._backstop, host, invocation, limits.wall_ms
        )

        invocation.outcome.add_done_callback(lambda _: backstop.cancel())
        return invocation

    async def invoke(
        self,
        code: str,
        *,
        on_log: Callable[[LogEntry], None],
        limits: Limits | None = None,
        filename: str = "index.js",
        env: Mapping[str, str] | None = None,
        allow_hosts: Sequence[str] = (),
        namespace: str = "default",
    ) -> RunOutcome:
        """Run a script to its end."""
        invocation = await self.start_invocation(
            code,
            on_log=on_log,
            limits=limits,
            filename=filename,
            env=env,
            allow_hosts=allow_hosts,
            namespace=namespace,
        )
        return await invocation.outcome

    def _backstop(self, host: HostProcess, invocation: Invocation, wall_ms: int) -> None:
        host.forget(invocation.id)
        invocation.finish(
            RunOutcome(
                None,
                platform_error(WALL_TIME_EXCEEDED, f"Wall time limit of {wall_ms} ms exceeded"),
            )
        )

    async def check(self, code: str, namespace: str = "default") -> dict[str, Any] | None:
        """None if ``code`` compiles, else ``{"message", "line", "column"}``."""
        # A check has no effects, so one whose host died (another run's runaway, a crash) is
        # simply asked again of a live host. Compiling is handling the namespace's code too:
        # with dedicated hosts it happens on that namespace's host.
        for _ in range(3):
            host = await self._pick_host(namespace)
            try:
                return await host.check(next(self._ids), code)
            except HostStartError:
                continue
        raise PoolUnavailable("the host processes kept failing while checking the code")

    # -- hosts ----------------------------------------------------------------------------------
    async def _spawn(self) -> HostProcess:
        assert self._workdir is not None
        self._starting += 1
        try:
            host = await HostProcess.start(
                self.ses_path,
                self.webapi_path,
                self._workdir,
                self.requests.on_fetch,
                on_call=self.requests.on_call,
            )
        finally:
            self._starting -= 1
        if self.listening is not None and self._listen_frame is not None:
            host.listening = self.listening
            host.send(self._listen_frame)
        if self.cgroups is not None:
            # The cgroup counts what the host allocates from now on (its boot memory stays with
            # the server's cgroup): it stops the host at the same total as the watchdog would.
            allowance = max(self.host_memory_bytes - rss_bytes(host.pid), MIN_CGROUP_BYTES)
            cgroup = self.cgroups.create(allowance, self.host_memory_bytes)
            if cgroup is not None:
                try:
                    cgroup.add(host.pid)
                    host.cgroup = cgroup
                except OSError as exc:
                    log.warning("could not put host %s in its memory cgroup: %s", host.pid, exc)
                    cgroup.remove()
        return host

    def _adopt(self, host: HostProcess) -> None:
        self._place(host)
        self._spawn_task(self._watch_exit(host))

    def _place(self, host: HostProcess) -> None:
        if len(self._active) < self.size:
            self._active.append(host)
            self._host_joined.set()
        elif len(self._spare) < self.spares:
            self._spare.append(host)
        else:
            # Started for a gap that was filled meanwhile (a recycle and a refill after a kill
            # both replaced the same host): one host too many, stopped unused.
            self._retire(host, replaced=True)

    async def _pick_host(self, namespace: str) -> HostProcess:
        deadline = time.monotonic() + self.host_wait
        while True:
            if self.dedicated_hosts:
                found = self._dedicated_host(namespace)
                if found is not None:
                    self._last_used[found] = time.monotonic()
                    return found
            else:
                candidates = [h for h in self._active if h.alive]
                if candidates:
                    return min(candidates, key=lambda h: h.load)
            if self._closing:
                raise PoolUnavailable("the isolate pool is shutting down")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PoolUnavailable(
                    "no host process is available to run the function"
                    + (
                        f" (every host is dedicated to another namespace and busy; at most "
                        f"{self.size} namespaces run at once)"
                        if self.dedicated_hosts and self._active
                        else ""
                    )
                )
            self._host_joined.clear()
            # With dedicated hosts a host of another namespace going idle frees room too, and
            # nothing signals that: look again soon.
            wait = min(remaining, DEDICATED_POLL) if self.dedicated_hosts else remaining
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._host_joined.wait(), wait)

    def _dedicated_host(self, namespace: str) -> HostProcess | None:
        """A host for ``namespace`` that has run no other namespace's code, or None for now.

        Each namespace runs on one host at a time: its own if it has one; else a fresh host
        (one that has run nothing) is dedicated to it; else the least recently used idle host of
        another namespace is retired and a warm spare is dedicated in its place. When every host
        belongs to another namespace and is busy, the caller waits (``host_wait``).
        """
        alive = [h for h in self._active if h.alive]
        own = [h for h in alive if self._namespace_of.get(h) == namespace]
        if own:
            return min(own, key=lambda h: h.load)
        fresh = [h for h in alive if h not in self._namespace_of]
        if fresh:
            self._namespace_of[fresh[0]] = namespace
            return fresh[0]
        idle = [h for h in alive if h.load == 0 and not h.checks]
        if len(self._active) >= self.size and idle:
            self._retire(min(idle, key=lambda h: self._last_used.get(h, 0.0)))
        if len(self._active) < self.size:
            spare = self._take_spare()
            if spare is not None:
                self._active.append(spare)
                self._namespace_of[spare] = namespace
                return spare
        return None

    def _take_spare(self) -> HostProcess | None:
        while self._spare:
            spare = self._spare.pop(0)
            if spare.alive:
                self._spawn_task(self._refill())
                return spare
        return None

    # -- graceful retirement: recycling, and room for another namespace --------------------------
    def _count_run(self, host: HostProcess, runs: int = 1) -> None:
        served = self._served.get(host, 0) + runs
        self._served[host] = served
        if self.host_max_runs and served >= self.host_max_runs:
            self._maybe_recycle(host, f"it served {served} runs")

    def _maybe_recycle(self, host: HostProcess, why: str) -> None:
        # One at a time, so the pool never has more than one host starting for this reason.
        if self._recycling or self._closing or host not in self._active:
            return
        self._recycling = True
        self._spawn_task(self._recycle(host, why))

    async def _recycle(self, host: HostProcess, why: str) -> None:
        try:
            # The replacement is warm before the old host leaves: no run waits for a host.
            fresh = self._take_spare()
            if fresh is None:
                try:
                    fresh = await self._spawn()
                except HostStartError as exc:
                    log.error("could not start a host to recycle %s: %s", host.pid, exc)
                    return
                self._spawn_task(self._watch_exit(fresh))
            if self._closing:
                await fresh.close()
                return
            if host not in self._active or not host.alive:
                self._place(fresh)  # the host went meanwhile (killed at a limit)
                return
            self._active[self._active.index(host)] = fresh
            if host in self._namespace_of:
                # A host that has run nothing may go to the namespace the old one served.
                self._namespace_of[fresh] = self._namespace_of[host]
            self._host_joined.set()
            self._recycles += 1
            log.info("host %s recycled (%s); host %s took its place", host.pid, why, fresh.pid)
            self._retire(host, replaced=True)
        finally:
            self._recycling = False

    def _retire(self, host: HostProcess, *, replaced: bool = False) -> None:
        """No new run goes to ``host``; it stops once the runs it has are over."""
        if host in self._active:
            self._active.remove(host)
        # Its listener connections are told to close after their current request.
        host.send({"t": "drain"})
        if not replaced:
            self._recycles += 1
        self._namespace_of.pop(host, None)
        self._draining.add(host)
        self._spawn_task(self._drain(host))
        self._spawn_task(self._refill())

    async def _drain(self, host: HostProcess) -> None:
        # Runs end within their wall limit (the supervisor's backstop forgets them after it),
        # and the watchdog still watches a draining host's CPU and memory. Polled: a host's
        # handle has no "idle" event, and a few wake-ups per run's end cost nothing.
        while host.alive and (host.load or host.checks):  # noqa: ASYNC110
            await asyncio.sleep(DRAIN_POLL)
        # The host finishes the listener runs the supervisor does not know of before it exits.
        await host.close(grace=self.limits.wall_ms / 1000 + 1.0)

    async def _watch_exit(self, host: HostProcess) -> None:
        await host.exited.wait()
        self._namespace_of.pop(host, None)
        self._served.pop(host, None)
        self._last_used.pop(host, None)
        if self._closing:
            return
        if host in self._draining:
            self._draining.discard(host)
            if host.exit_reason is not None:
                # Killed at a limit while draining: a restart like any other, already replaced.
                self._restarts += 1
                log.warning("draining host %s was stopped (%s)", host.pid, host.exit_reason)
            return
        self._restarts += 1
        if host in self._active:
            self._active.remove(host)
            while self._spare and len(self._active) < self.size:
                spare = self._spare.pop(0)
                if spare.alive:
                    self._active.append(spare)
                    self._host_joined.set()
        elif host in self._spare:
            self._spare.remove(host)
        log.warning("host %s exited (%s); pool refilling", host.pid, host.exit_reason)
        self._spawn_task(self._refill())

    async def _refill(self) -> None:
        while not self._closing:
            missing = self.size + self.spares - len(self._active) - len(self._spare)
            if missing - self._starting <= 0:
                return
            try:
                host = await self._spawn()
            except HostStartError as exc:
                log.error("could not start a host process: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if self._closing:
                await host.close()
                return
            self._adopt(host)

    async def _watchdog(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            tick += 1
            now = time.monotonic()
            for host in self._serving():
                if not host.alive:
                    continue
                started, invocation, cpu_started = host.clock.read()
                if started and turn_overran(
                    host, self.limits, now, started, invocation, cpu_started
                ):
                    continue
                # A long turn is watched at every tick: one that allocates without end meets
                # its run's limit long before the next memory check.
                long_turn = started and now - started > WATCH_INTERVAL
                if long_turn and run_past_its_memory_in_a_turn(host, invocation):
                    continue
                if tick % MEMORY_CHECK_EVERY == 0:
                    rss = rss_bytes(host.pid)
                    host.clock.watch_memory(rss > self.host_memory_bytes * WATCH_MEMORY_FROM)
                    if rss > self.host_memory_bytes:
                        host.kill(
                            MEMORY_LIMIT_EXCEEDED,
                            f"memory limit exceeded: the host reached {rss >> 20} MiB "
                            f"(limit {self.host_memory_bytes >> 20} MiB) and was replaced",
                            host.memory_culprit(started, invocation),
                        )
                    elif (
                        self.host_recycle_bytes
                        and rss > self.host_recycle_bytes
                        and self._served.get(host, 0) > 0  # a fresh host is as small as any
                    ):
                        self._maybe_recycle(host, f"its memory reached {rss >> 20} MiB")

    def _spawn_task(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
