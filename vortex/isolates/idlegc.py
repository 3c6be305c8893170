"""A host collects its garbage once it has been idle for a moment.

SpiderMonkey collects when its heuristics say so, not when a host stops working: a host left
idle after a thousand runs kept what they dropped, and its resident size (by which the
supervisor measures hosts, and an operator the machine) was 100 to 175 MiB depending on where
the last collection happened to fall (tests/hardening/test_load.py saw both, same load). V8 does
the same work when an isolate goes quiet (its memory reducer). One collection with the heap
trimmed costs 10-90 ms of the host's CPU (a heap of 100-450 MiB), taken only when no run is
going, and at most once per quiet spell: a host under steady load is never idle for
``IDLE_BEFORE_COLLECTING``, and a host that ran nothing since its last collection is not
collected again.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable

IDLE_BEFORE_COLLECTING = 1.1
"""Seconds without a run before the host collects. Over a second, because SpiderMonkey keeps its
empty chunks through a collection that comes within a second of the last one (its
high-frequency mode, ``JSGC_HIGH_FREQUENCY_TIME_LIMIT``): after runs that allocated 450 MiB and
dropped it, a collection 0.6 s later left the process at 421 MiB, one 1.1 s later at 64 MiB."""


class IdleCollector:
    def __init__(self, collect: Callable[[], object], busy: Callable[[], bool]) -> None:
        self._collect = collect
        self._busy = busy
        self._last_end = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def run_ended(self) -> None:
        """Called as each run ends: one timer per quiet spell, not one per run."""
        self._last_end = time.monotonic()
        if self._timer is None:
            self._arm(IDLE_BEFORE_COLLECTING)

    def _arm(self, delay: float) -> None:
        # Outside any run's context: the turn clock drops callbacks of runs that have ended.
        self._timer = asyncio.get_running_loop().call_later(
            delay, self._check, context=contextvars.Context()
        )

    def _check(self) -> None:
        quiet_for = time.monotonic() - self._last_end
        if self._busy() or quiet_for < IDLE_BEFORE_COLLECTING:
            self._arm(max(IDLE_BEFORE_COLLECTING - quiet_for, IDLE_BEFORE_COLLECTING / 4))
            return
        self._timer = None
        self._collect()
