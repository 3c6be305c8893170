"""Where a scheduler learns which functions have which schedule.

A ``ScheduleSource`` answers with the whole current map (function id → its cron expression, or a
tuple of them when it has several) each time it is asked; the scheduler asks once per pass, so a
schedule deployed through any node is picked up within one refresh interval by every node.
``MemorySchedules`` is for tests and for embedding; the store-backed source reads the schedules
saved with function records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

Schedules = str | tuple[str, ...]
"""One expression, or several: each fires on its own."""


def as_tuple(schedules: Schedules) -> tuple[str, ...]:
    return (schedules,) if isinstance(schedules, str) else schedules


class ScheduleSource(Protocol):
    async def schedules(self) -> Mapping[str, Schedules]: ...


class MemorySchedules:
    def __init__(self, schedules: Mapping[str, Schedules] | None = None) -> None:
        self._schedules: dict[str, Schedules] = dict(schedules or {})

    def set(self, function_id: str, expression: Schedules) -> None:
        self._schedules[function_id] = expression

    def remove(self, function_id: str) -> None:
        self._schedules.pop(function_id, None)

    async def schedules(self) -> Mapping[str, Schedules]:
        return dict(self._schedules)
