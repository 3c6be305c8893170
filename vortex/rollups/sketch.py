"""Times as counts in log-scale buckets, so that minutes add up and quantiles come out of sums.

A run's wall or CPU time falls in bucket ``i`` when ``FLOOR_MS·R^i <= ms < FLOOR_MS·R^(i+1)``,
with ``R = 2^(1/4)`` (four buckets per doubling): a quantile read back is the bucket's geometric
middle, within 9.1% (2^(1/8) - 1) of the true value, whatever the spread of the times. Counts of
two minutes, or of two nodes, are merged by adding them field by field, as Redis's ``HINCRBY``
does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

FLOOR_MS = 0.01
STEPS_PER_DOUBLING = 4
MAX_INDEX = 127
"""Bucket 127 starts at 0.01 ms · 2^31.75, about 9 hours: past any wall-time limit."""
RUNS = "n"
ERRORS = "e"
WALL = "w"
CPU = "c"


def index_of(ms: float) -> int:
    if not ms > FLOOR_MS:  # also NaN
        return 0
    return min(MAX_INDEX, int(math.log2(ms / FLOOR_MS) * STEPS_PER_DOUBLING))


def middle_of(index: int) -> float:
    return float(FLOOR_MS * 2 ** ((index + 0.5) / STEPS_PER_DOUBLING))


def quantiles(counts: Mapping[int, int], qs: Sequence[float]) -> list[float | None]:
    """The ``qs`` quantiles of times counted by bucket index; None for each when none."""
    found = sorted((index, count) for index, count in counts.items() if count > 0)
    total = sum(count for _, count in found)
    if total == 0:
        return [None for _ in qs]
    answers: list[float | None] = []
    for q in qs:
        rank, seen, chosen = q * total, 0, found[-1][0]
        for index, count in found:
            seen += count
            if seen >= rank:
                chosen = index
                break
        answers.append(round(middle_of(chosen), 3))
    return answers


@dataclass
class Figures:
    """One bucket (or a sum of them), read: its counters, and its times by bucket index."""

    runs: int = 0
    errors: int = 0
    wall: dict[int, int] = field(default_factory=dict)
    cpu: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, bucket: Mapping[str, int]) -> Figures:
        figures = cls(bucket.get(RUNS, 0), bucket.get(ERRORS, 0))
        for name, count in bucket.items():
            kind, digits = name[:1], name[1:]
            if digits.isdigit():
                if kind == WALL:
                    figures.wall[int(digits)] = count
                elif kind == CPU:
                    figures.cpu[int(digits)] = count
        return figures

    def add(self, other: Figures) -> None:
        self.runs += other.runs
        self.errors += other.errors
        for mine, theirs in ((self.wall, other.wall), (self.cpu, other.cpu)):
            for index, count in theirs.items():
                mine[index] = mine.get(index, 0) + count

    def to_json(self) -> dict[str, int | float | None]:
        wall_p50, wall_p99 = quantiles(self.wall, (0.5, 0.99))
        cpu_p50, cpu_p99 = quantiles(self.cpu, (0.5, 0.99))
        return {
            "requests": self.runs,
            "errors": self.errors,
            "wall_p50_ms": wall_p50,
            "wall_p99_ms": wall_p99,
            "cpu_p50_ms": cpu_p50,
            "cpu_p99_ms": cpu_p99,
        }


def total_of(buckets: Iterable[Figures]) -> Figures:
    total = Figures()
    for figures in buckets:
        total.add(figures)
    return total
