"""What one invocation produced, and the stable codes of the ways it can fail.

A run that fails is still an answer (with the logs printed before the failure), so these are
data, not exceptions. Codes set inside the host come from the harness (``js/src/harness``); the
rest are decided here by the supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

FUNCTION_ERROR = "function_error"
CPU_TIME_EXCEEDED = "cpu_time_exceeded"
WALL_TIME_EXCEEDED = "wall_time_exceeded"
MEMORY_LIMIT_EXCEEDED = "memory_limit_exceeded"
OUTPUT_TOO_LARGE = "output_too_large"
PAYLOAD_TOO_LARGE = "payload_too_large"
"""What a run sent through a binding is over what crosses to the supervisor at once."""
INVALID_RETURN_VALUE = "invalid_return_value"
LOG_LIMIT_EXCEEDED = "log_limit_exceeded"
TIMER_LIMIT_EXCEEDED = "timer_limit_exceeded"
HOST_RESTARTED = "host_restarted"
"""The host process was replaced because of another invocation that shared it."""
HOST_CRASHED = "host_crashed"
INVALID_MODULE = "invalid_module"
"""A module function whose default export has no ``fetch`` method."""
INVALID_RESPONSE = "invalid_response"
"""A ``fetch`` handler that did not give a Response (or gave one whose body was used)."""


class LogEntry(TypedDict):
    level: str
    message: str
    timestamp: str


@dataclass(slots=True)
class RunOutcome:
    output_json: str | None
    """The value given to ``Vortex.return``, as JSON text, or None."""
    error: dict[str, Any] | None
    logs: list[LogEntry] = field(default_factory=list)
    """The log lines of the run, in order (filled in from the invocation when it ends)."""
    cpu_ms: float = 0.0
    duration_ms: float = 0.0
    host_gone: bool = False
    """The run ended because its host process did: nothing the host would have said of it
    (a listener request's access record) will come."""
    running: bool = False
    """Not the end of the run: its handler failed while its waitUntil work goes on, and this is
    what its caller is answered with at once (``Invocation.caller_outcome``)."""


def platform_error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "name": "Error", "message": message, "stack": ""}
