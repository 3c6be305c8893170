"""Invocation history in this process's memory: one node's runs, gone at restart."""

from __future__ import annotations

from collections import deque

from vortex.cache import BoundedCache
from vortex.health import BackendHealth
from vortex.history.base import RunEntry

MAX_FUNCTIONS = 10_000
"""Functions whose history is kept; the least recently run are forgotten first."""


class MemoryRunHistory:
    def __init__(self, per_function: int) -> None:
        self.per_function = per_function
        self._runs: BoundedCache[str, deque[RunEntry]] = BoundedCache(MAX_FUNCTIONS)

    async def record(self, key: str, entry: RunEntry) -> None:
        runs = self._runs.get(key)
        if runs is None:
            runs = deque(maxlen=self.per_function)
            self._runs.put(key, runs)
        runs.appendleft(entry)

    async def runs(self, key: str, limit: int | None = None) -> list[RunEntry]:
        runs = list(self._runs.get(key) or ())
        return runs if limit is None else runs[:limit]

    async def last(self, key: str) -> RunEntry | None:
        runs = self._runs.get(key)
        return runs[0] if runs else None

    async def forget(self, key: str) -> None:
        self._runs.discard(key)

    async def health(self) -> BackendHealth:
        return BackendHealth("memory", True, None, {})

    async def close(self) -> None:
        return None
