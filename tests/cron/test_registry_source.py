"""The schedules the server's scheduler sees: read from the function store, keyed by history
key, the active version of a name only; and the ``schedule`` field of ``POST /deploy``."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from vortex.cron.registry_source import RegistrySchedules
from vortex.functions import FunctionRegistry
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
    assert await source.schedules() == {plain.id: "*/5 * * * *"}

    await registry.rollback(v1, 1)
    assert await source.schedules() == {plain.id: "*/5 * * * *", "name:default:report": "0 9 * * 1"}
    assert (await registry.by_history_key("name:default:report")).id == v1.id


async def test_the_listing_is_kept_until_forgotten(registry: FunctionRegistry) -> None:
    source = RegistrySchedules(registry, fresh_for=3600)
    assert await source.schedules() == {}
    first = await registry.deploy("1", schedule="@hourly")
    assert await source.schedules() == {}
    source.forget()
    assert await source.schedules() == {first.id: "@hourly"}


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
