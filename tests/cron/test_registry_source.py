"""The schedules the server's scheduler sees: read from the function store, keyed by history
key, the active version of a name only; and the ``schedule`` field of ``POST /deploy``."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
import pytest

from vortex.cron.registry_source import RegistrySchedules
from vortex.cron.schedule import MAX_SCHEDULES
from vortex.functions import FunctionRegistry
from vortex.storage.base import FunctionRecord
from vortex.storage.local import LocalStore


@pytest.fixture
def registry(tmp_path: Path) -> FunctionRegistry:
    return FunctionRegistry(LocalStore(tmp_path))


async def test_active_versions_and_unnamed_functions_with_a_schedule(
    registry: FunctionRegistry,
) -> None:
    source = RegistrySchedules(registry, fresh_for=0)
    plain = await registry.deploy("1", schedule="*/5 * * * *")
    await registry.deploy("2")  # no schedule, not listed
    v1 = await registry.deploy("3", name="report", schedule="0 9 * * 1")
    await registry.deploy("4", name="report", schedule=None)  # clears the schedule
    assert await source.schedules() == {plain.id: ("*/5 * * * *",)}

    await registry.rollback(v1, 1)
    assert await source.schedules() == {
        plain.id: ("*/5 * * * *",),
        "name:default:report": ("0 9 * * 1",),
    }
    assert (await registry.by_history_key("name:default:report")).id == v1.id


async def test_the_listing_is_kept_until_forgotten(registry: FunctionRegistry) -> None:
    source = RegistrySchedules(registry, fresh_for=3600)
    assert await source.schedules() == {}
    first = await registry.deploy("1", schedule="@hourly")
    assert await source.schedules() == {}
    source.forget()
    assert await source.schedules() == {first.id: ("@hourly",)}


@pytest.mark.parametrize(
    ("schedule", "code"),
    [
        ("* * *", "invalid_cron"),
        ("*/0 * * * *", "invalid_cron"),
        ("* * * * * *", "invalid_cron"),
        ("@reboot", "invalid_cron"),
        (5, "invalid_request"),
    ],
)
async def test_deploy_refuses_a_bad_schedule(
    http: aiohttp.ClientSession, schedule: object, code: str
) -> None:
    async with http.post("/deploy", json={"code": "1", "schedule": schedule}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == code


async def test_deploy_keeps_the_schedule_normalised(http: aiohttp.ClientSession) -> None:
    async with http.post(
        "/deploy", json={"code": "1", "schedule": "  0  9 * *   MON "}
    ) as response:
        function_id = (await response.json())["function_id"]
    async with http.get(f"/functions/{function_id}") as response:
        assert (await response.json())["schedule"] == "0 9 * * MON"


async def test_several_schedules_are_indexed_and_follow_changes(
    registry: FunctionRegistry,
) -> None:
    source = RegistrySchedules(registry, fresh_for=0)
    plain = await registry.deploy("1", schedule=("*/5 * * * *", "0 0 * * *"))
    await registry.deploy("2", name="report", schedule=["0 9 * * 1", "0 17 * * 5"])
    await registry.deploy("3", name="report", schedule=["0 17 * * 5", "@daily"])
    assert await source.schedules() == {
        plain.id: ("*/5 * * * *", "0 0 * * *"),
        "name:default:report": ("0 17 * * 5", "@daily"),
    }
    await registry.deploy("4", name="report", schedule=())  # an empty list clears
    await registry.delete(plain)
    assert await source.schedules() == {}


async def test_a_record_written_with_one_schedule_still_reads(
    registry: FunctionRegistry, tmp_path: Path
) -> None:
    record = await registry.deploy("1", schedule="*/5 * * * *")
    path = tmp_path / "functions" / f"{record.id}.json"
    if not path.exists():
        path = next(tmp_path.rglob(f"{record.id}.json"))
    old = orjson.loads(path.read_bytes())
    assert old["schedule"] == "*/5 * * * *"  # still written, for nodes from before
    del old["schedules"]
    path.write_bytes(orjson.dumps(old))
    fresh = FunctionRegistry(LocalStore(tmp_path))
    read = await fresh.record(record.id)
    assert read.schedules == ("*/5 * * * *",) and read.schedule == "*/5 * * * *"
    assert read.public_json()["schedules"] == ["*/5 * * * *"]
    del old["schedule"]
    assert FunctionRecord.from_json(orjson.dumps(old)).schedules == ()
    # A rebuilt index (what a server does when the index is lost) sees it too.
    await fresh.index.rebuild()
    assert await fresh.index.schedules() == {record.id: ("*/5 * * * *",)}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"schedules": ["* * * * *", "* * *"]}, "invalid_cron"),
        ({"schedules": [f"{m} * * * *" for m in range(MAX_SCHEDULES + 1)]}, "too_many_schedules"),
        ({"schedules": "* * * * *"}, "invalid_request"),
        ({"schedules": ["* * * * *", 5]}, "invalid_request"),
        ({"schedule": "* * * * *", "schedules": ["0 * * * *"]}, "invalid_request"),
    ],
)
async def test_deploy_refuses_bad_schedules(
    http: aiohttp.ClientSession, body: dict[str, object], code: str
) -> None:
    async with http.post("/deploy", json={"code": "1", **body}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == code


async def test_deploy_takes_up_to_the_limit_and_merges_duplicates(
    http: aiohttp.ClientSession,
) -> None:
    crons = [f"{m} * * * *" for m in range(MAX_SCHEDULES)]
    async with http.post(
        "/deploy", json={"code": "1", "schedules": [*crons, " 0  * * * * ", crons[1]]}
    ) as response:
        assert response.status == 200, await response.text()
        function_id = (await response.json())["function_id"]
    async with http.get(f"/functions/{function_id}") as response:
        shown = await response.json()
    assert shown["schedules"] == crons and shown["schedule"] == crons[0]
    async with http.post(
        "/deploy", json={"code": "1", "name": "ticks", "schedules": ["@daily", "@hourly"]}
    ) as response:
        assert response.status == 200
    async with http.post(
        "/deploy", json={"code": "1", "name": "ticks", "schedules": []}
    ) as response:
        assert response.status == 200
    async with http.get("/functions/ticks") as response:
        shown = await response.json()
    assert shown["schedules"] == [] and shown["schedule"] is None
