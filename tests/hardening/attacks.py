"""Pieces shared by the attack tests (test_attacks_*.py): deploys of modules, the history of a
listener run, and the checks every attack ends with."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.hardening.conftest import Api, rss_mib, unhandled_in_log


async def deploy_module(api: Api, code: str, filename: str = "index.mjs") -> str:
    return await api.deploy(code, filename=filename)


async def run_record(
    api: Api, function_id: str, run_id: str, within: float = 15.0
) -> dict[str, Any]:
    """The run's record in the history, once it has ended."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with api.http.get(f"{api.url}/functions/{function_id}/runs/{run_id}") as response:
            if response.status == 200:
                record: dict[str, Any] = await response.json()
                return record
        assert asyncio.get_running_loop().time() < deadline, f"run {run_id} never ended"
        await asyncio.sleep(0.05)


async def restarts(api: Api) -> int:
    return int((await api.health())["host_restarts"])


def hosts_rss(api: Api) -> float:
    """The largest resident size of the server's hosts, in MiB."""
    return max(rss_mib(pid) for pid in api.server.host_pids())


async def assert_host_kept(api: Api, before: int) -> None:
    """No host was restarted, nothing leaked to the server's log, and it still serves."""
    assert await restarts(api) == before, "a limit ended a host, not only its run"
    assert unhandled_in_log(api.server) == []
    await api.assert_serves_normally()
