"""The pool's host processes and their lives: started, placed, replaced, recycled, retired.

``size`` hosts are active (they take runs and connections) and ``spares`` more wait warm behind
them. A host that exits (crashed, or killed at a limit by the watchdog) is replaced at once by a
spare, and a new spare is started behind it; those exits are counted as restarts.

Hosts are also retired gracefully: recycled after ``host_max_runs`` runs or once their memory
passes ``host_recycle_bytes`` (pythonmonkey keeps a few KB of every run), and, with dedicated
hosts, when an idle host of one namespace must make room for another (placement.py). A retired
host takes no new run, finishes the ones it has, and then stops; a warm host has already taken
its place. Those are counted as recycles, never as restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from vortex.isolates.host_process import HostProcess, HostStartError, Listening
from vortex.isolates.launcher import HostLauncher
from vortex.isolates.limits import Limits
from vortex.isolates.protocol import Drain, Listen

# The hosts' lines keep the logger name they had when this was part of pool.py: operators filter
# on it (docs/logging.md).
log = logging.getLogger("vortex.isolates.pool")

DRAIN_POLL = 0.05


class Fleet:
    """The hosts: ``active`` take work, ``spare`` wait warm, ``draining`` finish their last runs."""

    def __init__(
        self,
        launcher: HostLauncher,
        *,
        size: int,
        spares: int,
        limits: Limits,
        host_max_runs: int,
    ) -> None:
        self.launcher = launcher
        self.size = size
        self.spares = spares
        self.limits = limits
        """The pool's limits: a draining host is given its wall time to finish its runs."""
        self.host_max_runs = host_max_runs
        """Runs after which a host is recycled; 0: never."""
        self.active: list[HostProcess] = []
        self.spare: list[HostProcess] = []
        self.draining: set[HostProcess] = set()
        self.host_joined = asyncio.Event()
        """Set when a host becomes active: runs waiting for one look again."""
        self.restarts = 0
        self.recycles = 0
        self.namespace_of: dict[HostProcess, str] = {}
        """With dedicated hosts: the namespace whose code a host has run (its only one). Set by
        placement.py; a recycled host's replacement inherits it; it goes with its host."""
        self.served: dict[HostProcess, int] = {}
        """Runs each host has been given, for ``host_max_runs``."""
        self.last_used: dict[HostProcess, float] = {}
        """With dedicated hosts: when each host was last chosen (the least recent makes room)."""
        self.listening: Listening | None = None
        self._listen_frame: Listen | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._starting = 0
        self._closing = False
        self._recycling = False

    @property
    def closing(self) -> bool:
        return self._closing

    def hosts(self) -> list[HostProcess]:
        """Every host, whatever its state: active, spare, draining."""
        return self.active + self.spare + list(self.draining)

    def serving(self) -> list[HostProcess]:
        """Hosts that may have runs: the active ones and those draining their last runs."""
        return self.active + list(self.draining)

    async def start(self) -> None:
        self.launcher.open()
        hosts = await asyncio.gather(
            *(self._spawn() for _ in range(self.size + self.spares)), return_exceptions=True
        )
        for host in hosts:
            if isinstance(host, BaseException):
                await self.close()
                raise host
            self._adopt(host)

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hosts = self.hosts()
        self.active, self.spare = [], []
        self.draining.clear()
        await asyncio.gather(*(host.close() for host in hosts))
        self.launcher.close()

    def listen(self, listening: Listening, frame: Listen) -> None:
        """Let every host, and every host started from now on, serve the functions listener."""
        self.listening = listening
        self._listen_frame = frame
        for host in self.hosts():
            host.listening = listening
            host.send(frame)

    def spawn_task(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run ``coroutine`` until it ends or the pool closes."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def take_spare(self) -> HostProcess | None:
        """A live spare, out of the spares (a new one is started behind it), or None."""
        while self.spare:
            spare = self.spare.pop(0)
            if spare.alive:
                self.spawn_task(self._refill())
                return spare
        return None

    def activate_spare(self) -> HostProcess | None:
        """A live spare made active, if an active place is free, or None."""
        if len(self.active) < self.size:
            spare = self.take_spare()
            if spare is not None:
                self.active.append(spare)
                return spare
        return None

    # -- starting hosts -------------------------------------------------------------------------
    async def _spawn(self) -> HostProcess:
        self._starting += 1
        try:
            host = await self.launcher.start()
        finally:
            self._starting -= 1
        if self.listening is not None and self._listen_frame is not None:
            host.listening = self.listening
            host.send(self._listen_frame)
        self.launcher.limit_memory(host)
        return host

    def _adopt(self, host: HostProcess) -> None:
        self._place(host)
        self.spawn_task(self._watch_exit(host))

    def _place(self, host: HostProcess) -> None:
        if len(self.active) < self.size:
            self.active.append(host)
            self.host_joined.set()
        elif len(self.spare) < self.spares:
            self.spare.append(host)
        else:
            # Started for a gap that was filled meanwhile (a recycle and a refill after a kill
            # both replaced the same host): one host too many, stopped unused.
            self.retire(host, replaced=True)

    async def _refill(self) -> None:
        while not self._closing:
            missing = self.size + self.spares - len(self.active) - len(self.spare)
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

    # -- graceful retirement: recycling, and room for another namespace --------------------------
    def count_run(self, host: HostProcess, runs: int = 1) -> None:
        served = self.served.get(host, 0) + runs
        self.served[host] = served
        if self.host_max_runs and served >= self.host_max_runs:
            self.maybe_recycle(host, f"it served {served} runs")

    def maybe_recycle(self, host: HostProcess, why: str) -> None:
        """Replace an active ``host`` by a warm one and retire it, unless a recycle is under way."""
        # One at a time, so the pool never has more than one host starting for this reason.
        if self._recycling or self._closing or host not in self.active:
            return
        self._recycling = True
        self.spawn_task(self._recycle(host, why))

    async def _recycle(self, host: HostProcess, why: str) -> None:
        try:
            # The replacement is warm before the old host leaves: no run waits for a host.
            fresh = self.take_spare()
            if fresh is None:
                try:
                    fresh = await self._spawn()
                except HostStartError as exc:
                    log.error("could not start a host to recycle %s: %s", host.pid, exc)
                    return
                self.spawn_task(self._watch_exit(fresh))
            if self._closing:
                await fresh.close()
                return
            if host not in self.active or not host.alive:
                self._place(fresh)  # the host went meanwhile (killed at a limit)
                return
            self.active[self.active.index(host)] = fresh
            if host in self.namespace_of:
                # A host that has run nothing may go to the namespace the old one served.
                self.namespace_of[fresh] = self.namespace_of[host]
            self.host_joined.set()
            self.recycles += 1
            log.info("host %s recycled (%s); host %s took its place", host.pid, why, fresh.pid)
            self.retire(host, replaced=True)
        finally:
            self._recycling = False

    def retire(self, host: HostProcess, *, replaced: bool = False) -> None:
        """No new run goes to ``host``; it stops once the runs it has are over."""
        if host in self.active:
            self.active.remove(host)
        # Its listener connections are told to close after their current request.
        host.send(Drain())
        if not replaced:
            self.recycles += 1
        self.namespace_of.pop(host, None)
        self.draining.add(host)
        self.spawn_task(self._drain(host))
        self.spawn_task(self._refill())

    async def _drain(self, host: HostProcess) -> None:
        # Runs end within their wall limit (the supervisor's backstop forgets them after it),
        # and the watchdog still watches a draining host's CPU and memory. Polled: a host's
        # handle has no "idle" event, and a few wake-ups per run's end cost nothing.
        # Connections handed to it before it was retired may still wait in its queue (a burst
        # leaves hundreds): they go to it before it is told to finish.
        while host.alive and (  # noqa: ASYNC110
            host.load or host.checks or (host.handoffs is not None and host.handoffs.waiting)
        ):
            await asyncio.sleep(DRAIN_POLL)
        # The host finishes the listener runs the supervisor does not know of before it exits.
        await host.close(grace=self.limits.wall_ms / 1000 + 1.0)

    # -- exits ----------------------------------------------------------------------------------
    async def _watch_exit(self, host: HostProcess) -> None:
        await host.exited.wait()
        self.namespace_of.pop(host, None)
        self.served.pop(host, None)
        self.last_used.pop(host, None)
        if self._closing:
            return
        if host in self.draining:
            self.draining.discard(host)
            if host.exit_reason is not None:
                # Killed at a limit while draining: a restart like any other, already replaced.
                self.restarts += 1
                log.warning("draining host %s was stopped (%s)", host.pid, host.exit_reason)
            return
        self.restarts += 1
        if host in self.active:
            self.active.remove(host)
            while self.spare and len(self.active) < self.size:
                spare = self.spare.pop(0)
                if spare.alive:
                    self.active.append(spare)
                    self.host_joined.set()
        elif host in self.spare:
            self.spare.remove(host)
        log.warning("host %s exited (%s); pool refilling", host.pid, host.exit_reason)
        self.spawn_task(self._refill())
