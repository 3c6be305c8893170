"""The pool of host processes, as the rest of the server sees it: start and close it, run code
on it (``start_invocation``, ``invoke``, ``check``), let its hosts serve the functions listener,
and read its ``stats()``.

It lives in the server process and never imports pythonmonkey (nor aiohttp). It sends runs and
checks to the host placement names, with the wall-time backstop of each run, and wires the parts
that keep the hosts, each in a module of its own:

    launcher.py    starting one host: its boot files, the turn clocks' directory, its cgroup
    fleet.py       the hosts' lives: active, spare, draining; replaced, recycled, retired
    placement.py   which host runs what, dedicated hosts, waiting for a host (``host_wait``)
    watchdog.py    the periodic look at every host: turns past their limits, pings, memory

What a run asks of the supervisor while it runs (fetch, KV) is answered by runrequests.py.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vortex.errors import PoolUnavailable
from vortex.isolates.bindings import Binding, Subrequests
from vortex.isolates.cgroups import HostCgroups
from vortex.isolates.exchange import HttpRequest
from vortex.isolates.fleet import Fleet
from vortex.isolates.host_process import HostProcess, HostStartError, Listening
from vortex.isolates.invocation import Invocation
from vortex.isolates.launcher import HostLauncher, default_ses_path, default_webapi_path
from vortex.isolates.limits import Limits
from vortex.isolates.liveness import Liveness
from vortex.isolates.outcome import WALL_TIME_EXCEEDED, LogEntry, RunOutcome, platform_error
from vortex.isolates.placement import Placement
from vortex.isolates.protocol import Listen, Run, Warm
from vortex.isolates.runrequests import RunRequests
from vortex.isolates.subrequests import Fetcher, refuse_all
from vortex.isolates.watchdog import PING_DEADLINE, PING_INTERVAL, Watchdog


@dataclass(frozen=True, slots=True)
class PoolStats:
    active_workers: int
    max_workers: int
    spare_workers: int
    running: int
    host_restarts: int
    host_recycles: int = 0
    """Hosts retired gracefully (run count, memory, or room for another namespace)."""
    busy_hosts: int = 0
    """Active hosts with at least one of the runs counted in ``running``: busy against
    ``active_workers`` is how much of the pool is in use, which ``running`` alone hides when
    hosts take several runs at once."""


class IsolatePool:
    """``size`` active hosts and ``spares`` warm ones. The settings are read when the pool is
    made and handed to its parts, which keep them: the attributes here are for reading."""

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
        liveness: Liveness | None = None,
    ) -> None:
        # Each setting is given to the part that uses it; the pool keeps only what its callers
        # read (limits, dedicated_hosts, requests).
        self.limits = limits or Limits()
        self.requests = RunRequests(fetcher or refuse_all)
        self.dedicated_hosts = dedicated_hosts
        """No host ever runs code of two namespaces: see placement.py."""
        launcher = HostLauncher(
            ses_path or default_ses_path(),
            webapi_path or default_webapi_path(),
            self.requests,
            host_memory_bytes=host_memory_bytes,
            cgroups=cgroups,
        )
        self._fleet = Fleet(
            launcher, size=size, spares=spares, limits=self.limits, host_max_runs=host_max_runs
        )
        self._placement = Placement(
            self._fleet, dedicated_hosts=dedicated_hosts, host_wait=host_wait
        )
        self._watchdog = Watchdog(
            self._fleet,
            limits=self.limits,
            liveness=liveness or Liveness(PING_INTERVAL, PING_DEADLINE),
            host_memory_bytes=host_memory_bytes,
            host_recycle_bytes=host_recycle_bytes,
        )
        self._ids = itertools.count(1)

    @property
    def listening(self) -> Listening | None:
        """Set when the functions listener is on: hosts ask it for routes and tell it of runs."""
        return self._fleet.listening

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._fleet.start()
        self._fleet.spawn_task(self._watchdog.run())

    async def close(self) -> None:
        await self._fleet.close()

    def stats(self) -> PoolStats:
        fleet = self._fleet
        return PoolStats(
            active_workers=sum(1 for h in fleet.active if h.alive),
            max_workers=fleet.size,
            spare_workers=sum(1 for h in fleet.spare if h.alive),
            running=sum(h.load for h in fleet.serving()),
            host_restarts=fleet.restarts,
            host_recycles=fleet.recycles,
            busy_hosts=sum(1 for h in fleet.active if h.alive and h.load > 0),
        )

    def host_pids(self) -> list[int]:
        return [h.pid for h in self._fleet.hosts()]

    def active_hosts(self) -> list[HostProcess]:
        """The hosts that take runs and connections now (not the spares, nor those draining)."""
        return list(self._fleet.active)

    # -- the functions listener ---------------------------------------------------------------
    def listen(self, listening: Listening, frame: Listen) -> None:
        """Let hosts serve the functions listener: ``frame`` is their ``listen`` settings."""
        self._fleet.listen(listening, frame)

    def routes_changed(self) -> None:
        """A name means another version now, or a function is gone: before this returns,
        every host knows its routes are stale (turnclock.py)."""
        for host in self._fleet.hosts():
            if host.alive:
                host.clock.routes_changed()

    async def host_for_connection(self, namespace: str) -> HostProcess:
        """The host to hand a listener connection to: the next one in turn (connections, not
        runs, are what is balanced: a host's runs are its own), or with dedicated hosts the
        namespace's own."""
        return self.host_for_connection_now(namespace) or await self._placement.host_for(namespace)

    def next_host(self) -> HostProcess | None:
        """The active host to take the next listener connection, in turn (without dedicated
        hosts, any host serves any function)."""
        return self._placement.host_for_connection_now("")

    async def wait_for_host(self) -> HostProcess:
        """An active host, once there is one (``next_host`` had none: all being replaced)."""
        return await self._placement.host_for("")

    def handoffs_waiting(self) -> int:
        """Listener connections waiting for their host to take them."""
        return sum(h.handoffs.waiting for h in self._fleet.hosts() if h.handoffs is not None)

    def host_for_connection_now(self, namespace: str) -> HostProcess | None:
        """``host_for_connection`` when a host can be named without waiting, else None."""
        return self._placement.host_for_connection_now(namespace)

    def warm(self, frame: Warm) -> None:
        """Push a just-deployed function's route to every active host, to make an instance
        before its first request. Not with dedicated hosts: which host serves a namespace is
        settled by its first request."""
        if self.dedicated_hosts:
            return
        for host in self._fleet.active:
            if host.alive:
                host.send(frame)

    def claims(self, host: HostProcess, namespace: str) -> bool:
        """Whether ``host`` may run ``namespace``'s code (always, but with dedicated hosts)."""
        return self._placement.claims(host, namespace)

    def count_listener_runs(self, host: HostProcess, runs: int) -> None:
        self._fleet.count_run(host, runs)

    # -- work -----------------------------------------------------------------------------------
    async def start_invocation(
        self,
        code: str,
        *,
        on_log: Callable[[LogEntry], None],
        limits: Limits | None = None,
        filename: str = "index.js",
        kind: Literal["script", "module", "service-worker"] = "script",
        env: Mapping[str, str] | None = None,
        request: HttpRequest | None = None,
        allow_hosts: Sequence[str] = (),
        map_error: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        bindings: Mapping[str, Binding] | None = None,
        scheduled: Mapping[str, Any] | None = None,
        instance: str | None = None,
        namespace: str = "default",
        hops: int = 0,
        rpc: Mapping[str, Any] | None = None,
        subrequests: Subrequests | None = None,
        entrypoint: str | None = None,
        props: Mapping[str, Any] | None = None,
    ) -> Invocation:
        """Start a run; its ``response`` and ``outcome`` futures tell how it goes.

        ``code`` is a script, or for ``kind="module"`` the built script of a module function
        (see ``vortex.modules``), whose ``fetch`` handler gets ``request``, or whose
        ``scheduled`` handler gets ``scheduled`` as its event (a cron tick). A module run with
        an ``instance`` key reuses the module instance that the host keeps under that key (one
        per function version: same code, env and bindings), as a Worker's isolate does.
        ``kind="service-worker"`` is a script in that syntax (``vortex.serviceworker``): it gets
        ``request`` or ``scheduled`` and ``instance`` as a module does.
        ``namespace`` is whose code it is: with dedicated hosts, it runs only on a host of
        that namespace. ``entrypoint`` names the module's export that gets ``request`` or
        ``rpc`` instead of its default export, and ``props`` is its ``ctx.props``.
        """
        limits = limits or self.limits
        host = await self._placement.host_for(namespace)
        invocation = Invocation(
            next(self._ids),
            limits,
            on_log,
            tuple(allow_hosts),
            map_error=map_error,
            bindings=dict(bindings or {}),
        )
        if subrequests is not None:
            invocation.subrequests = subrequests
        invocation.host_pid = host.pid
        message = Run(
            invocation.id,
            code,
            limits,
            filename,
            kind,
            dict(env or {}),
            {name: dict(b.describe) for name, b in invocation.bindings.items()},
            request,
            None if scheduled is None else dict(scheduled),
            instance or "",
            hops,
            None if rpc is None else dict(rpc),
            entrypoint or "",
            None if props is None else dict(props),
        )
        host.run(invocation, message)
        self._fleet.count_run(host)
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
            host = await self._placement.host_for(namespace)
            try:
                return await host.check(next(self._ids), code)
            except HostStartError:
                continue
        raise PoolUnavailable("the host processes kept failing while checking the code")
