"""Deploy each unit as a script function on a real server, run it, and read the harness's results.

Units run concurrently (the server's hosts serve several runs each); the server is started with
limits roomy enough for a test file (see ``SERVER_ENV``) and one run's figures are kept, so a
unit that grows costly shows in the summary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.server import start_server, stop_and_check
from tests.wpt.catalog import Unit
from tests.wpt.compose import compose

# A test file is far more work than a request: give it room, and keep a hung one bounded.
SERVER_ENV = {
    "VORTEX_CPU_LIMIT_MS": "30000",
    "VORTEX_WALL_LIMIT_MS": "120000",
    "VORTEX_MAX_OUTPUT_BYTES": str(8 << 20),
    "VORTEX_MAX_CODE_BYTES": str(4 << 20),
    "VORTEX_MAX_TIMERS": "100000",
    "VORTEX_RUN_MEMORY_MB": "512",
    "VORTEX_HOST_MEMORY_MB": "2048",
}
# The harness's own timeouts in a browser are 10 s and 60 s ("timeout=long"); a loaded CI
# machine runs several units at once, so allow more before calling a subtest TIMEOUT.
TIMEOUT_MS = 30_000
LONG_TIMEOUT_MS = 60_000

# Units in flight at once: enough to keep the server's two hosts busy while others deploy.
CONCURRENCY = 4

STATUS_NAMES = ("PASS", "FAIL", "TIMEOUT", "NOTRUN", "PRECONDITION_FAILED")
HARNESS_NAMES = ("OK", "ERROR", "TIMEOUT", "PRECONDITION_FAILED")


@dataclass
class UnitResult:
    unit: Unit
    # Subtest name -> None when it passed, else "STATUS: message".
    subtests: dict[str, str | None] = field(default_factory=dict)
    # Set when the unit did not end well: the run failed, or the harness says ERROR/TIMEOUT.
    error: str | None = None
    cpu_ms: float = 0.0
    wall_ms: float = 0.0

    @property
    def passed(self) -> int:
        return sum(1 for failure in self.subtests.values() if failure is None)


def _subtests(rows: Iterable[list[Any]]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name, status, message in rows:
        key = str(name)
        # A file may name two subtests alike; keep both, numbered.
        count = 2
        while key in found:
            key = f"{name} [{count}]"
            count += 1
        found[key] = None if status == 0 else f"{STATUS_NAMES[status]}: {message or ''}".strip()
    return found


async def run_unit(http: aiohttp.ClientSession, unit: Unit) -> UnitResult:
    result = UnitResult(unit)
    code = compose(unit, LONG_TIMEOUT_MS if unit.long else TIMEOUT_MS)
    started = time.monotonic()
    async with http.post("/deploy", json={"code": code}) as response:
        deployed = await response.json()
    if response.status != 200:
        result.error = f"deploy: {deployed['error']['code']}: {deployed['error']['message']}"
        return result
    async with http.post(f"/execute/{deployed['function_id']}") as response:
        body = await response.json()
    result.wall_ms = (time.monotonic() - started) * 1000
    if response.status != 200:
        result.error = f"execute: HTTP {response.status}: {body}"
        return result
    result.cpu_ms = float(body.get("cpu_time_ms") or 0)
    output = body.get("output")
    if isinstance(output, dict) and "tests" in output:
        result.subtests = _subtests(output["tests"])
        if output["status"] != 0:
            message = output.get("message") or ""
            result.error = f"harness {HARNESS_NAMES[output['status']]}: {message}".strip()
    if "error" in body:
        error = body["error"]
        result.error = f"{error['code']}: {error.get('message', '')}"
    elif not isinstance(output, dict) or "tests" not in output:
        result.error = "the run ended without the harness's results"
    await _delete(http, deployed["function_id"])
    return result


async def _delete(http: aiohttp.ClientSession, function_id: str) -> None:
    async with http.delete(f"/functions/{function_id}") as response:
        await response.read()


async def run_units(
    base_url: str,
    units: Iterable[Unit],
    concurrency: int = CONCURRENCY,
    progress: Callable[[UnitResult], None] | None = None,
) -> list[UnitResult]:
    """Run every unit, ``concurrency`` at a time; results in the order of ``units``."""
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=600)

    async with aiohttp.ClientSession(base_url=base_url, timeout=timeout) as http:

        async def one(unit: Unit) -> UnitResult:
            async with gate:
                try:
                    result = await run_unit(http, unit)
                except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
                    # One unit the server answered oddly fails alone, not every unit.
                    result = UnitResult(unit, error=f"runner: {exc!r}")
            if progress is not None:
                progress(result)
            return result

        return list(await asyncio.gather(*(one(unit) for unit in units)))


def run_on_own_server(
    units: Sequence[Unit], directory: Path, concurrency: int = CONCURRENCY
) -> tuple[list[UnitResult], float]:
    """Start a server in ``directory``, run ``units`` on it, stop it; the results and seconds."""
    server = start_server(directory, SERVER_ENV)
    try:
        started = time.monotonic()
        results = asyncio.run(run_units(server.url, units, concurrency))
        return results, time.monotonic() - started
    finally:
        stop_and_check(server)
