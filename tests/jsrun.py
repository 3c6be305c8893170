"""Running a snippet of JavaScript as a function and getting its Vortex.return value."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Run = Callable[[str], Awaitable[dict[str, Any]]]


async def js(run: Run, code: str) -> Any:
    """The value the code gives to Vortex.return; fails the test if the run failed."""
    body = await run(code)
    assert "error" not in body, body["error"]
    return body["output"]
