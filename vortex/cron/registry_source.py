"""The schedules of deployed functions, read from the schedule index (``vortex.storage.index``),
whose size is the number of schedules, not of functions.

Each unnamed function with schedules, and each name whose *active* version has some, is keyed by
its history key (``vortex.functions.history_key``): a rollback to a version without a schedule
stops the ticks, and a named function's ticks are claimed under its name whatever version runs
them. The listing is kept for ``fresh_for`` so that the pass at each tick does not list the
store again; a deploy on another node is seen within that time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from vortex.functions import FunctionRegistry

DEFAULT_FRESH_FOR = 10.0


class RegistrySchedules:
    def __init__(self, registry: FunctionRegistry, fresh_for: float = DEFAULT_FRESH_FOR) -> None:
        self.registry = registry
        self.fresh_for = fresh_for
        self._cached: tuple[float, dict[str, tuple[str, ...]]] | None = None

    def forget(self) -> None:
        """Read the store on the next pass (after a deploy or delete on this node)."""
        self._cached = None

    async def schedules(self) -> Mapping[str, tuple[str, ...]]:
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < self.fresh_for:
            return self._cached[1]
        await self.registry.index.ensure()
        found = await self.registry.index.schedules()
        self._cached = (now, found)
        return found
