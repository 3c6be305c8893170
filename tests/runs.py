"""The history as tests read it: a run reached through the functions listener is recorded once
the host has told of its end, which may be a moment after the client has its answer."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp


async def recorded(http: aiohttp.ClientSession, ref: str, run_id: str) -> dict[str, Any]:
    """``GET /functions/{ref}/runs/{run_id}``, asked again until the run is there."""
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        async with http.get(f"/functions/{ref}/runs/{run_id}") as response:
            if response.status == 200:
                run: dict[str, Any] = await response.json()
                return run
            assert response.status == 404, await response.text()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"run {run_id} of {ref} never reached the history")
        await asyncio.sleep(0.05)
