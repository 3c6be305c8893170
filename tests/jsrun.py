"""Running a snippet of JavaScript as a function and getting its Vortex.return value."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

Run = Callable[[str], Awaitable[dict[str, Any]]]


async def js(run: Run, code: str) -> Any:
    """The value the code gives to Vortex.return; fails the test if the run failed."""
    body = await run(code)
    assert "error" not in body, body["error"]
    return body["output"]


async def deploy_module(api: aiohttp.ClientSession, code: str, **extra: Any) -> str:
    """Deploy ``code`` as a module (``index.mjs``, with ``extra`` fields); its function id."""
    async with api.post("/deploy", json={"code": code, "filename": "index.mjs", **extra}) as r:
        body = await r.json()
        assert r.status == 200, body
        return str(body["function_id"])
