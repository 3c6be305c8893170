"""What a backend (store or log bus) says about itself in ``GET /health``.

Its own module so that storage and log bus backends can both return it without importing each
other or ``vortex.backends`` (which imports them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class BackendHealth:
    backend: str
    """``local`` or ``s3`` for the store; ``memory`` or ``redis`` for the log bus."""
    ok: bool
    error: str | None = None
    """Why ``ok`` is false, in words for an operator (no secrets)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Counters and facts of the backend (queue depths, drops, bucket), all JSON values."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"backend": self.backend, "ok": self.ok, **self.details}
        if self.error is not None:
            body["error"] = self.error
        return body
