"""Each host in a memory cgroup of its own, where the machine allows it (cgroup v1 memory here;
v2, which no machine of the suite's has, in tests/test_cgroupfs.py): the kernel stops a host at
its limit however fast it allocates, the run says ``memory_limit_exceeded``, and no cgroup
outlives its host."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.gate import GATE_ENV, Gate
from tests.hardening.conftest import api_for
from tests.server import ServerProcess
from vortex.isolates.cgroupfs import memory_cgroup_dir
from vortex.isolates.cgroups import HostCgroups

pytestmark = pytest.mark.skipif(
    HostCgroups.detect() is None, reason="this machine gives no writable memory cgroup"
)


def memory_cgroup_of(pid: int) -> Path:
    found = memory_cgroup_dir(Path(f"/proc/{pid}"))
    assert found is not None, f"process {pid} is in no memory cgroup"
    return found[1]


def limit_file() -> str:
    found = memory_cgroup_dir()
    assert found is not None
    return found[0].limit_file


async def test_each_host_has_a_memory_cgroup_that_stops_a_fast_bomb(
    private_server: Callable[..., ServerProcess], gate: Gate
) -> None:
    # No limit per run: the run would be stopped at it, before the host's (the cgroup's). CPU
    # and wall limits far past what the bomb takes (~0.3 s of CPU on a busy machine), so that
    # only memory can end it.
    server = private_server(
        {
            **GATE_ENV,
            "VORTEX_HOST_MEMORY_MB": "256",
            "VORTEX_RUN_MEMORY_MB": "0",
            "VORTEX_CPU_LIMIT_MS": "3000",
            "VORTEX_WALL_LIMIT_MS": "8000",
        },
        workers=1,
    )
    hosts = server.host_pids()
    cgroups = {memory_cgroup_of(pid) for pid in hosts}
    assert len(cgroups) == len(hosts)
    for path in cgroups:
        assert re.fullmatch(rf"vortex-{server.process.pid}-\d+", path.name), path
        # The limit less what the host had at boot (charged to the server's cgroup).
        assert 64 << 20 <= int((path / limit_file()).read_text()) < 256 << 20

    active = memory_cgroup_of(min(hosts))  # the active host: the spare started after it
    async with aiohttp.ClientSession() as client:
        api = api_for(client, server)
        # Typed arrays of 64 MiB, touched at once: past the limit long before the watchdog's
        # next read of the host's memory.
        # A neighbour on the host until the gate opens: still running when the bomb is stopped.
        neighbour_id = await api.deploy(gate.code, allow_hosts=["127.0.0.1"])
        neighbour = asyncio.create_task(api.execute(neighbour_id))
        await gate.arrival()
        result = await api.run(
            "const keep = []; for (;;) { const a = new Float64Array(8 << 20); a.fill(1); keep.push(a); }"
        )
        # The run in its turn is blamed; a run that shared the host is told why it ended.
        assert (await neighbour).code == "host_restarted"
        assert result.code == "memory_limit_exceeded", result.body
        # The kernel acted, not the watchdog's next read of the host's memory.
        assert "memory cgroup" in result.body["error"]["message"], result.body
        await api.assert_serves_normally()
    assert not active.exists(), f"{active} outlived its host"


async def test_cgroups_can_be_turned_off(private_server: Callable[..., ServerProcess]) -> None:
    server = private_server({"VORTEX_HOST_CGROUPS": "0"}, workers=1)
    for pid in server.host_pids():
        assert not memory_cgroup_of(pid).name.startswith("vortex-")
