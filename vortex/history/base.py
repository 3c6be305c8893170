"""Invocation history: the last runs of each function, newest first.

Every finished run (``POST /execute``, the ``/fn/`` trigger, cron) adds one ``RunEntry`` under
the function's history key (``vortex.functions.history_key``: a named function's versions share
one). Each entry keeps a bounded part of the run's logs, so a history of 50 runs of a chatty
function stays small. Kept in Redis when configured (every node sees every run), else in this
process's memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import orjson

from vortex.health import BackendHealth
from vortex.isolates.outcome import LogEntry

MAX_LOG_LINES = 100
MAX_LOG_BYTES = 16 << 10
"""What an entry keeps of a run's logs: the first lines, up to both limits."""


@dataclass(frozen=True, slots=True)
class RunEntry:
    run_id: str
    at: str
    """When the run started (ISO 8601, UTC)."""
    function_id: str
    """The version that ran."""
    version: int | None
    trigger: str
    """``execute``, ``http`` or ``cron``."""
    ok: bool
    error_code: str | None
    execution_time_ms: float
    cpu_time_ms: float | None
    logs: list[LogEntry] = field(default_factory=list)
    logs_truncated: bool = False
    error: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary_json(self) -> dict[str, Any]:
        """Without logs: for lists, and ``last_run``."""
        data = asdict(self)
        del data["logs"], data["error"]
        return data

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def from_bytes(cls, data: bytes) -> RunEntry:
        fields = orjson.loads(data)
        return cls(**{k: fields.get(k) for k in _FIELDS if k in fields})


_FIELDS = tuple(RunEntry.__dataclass_fields__)


def bounded_logs(logs: list[LogEntry]) -> tuple[list[LogEntry], bool]:
    kept: list[LogEntry] = []
    size = 0
    for entry in logs:
        size += len(entry["message"].encode()) + 64
        if len(kept) >= MAX_LOG_LINES or size > MAX_LOG_BYTES:
            return kept, True
        kept.append(entry)
    return kept, False


class RunHistory(Protocol):
    async def record(self, key: str, entry: RunEntry) -> None: ...

    async def runs(self, key: str, limit: int | None = None) -> list[RunEntry]:
        """Newest first."""
        ...

    async def last(self, key: str) -> RunEntry | None: ...

    async def forget(self, key: str) -> None: ...

    async def health(self) -> BackendHealth: ...

    async def close(self) -> None: ...
