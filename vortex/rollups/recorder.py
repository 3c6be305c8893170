"""``RollupRecorder``: counts each finished run into its function's buckets, off the run's path.

``observe`` is called once per run by the run service (a few dict increments, no I/O); the
counts wait in memory and a background task adds them to the store every ``FLUSH_SECONDS``, in
one batch (one Redis pipeline), however many runs ended meanwhile: listener runs, whose records
hosts send in batches, cost the store nothing per run. A read flushes first, so that a chart
asked for on this node shows every run this node has seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable

from vortex.rollups.base import TIERS, Bucket, RollupStore, Slot
from vortex.rollups.sketch import CPU, ERRORS, RUNS, WALL, index_of

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
MAX_PENDING = 20_000
"""Buckets waiting at most: past it, a flush is started at once rather than at the next tick."""


class RollupRecorder:
    def __init__(self, store: RollupStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._pending: dict[Slot, Bucket] = {}
        self._task: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()
        self._early: set[asyncio.Task[None]] = set()

    def observe(self, key: str, at: float, ok: bool, wall_ms: float, cpu_ms: float | None) -> None:
        fields = [RUNS, f"{WALL}{index_of(wall_ms)}"]
        if not ok:
            fields.append(ERRORS)
        if cpu_ms is not None:
            fields.append(f"{CPU}{index_of(cpu_ms)}")
        for tier, span in TIERS.items():
            bucket = self._pending.setdefault((key, tier, math.floor(at / span)), {})
            for field in fields:
                bucket[field] = bucket.get(field, 0) + 1
        if len(self._pending) > MAX_PENDING and self._task is not None and not self._early:
            early = asyncio.get_running_loop().create_task(self.flush())
            self._early.add(early)
            early.add_done_callback(self._early.discard)

    async def flush(self) -> None:
        async with self._flushing:
            pending, self._pending = self._pending, {}
            if pending:
                await self.store.add(pending)

    async def read(self, key: str, tier: str, numbers: list[int]) -> list[Bucket]:
        await self.flush()
        return await self.store.read(key, tier, numbers)

    async def forget(self, key: str) -> None:
        """A deleted function: its buckets go, those waiting here too."""
        for slot in [s for s in self._pending if s[0] == key]:
            del self._pending[slot]
        await self.store.forget(key, self.clock())

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                # The charts may miss a second of runs; the server must not miss its flushes.
                log.exception("could not write the rollups of runs")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
        await self.store.close()
