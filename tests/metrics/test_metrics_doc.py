"""docs/metrics.md stays true: the families a real server exposes are the ones it documents,
with the type it gives them, and no ``*_created`` series.

The server runs on Redis (log bus, KV, keys) so that the Redis bus's counters exist too, and
after a run, so that the run series exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import aiohttp

from tests.fixtures.redis import RedisServer, redis_factory, redis_server
from tests.server import REPO, ServerProcess

__all__ = ["redis_factory", "redis_server"]  # fixtures this module uses

DOC = REPO / "docs" / "metrics.md"
_ROW = re.compile(r"^\| ((?:`vortex_\w+`(?:, )?)+) \| (\w+) \|", re.MULTILINE)


def documented() -> dict[str, str]:
    """Family name → type, from the table of docs/metrics.md."""
    found: dict[str, str] = {}
    for names, kind in _ROW.findall(DOC.read_text(encoding="utf-8")):
        for name in re.findall(r"`(vortex_\w+)`", names):
            found[name] = kind
    return found


def exposed(text: str) -> dict[str, str]:
    """Family name → type, from the ``# TYPE`` lines of the exposition."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))


def test_the_doc_table_is_read() -> None:
    table = documented()
    assert table["vortex_runs_total"] == "counter"
    assert table["vortex_logbus_dropped_total"] == "counter"
    assert table["vortex_run_cpu_seconds"] == "histogram"


async def test_every_exposed_family_is_documented_and_no_created_series(
    server_factory: Callable[..., ServerProcess], redis_server: RedisServer
) -> None:
    server = server_factory({"REDIS_ADDR": redis_server.addr}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": "console.log(1); Vortex.return(1);"}) as r:
            function_id = (await r.json())["function_id"]
        async with http.post(f"/execute/{function_id}") as r:
            assert r.status == 200
        async with http.get("/metrics") as r:
            assert r.status == 200
            text = await r.text()
    assert "_created" not in text
    families = exposed(text)
    assert families == documented(), (
        f"exposed but not in docs/metrics.md: {sorted(set(families) - set(documented()))}; "
        f"documented but not exposed: {sorted(set(documented()) - set(families))}"
    )
