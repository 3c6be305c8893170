"""A function's chart data over a window, from its rollups (``GET /functions/{ref}/stats``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vortex.functions import iso_utc
from vortex.rollups.base import MINUTE, TEN_MINUTES, TIERS
from vortex.rollups.recorder import RollupRecorder
from vortex.rollups.sketch import Figures, total_of


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    tier: str
    points: int

    @property
    def step_seconds(self) -> int:
        return TIERS[self.tier]


WINDOWS = {
    "hour": Window("hour", MINUTE, 60),
    "day": Window("day", TEN_MINUTES, 144),
}


async def series(recorder: RollupRecorder, key: str, window: Window) -> dict[str, Any]:
    """The window's points, oldest first, the current (partial) bucket last; every bucket is
    there, an empty one with zero requests and null times, so that a chart's axis is even."""
    step = window.step_seconds
    newest = math.floor(recorder.clock() / step)
    numbers = list(range(newest - window.points + 1, newest + 1))
    figures = [Figures.of(bucket) for bucket in await recorder.read(key, window.tier, numbers)]
    points = [
        {"at": iso_utc(number * step), **bucket.to_json()}
        for number, bucket in zip(numbers, figures, strict=True)
    ]
    return {
        "window": window.name,
        "step_seconds": step,
        "from": iso_utc(numbers[0] * step),
        "to": iso_utc((newest + 1) * step),
        "total": total_of(figures).to_json(),
        "points": points,
    }
