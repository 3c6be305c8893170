"""The watchdog: the supervisor's periodic look at every host, for what a host cannot do itself.

Limits a host cannot enforce on itself (a turn that does not take its interrupt, the host's own
memory) are enforced here by killing the host; the fleet (fleet.py) promotes a warm spare in its
place. What is read to decide is in backstop.py. A host that stops answering (stopped, or its
loop stuck between turns) is replaced the same way once it leaves a liveness ping unanswered
(liveness.py). A host past ``host_recycle_bytes`` is recycled gracefully instead.
"""

from __future__ import annotations

import asyncio
import time

from vortex.isolates.backstop import rss_bytes, run_past_its_memory_in_a_turn, turn_overran
from vortex.isolates.fleet import Fleet
from vortex.isolates.limits import Limits
from vortex.isolates.liveness import Liveness
from vortex.isolates.outcome import MEMORY_LIMIT_EXCEEDED

WATCH_INTERVAL = 0.05
MEMORY_CHECK_EVERY = 5  # watchdog ticks
PING_INTERVAL = 1.0
"""The default seconds between a host's answer and the next ping (``Liveness.interval``)."""
PING_DEADLINE = 5.0
"""The default seconds a host may leave a ping unanswered (``Liveness.deadline``)."""
WATCH_MEMORY_FROM = 0.5
"""Past this fraction of its memory limit a host measures which run grows it (turnclock.py)."""


class Watchdog:
    def __init__(
        self,
        fleet: Fleet,
        *,
        limits: Limits,
        liveness: Liveness,
        host_memory_bytes: int,
        host_recycle_bytes: int,
    ) -> None:
        self.fleet = fleet
        self.limits = limits
        self.liveness = liveness
        self.host_memory_bytes = host_memory_bytes
        self.host_recycle_bytes = host_recycle_bytes
        """Resident memory past which a host is recycled; 0: never."""

    async def run(self) -> None:
        """Every ``WATCH_INTERVAL``, until cancelled: turns, pings, and every few ticks memory."""
        fleet = self.fleet
        tick = 0
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            tick += 1
            now = time.monotonic()
            for host in fleet.spare:
                if host.alive:
                    self.liveness.check(host, now, host.clock.read()[0])
            for host in fleet.serving():
                if not host.alive:
                    continue
                started, invocation, cpu_started = host.clock.read()
                if started and turn_overran(
                    host, self.limits, now, started, invocation, cpu_started
                ):
                    continue
                if self.liveness.check(host, now, started):
                    continue
                # A long turn is watched at every tick: one that allocates without end meets
                # its run's limit long before the next memory check.
                long_turn = started and now - started > WATCH_INTERVAL
                if long_turn and run_past_its_memory_in_a_turn(host, invocation, started, now):
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
                        and fleet.served.get(host, 0) > 0  # a fresh host is as small as any
                    ):
                        fleet.maybe_recycle(host, f"its memory reached {rss >> 20} MiB")
