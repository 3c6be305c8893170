"""What this node remembers about recent runs (the "last run" of each function)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from vortex.cache import BoundedCache


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    at: str
    ok: bool
    execution_time_ms: float
    error_code: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RunLedger:
    def __init__(self, max_functions: int = 10_000) -> None:
        self._last: BoundedCache[str, RunSummary] = BoundedCache(max_functions)

    def record(self, function_id: str, summary: RunSummary) -> None:
        self._last.put(function_id, summary)

    def last(self, function_id: str) -> RunSummary | None:
        return self._last.get(function_id)

    def forget(self, function_id: str) -> None:
        self._last.discard(function_id)
