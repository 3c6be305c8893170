"""Which host runs what: a run, a check or a listener connection is given one of the fleet's
active hosts, waiting up to ``host_wait`` when there is none to give.

Shared hosts: a run goes to the least loaded host; a connection to the next host in turn
(connections, not runs, are what is balanced: the runs of a connection are its host's own).

Dedicated hosts: no host ever runs (or compiles) code of two namespaces. Each namespace runs on
one host at a time: its own if it has one; else a fresh host (one that has run nothing) is
dedicated to it; else the least recently used idle host of another namespace is retired and a
warm spare is dedicated in its place. When every host belongs to another namespace and is busy,
the caller waits for one to go idle, then gets ``pool_unavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

from vortex.errors import PoolUnavailable
from vortex.isolates.fleet import Fleet
from vortex.isolates.host_process import HostProcess

DEDICATED_POLL = 0.05


class Placement:
    def __init__(self, fleet: Fleet, *, dedicated_hosts: bool, host_wait: float) -> None:
        self.fleet = fleet
        self.dedicated_hosts = dedicated_hosts
        self.host_wait = host_wait
        """Seconds a run or check waits for a host before ``pool_unavailable``."""
        self._next_host = itertools.count()

    async def host_for(self, namespace: str) -> HostProcess:
        """The host for a run or check of ``namespace``'s code, once there is one."""
        fleet = self.fleet
        deadline = time.monotonic() + self.host_wait
        while True:
            if self.dedicated_hosts:
                found = self._dedicated_host(namespace)
                if found is not None:
                    fleet.last_used[found] = time.monotonic()
                    return found
            else:
                candidates = [h for h in fleet.active if h.alive]
                if candidates:
                    return min(candidates, key=lambda h: h.load)
            if fleet.closing:
                raise PoolUnavailable("the isolate pool is shutting down")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PoolUnavailable(
                    "no host process is available to run the function"
                    + (
                        f" (every host is dedicated to another namespace and busy; at most "
                        f"{fleet.size} namespaces run at once)"
                        if self.dedicated_hosts and fleet.active
                        else ""
                    )
                )
            fleet.host_joined.clear()
            # With dedicated hosts a host of another namespace going idle frees room too, and
            # nothing signals that: look again soon.
            wait = min(remaining, DEDICATED_POLL) if self.dedicated_hosts else remaining
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fleet.host_joined.wait(), wait)

    def host_for_connection_now(self, namespace: str) -> HostProcess | None:
        """The host for a listener connection of ``namespace`` if one can be named without
        waiting, else None: the next in turn, or with dedicated hosts the namespace's own."""
        if self.dedicated_hosts:
            found = self._dedicated_host(namespace)
            if found is not None:
                self.fleet.last_used[found] = time.monotonic()
            return found
        alive = [h for h in self.fleet.active if h.alive]
        if not alive:
            return None
        return alive[next(self._next_host) % len(alive)]

    def claims(self, host: HostProcess, namespace: str) -> bool:
        """Whether ``host`` may run ``namespace``'s code (always, but with dedicated hosts)."""
        if not self.dedicated_hosts:
            return True
        owner = self.fleet.namespace_of.setdefault(host, namespace)
        return owner == namespace

    def _dedicated_host(self, namespace: str) -> HostProcess | None:
        """A host for ``namespace`` that has run no other namespace's code, or None for now."""
        fleet = self.fleet
        alive = [h for h in fleet.active if h.alive]
        own = [h for h in alive if fleet.namespace_of.get(h) == namespace]
        if own:
            return min(own, key=lambda h: h.load)
        fresh = [h for h in alive if h not in fleet.namespace_of]
        if fresh:
            fleet.namespace_of[fresh[0]] = namespace
            return fresh[0]
        idle = [h for h in alive if h.load == 0 and not h.checks]
        if len(fleet.active) >= fleet.size and idle:
            fleet.retire(min(idle, key=lambda h: fleet.last_used.get(h, 0.0)))
        spare = fleet.activate_spare()
        if spare is not None:
            fleet.namespace_of[spare] = namespace
        return spare
