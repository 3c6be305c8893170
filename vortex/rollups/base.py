"""Where rollups are kept: the counts of each function's runs, per minute and per ten minutes.

A bucket is a small map of counters: ``n`` runs, ``e`` errors, ``w<i>`` and ``c<i>`` runs whose
wall and CPU time fell in log-scale bucket ``i`` (``vortex.rollups.sketch``). Two tiers:

- ``m``, one bucket per minute, kept ``MINUTES_KEPT`` minutes: the last hour's chart;
- ``t``, one per ten minutes, kept a day and a bit: the last day's chart (144 points).

Every run is added to both: a day of minutes would be 1,440 buckets a function to keep and to
read, the tiers are 60 + 144. Kept in Redis when configured (every node adds to the same
counters), else in this process's memory, as the invocation history is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from vortex.health import BackendHealth

Bucket = dict[str, int]
MINUTE = "m"
TEN_MINUTES = "t"
TIERS: Mapping[str, int] = {MINUTE: 60, TEN_MINUTES: 600}
"""Tier → the seconds one bucket spans."""
KEPT_SECONDS: Mapping[str, int] = {MINUTE: 65 * 60, TEN_MINUTES: 24 * 3600 + 20 * 60}
"""How long a bucket is kept: its window, and a few minutes of slack for late records."""

Slot = tuple[str, str, int]
"""(history key, tier, bucket number: the Unix time of its start divided by its span)."""


def slots_kept(tier: str) -> int:
    return KEPT_SECONDS[tier] // TIERS[tier] + 1


class RollupStore(Protocol):
    async def add(self, increments: Mapping[Slot, Bucket]) -> None:
        """Add each counter to its bucket (best effort: a failure is logged, not raised)."""
        ...

    async def read(self, key: str, tier: str, numbers: Sequence[int]) -> list[Bucket]:
        """The buckets of one function, in the order asked; an empty map for a bucket with no
        runs."""
        ...

    async def forget(self, key: str, now: float) -> None: ...

    async def health(self) -> BackendHealth: ...

    async def close(self) -> None: ...
