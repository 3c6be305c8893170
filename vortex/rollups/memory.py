"""Rollups in this process's memory: one node's runs, gone at restart (as its history is).

Bounded: ``MAX_FUNCTIONS`` functions (the least recently run are forgotten first), each with at
most the buckets its tiers keep (``base.slots_kept``: 66 + 147). A bucket is kept packed, as an
array of (field code, count) pairs, not as a dict of strings: measured, 100 functions each run
ten times a minute for a day with times spread evenly over 1-50 ms (some 45 counters a bucket)
take 11 MB (107 KiB a function), where dicts took 49 MB. Times of a real function spread over
fewer buckets, and so take less.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence

from vortex.cache import BoundedCache
from vortex.health import BackendHealth
from vortex.rollups.base import TIERS, Bucket, Slot, slots_kept
from vortex.rollups.sketch import CPU, ERRORS, MAX_INDEX, RUNS, WALL

MAX_FUNCTIONS = 1_000
_CPU_BASE = 2 + MAX_INDEX + 1


def _code(field: str) -> int:
    if field == RUNS:
        return 0
    if field == ERRORS:
        return 1
    index = int(field[1:])
    return 2 + index if field[0] == WALL else _CPU_BASE + index


def _field(code: int) -> str:
    if code == 0:
        return RUNS
    if code == 1:
        return ERRORS
    return f"{WALL}{code - 2}" if code < _CPU_BASE else f"{CPU}{code - _CPU_BASE}"


def _unpack(packed: array[int]) -> dict[int, int]:
    return dict(zip(packed[::2], packed[1::2], strict=True))


def _pack(counts: dict[int, int]) -> array[int]:
    packed = array("I")
    for code in sorted(counts):
        packed.extend((code, counts[code]))
    return packed


class MemoryRollupStore:
    def __init__(self, max_functions: int = MAX_FUNCTIONS) -> None:
        self._functions: BoundedCache[str, dict[tuple[str, int], array[int]]] = BoundedCache(
            max_functions
        )

    async def add(self, increments: Mapping[Slot, Bucket]) -> None:
        for (key, tier, number), counts in increments.items():
            buckets = self._functions.get(key)
            if buckets is None:
                buckets = {}
                self._functions.put(key, buckets)
            old = buckets.get((tier, number))
            merged = _unpack(old) if old is not None else {}
            for field, count in counts.items():
                code = _code(field)
                merged[code] = merged.get(code, 0) + count
            buckets[(tier, number)] = _pack(merged)
            self._prune(buckets, tier, number)

    @staticmethod
    def _prune(buckets: dict[tuple[str, int], array[int]], tier: str, newest: int) -> None:
        if sum(1 for t, _ in buckets if t == tier) <= slots_kept(tier):
            return
        oldest = newest - slots_kept(tier) + 1
        for slot in [s for s in buckets if s[0] == tier and s[1] < oldest]:
            del buckets[slot]

    async def read(self, key: str, tier: str, numbers: Sequence[int]) -> list[Bucket]:
        if tier not in TIERS:
            raise ValueError(f"no tier {tier!r}")
        buckets = self._functions.get(key) or {}
        found = []
        for number in numbers:
            packed = buckets.get((tier, number))
            found.append(
                {} if packed is None else {_field(c): n for c, n in _unpack(packed).items()}
            )
        return found

    async def forget(self, key: str, now: float) -> None:
        self._functions.discard(key)

    async def health(self) -> BackendHealth:
        return BackendHealth("memory", True, None, {})

    async def close(self) -> None:
        return None
