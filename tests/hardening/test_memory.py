"""Memory growth of every kind ends in ``memory_limit_exceeded``: a run whose turns add more
than ``VORTEX_RUN_MEMORY_MB`` to its host is ended and the host kept, even in the middle of one
turn that never ends (the host's CPU timer ticks, interrupt.py); the supervisor watches each
host's resident memory and replaces a host that grows past ``VORTEX_HOST_MEMORY_MB``.

The servers here have a CPU limit large enough (3 s) that growth meets the memory limit first,
and one host, so that whatever shares the host with the culprit is known.
"""

from __future__ import annotations

import asyncio
import resource
from collections import Counter
from collections.abc import Callable

import aiohttp
import pytest

from tests.gate import GATE_ENV, Gate
from tests.hardening.conftest import Api, api_for, neighbour_at
from tests.load import scaled
from tests.server import ServerProcess
from vortex.isolates.datalimit import data_bytes

MEMORY_ENV = {
    **GATE_ENV,
    "VORTEX_CPU_LIMIT_MS": "3000",
    "VORTEX_WALL_LIMIT_MS": "8000",
    "VORTEX_HOST_MEMORY_MB": "400",
    "VORTEX_RUN_MEMORY_MB": "0",  # the host's limit alone
}
# Room for what stopped runs leave behind: a run stopped for its memory while it awaited keeps
# what it held in its host (pythonmonkey keeps the suspended async frame: +76-79 MiB a run), and
# the cases of one module share a host that is no longer killed between them.
RUN_LIMIT_ENV = {**MEMORY_ENV, "VORTEX_RUN_MEMORY_MB": "64", "VORTEX_HOST_MEMORY_MB": "1024"}
# The watchdog reads RSS every 250 ms; growth of a few hundred MiB takes about a second here.
WITHIN_S = 4.0


SLEEP = "await new Promise((r) => setTimeout(r, 5))"
GROWTH = {
    "typed-arrays-at-once": "const keep = []; for (;;) keep.push(new Uint8Array(16 << 20).fill(1))",
    "typed-arrays-over-time": f"const keep = []; for (;;) {{ keep.push(new Uint8Array(16 << 20).fill(1)); {SLEEP} }}",
    "arrays-of-numbers": f"const keep = []; for (let i = 0;; i++) {{ keep.push(new Array(1 << 20).fill(i + 0.5)); {SLEEP} }}",
    "flat-strings": (
        "const keep = []; for (let i = 0;; i++) {"
        " const s = String(i % 10).repeat(16 << 20); s.charCodeAt(7); keep.push(s);"
        f" {SLEEP} }}"
    ),
    "objects": f"const keep = []; for (let i = 0;; i++) {{ for (let j = 0; j < 1e5; j++) keep.push({{ i, j }}); {SLEEP} }}",
    "map-entries": f"const keep = new Map(); let n = 0; for (;;) {{ for (let j = 0; j < 1e5; j++) keep.set(n++, new Array(32).fill(n)); {SLEEP} }}",
    "resizable-array-buffer": (
        "const buffer = new ArrayBuffer(0, { maxByteLength: 2 ** 32 });"
        " for (let size = 16 << 20;; size += 16 << 20) {"
        f" buffer.resize(size); new Uint8Array(buffer).fill(1); {SLEEP} }}"
    ),
    # Pieces within a run's limit: one past it is refused as it is asked for (ONE_CALL).
    "text-encoder": "const keep = []; for (;;) keep.push(new TextEncoder().encode('x'.repeat(1e7)))",
    "closures-holding-buffers": (
        "const keep = []; for (;;) { const b = new Uint32Array(1 << 22).fill(2);"
        f" keep.push(() => b); {SLEEP} }}"
    ),
}


@pytest.fixture(scope="module")
def memory_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers(MEMORY_ENV, workers=1)


@pytest.fixture
def api(client: aiohttp.ClientSession, memory_server: ServerProcess) -> Api:
    return api_for(client, memory_server)


@pytest.fixture(scope="module")
def run_limit_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers(RUN_LIMIT_ENV, workers=1)


# Growth in one turn that never ends: no turn ends to be measured; the tick of the host's CPU
# timer measures it in the turn.
IN_ONE_TURN = {"typed-arrays-at-once", "text-encoder"}


def _fresh_for_one_turn(
    name: str, shared: ServerProcess, private_server: Callable[..., ServerProcess]
) -> ServerProcess:
    """A server of its own for a case that grows in one turn: on the shared server the host
    holds what earlier stopped runs left (see ``RUN_LIMIT_ENV``), and a turn that allocates
    100 MiB in one native call could meet the host's limit before the interrupter's tick."""
    if name in IN_ONE_TURN or name.endswith("in-one-turn"):
        return private_server(RUN_LIMIT_ENV, workers=1)
    return shared


@pytest.mark.parametrize("name", list(GROWTH))
async def test_a_run_past_its_own_memory_limit_is_ended_and_its_host_kept(
    client: aiohttp.ClientSession,
    run_limit_server: ServerProcess,
    private_server: Callable[..., ServerProcess],
    gate: Gate,
    name: str,
) -> None:
    api = api_for(client, _fresh_for_one_turn(name, run_limit_server, private_server))
    before = (await api.wait_healthy())["host_restarts"]
    # A neighbour on the host until the gate opens, after the bomb is over: it shares the
    # host's fate whatever the machine's load.
    try:
        async with neighbour_at(api, gate) as neighbour:
            result = await api.run(GROWTH[name])
            print(f"\n{name}: {result.code} in {result.elapsed:.3f} s")
            assert result.code == "memory_limit_exceeded", result.body
            assert result.elapsed < scaled(WITHIN_S)
            restarts = (await api.health())["host_restarts"] - before
            message = result.body["error"]["message"]
            assert "64 MiB per run exceeded" in message, result.body
            # A run past its limit is ended by its host, which stays: between turns
            # (growth.py), or in the middle of one, by the tick of its CPU timer (interrupt.py).
            if name in IN_ONE_TURN:
                assert "in one turn" in message, result.body
            assert restarts == 0
            gate.open()
            assert (await neighbour).body["output"] == "opened"
    finally:
        await api.assert_serves_normally()


ONE_CALL = {
    # One allocation of lazily zeroed pages, then one memset: no interrupt check in between,
    # and the host's cgroup killed it with every run on it, the client left with no answer.
    "typed-array-filled": "new Uint8Array(1500 << 20).fill(1)",
    "array-like-copied": "new Float64Array({ length: 2 ** 28 })",
    "typed-array-from": "Float64Array.from({ length: 2 ** 28 })",
    "subclass": "class Big extends Uint8Array {}; new Big(1500 << 20).fill(1)",
    "through-the-prototype": (
        "new (Object.getPrototypeOf(new Uint8Array(0)).constructor)(1500 << 20).fill(1)"
    ),
    "buffer-transferred": "new Uint8Array(new ArrayBuffer(8).transfer(1500 << 20)).fill(1)",
    "buffer-resized": (
        "const b = new ArrayBuffer(8, { maxByteLength: 8 << 20 }); b.resize(1 << 20);"
        " new ArrayBuffer(0, { maxByteLength: 2 ** 32 })"
    ),
    "wasm-memory": "new Uint8Array(new WebAssembly.Memory({ initial: 24000 }).buffer).fill(1)",
    "wasm-memory-grown": (
        "const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); m.grow(24000);"
        " new Uint8Array(m.buffer).fill(1)"
    ),
    # (module (memory 24000)): a module's own memory, made at instantiation.
    "wasm-module-memory": (
        "new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 0, 0xc0,"
        " 0xbb, 0x01]))"
    ),
    # The error caught, and another tried: the run has ended, and is refused again.
    "caught-then-again": (
        "try { new Uint8Array(1500 << 20) } catch {} new Float64Array({ length: 2 ** 28 })"
    ),
}


@pytest.mark.parametrize("name", list(ONE_CALL))
async def test_a_buffer_past_the_run_limit_ends_the_run_not_the_host(
    client: aiohttp.ClientSession, run_limit_server: ServerProcess, gate: Gate, name: str
) -> None:
    api = api_for(client, run_limit_server)
    before = (await api.wait_healthy())["host_restarts"]
    async with neighbour_at(api, gate) as neighbour:
        result = await api.run(ONE_CALL[name])
        assert result.code == "memory_limit_exceeded", result.body
        message = result.body["error"]["message"]
        assert message.startswith("Memory limit of 64 MiB per run exceeded: one buffer of")
        assert (await api.health())["host_restarts"] == before
        gate.open()
        assert (await neighbour).body["output"] == "opened"
    # Within the limit, the same calls work.
    result = await api.run(
        "const m = new WebAssembly.Memory({ initial: 1 }); m.grow(100);"
        " const b = new ArrayBuffer(8, { maxByteLength: 32 << 20 }); b.resize(16 << 20);"
        " Vortex.return([new Uint8Array(32 << 20).fill(1).length, m.buffer.byteLength,"
        " b.byteLength, new (class extends Uint8Array {})(2).length])"
    )
    assert result.body["output"] == [32 << 20, 101 * 65536, 16 << 20, 2], result.body


@pytest.mark.parametrize(
    "code",
    [
        "'\\u1234'.repeat(2 ** 30 - 30).charCodeAt(5)",
        "new Array(2 ** 30 - 30).join('\\u1234').length",
    ],
    ids=["two-byte-string-flattened", "array-joined"],
)
async def test_an_allocation_past_what_the_host_may_hold_fails_in_the_run(
    client: aiohttp.ClientSession, run_limit_server: ServerProcess, code: str
) -> None:
    """A 2 GiB string made by one native call: no buffer constructor to check, and its memcpy
    took the host past its cgroup. The host's RLIMIT_DATA (datalimit.py) makes the engine's
    allocation fail instead, which the run hears as its "out of memory"."""
    api = api_for(client, run_limit_server)
    before = (await api.wait_healthy())["host_restarts"]
    result = await api.run(f"Vortex.return({code})")
    assert result.code == "memory_limit_exceeded", result.body
    assert result.body["error"]["message"].startswith("Out of memory: the run asked for more")
    assert (await api.health())["host_restarts"] == before
    await api.assert_serves_normally()
    for pid in run_limit_server.host_pids():
        soft, _ = resource.prlimit(pid, resource.RLIMIT_DATA)
        assert soft < data_bytes(pid) + (1100 << 20), (pid, soft)


# (module (memory (export "m") 1)
#   (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
#   (func (export "fill") (param i32 i32) local.get 0 i32.const 1 local.get 1 memory.fill))
GROWING_MODULE = (
    "new Uint8Array([0,97,115,109,1,0,0,0, 1,11,2,0x60,1,0x7f,1,0x7f,0x60,2,0x7f,0x7f,0,"
    " 3,3,2,0,1, 5,3,1,0,1, 7,19,3,1,0x6d,2,0,4,0x67,0x72,0x6f,0x77,0,0,4,0x66,0x69,0x6c,0x6c,"
    "0,1, 10,20,2,6,0,0x20,0,0x40,0,0x0b,11,0,0x20,0,0x41,1,0x20,1,0xfc,11,0,0x0b])"
)


async def test_a_modules_own_memory_grow_fails_past_the_run_limit(
    client: aiohttp.ClientSession, run_limit_server: ServerProcess
) -> None:
    """``memory.grow`` inside the module, then ``memory.fill`` over what it got: one memset the
    host's interrupt never sees. The module is compiled with the run's limit as its memory's
    maximum, so the growth fails in the module (-1), as when the engine has no more."""
    api = api_for(client, run_limit_server)
    before = (await api.wait_healthy())["host_restarts"]
    result = await api.run(
        f"const {{ instance }} = await WebAssembly.instantiate({GROWING_MODULE});"
        " const { grow, fill, m } = instance.exports;"
        " const past = grow(24000); const within = grow(100); fill(0, 101 * 65536);"
        " Vortex.return([past, within, m.buffer.byteLength])"
    )
    assert result.body["output"] == [-1, 1, 101 * 65536], result.body
    # A memory made in JavaScript and imported is held to the same maximum.
    result = await api.run(
        "const m = new WebAssembly.Memory({ initial: 1 });"
        " Vortex.return([m.grow.length, (() => { try { m.grow(24000) } catch (e) { return 'x' } })()])"
    )
    assert result.code == "memory_limit_exceeded", result.body
    assert (await api.health())["host_restarts"] == before


async def test_without_interrupts_a_bomb_in_one_turn_is_stopped_with_its_host(
    private_server: Callable[..., ServerProcess], client: aiohttp.ClientSession
) -> None:
    """``VORTEX_HOST_INTERRUPT=0``: a turn that never ends cannot be stopped but by killing
    its host, which the supervisor does once the run is past its limit in that turn."""
    server = private_server({**RUN_LIMIT_ENV, "VORTEX_HOST_INTERRUPT": "0"}, workers=1)
    api = api_for(client, server)
    await api.wait_healthy()
    neighbour_id = await api.deploy(
        "await new Promise((r) => setTimeout(r, 2000)); Vortex.return('slept')"
    )
    neighbour = asyncio.create_task(api.execute(neighbour_id))
    result = await api.run(GROWTH["typed-arrays-at-once"])
    assert result.code == "memory_limit_exceeded", result.body
    assert "64 MiB per run exceeded in one turn" in result.body["error"]["message"]
    assert "the host was replaced" in result.body["error"]["message"]
    assert (await neighbour).code == "host_restarted"
    assert (await api.health())["host_restarts"] == 1
    await api.assert_serves_normally()


# A resizable buffer's maxByteLength is allocated at once by this engine: on this 400 MiB host,
# its data limit (datalimit.py) refuses the buffer, and the host stays.
PAST_THE_HOST_AT_ONCE = {"resizable-array-buffer"}


@pytest.mark.parametrize("name", [name for name in GROWTH if name not in PAST_THE_HOST_AT_ONCE])
async def test_memory_growth_ends_in_memory_limit_exceeded(api: Api, name: str) -> None:
    before = (await api.wait_healthy())["host_restarts"]
    result = await api.run(GROWTH[name])
    print(f"\n{name}: {result.code} in {result.elapsed:.3f} s")
    try:
        assert result.code == "memory_limit_exceeded", result.body
        assert "400 MiB" in result.body["error"]["message"]
        assert result.elapsed < scaled(WITHIN_S)
        assert (await api.health())["host_restarts"] == before + 1
    finally:
        await api.assert_serves_normally()


@pytest.mark.parametrize("name", sorted(PAST_THE_HOST_AT_ONCE))
async def test_growth_asked_for_at_once_past_the_host_fails_in_the_run(api: Api, name: str) -> None:
    before = (await api.wait_healthy())["host_restarts"]
    result = await api.run(GROWTH[name])
    assert result.code == "memory_limit_exceeded", result.body
    assert result.body["error"]["message"].startswith("Out of memory"), result.body
    assert (await api.health())["host_restarts"] == before
    await api.assert_serves_normally()


@pytest.mark.parametrize(
    ("code", "output"),
    [
        (
            "let b; for (let i = 0; i < 40; i++) {"
            " b = new Uint8Array(16 << 20).fill(i); await new Promise((r) => setTimeout(r, 1)) }"
            " Vortex.return(b[0])",
            39,
        ),
        (
            "let s; for (let i = 0; i < 40; i++) {"
            " s = String(i % 10).repeat(16 << 20); s.charCodeAt(5); await null }"
            " Vortex.return(Number(s[0]))",
            9,
        ),
        (
            "let b; for (let i = 0; i < 40; i++) b = new Uint8Array(16 << 20).fill(i);"
            " Vortex.return(b[0])",
            39,
        ),
        (
            "let s; for (let i = 0; i < 40; i++) { s = String(i % 10).repeat(16 << 20);"
            " s.charCodeAt(5) } Vortex.return(Number(s[0]))",
            9,
        ),
    ],
    ids=["typed-arrays", "strings", "typed-arrays-in-one-turn", "strings-in-one-turn"],
)
async def test_a_run_that_drops_what_it_allocated_is_not_stopped(
    client: aiohttp.ClientSession,
    run_limit_server: ServerProcess,
    private_server: Callable[..., ServerProcess],
    request: pytest.FixtureRequest,
    code: str,
    output: int,
) -> None:
    """640 MiB allocated, 16 MiB held at a time, under a limit of 64 MiB per run: the garbage
    grows the host until a collection, which runs (and hands the memory back to the system)
    before a run is stopped for its memory, after its turn or at a tick inside one."""
    name = request.node.callspec.id
    api = api_for(client, _fresh_for_one_turn(name, run_limit_server, private_server))
    for _ in range(2):  # a fresh host, then one that has grown
        result = await api.run(code)
        assert result.code is None, result.body
        assert result.body["output"] == output


async def test_webassembly_memory_is_not_reachable_or_is_limited(api: Api) -> None:
    result = await api.run(
        "if (typeof WebAssembly === 'undefined') Vortex.return('absent');\n"
        "else { const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 });\n"
        f"  for (;;) {{ m.grow(256); new Uint8Array(m.buffer).fill(1); {SLEEP} }} }}"
    )
    if result.code is None:
        assert result.body["output"] == "absent"
    else:
        assert result.code == "memory_limit_exceeded", result.body
    await api.assert_serves_normally()


@pytest.mark.parametrize("cgroups", ["0", "1"], ids=["watchdog", "cgroups-where-available"])
async def test_a_neighbour_of_a_memory_hog_is_told_host_restarted(
    private_server: Callable[..., ServerProcess],
    client: aiohttp.ClientSession,
    gate: Gate,
    cgroups: str,
) -> None:
    """The hog is seldom in its turn when the host is found too big: the host names the run
    that grew it most once it is past half its limit (turnclock.py), and that run is blamed."""
    server = private_server({**MEMORY_ENV, "VORTEX_HOST_CGROUPS": cgroups}, workers=1)
    api = api_for(client, server)
    # The hog spends about a tenth of its time in turns (4 MiB touched, then 30 ms asleep), as
    # a real leak would; twice in a row, so that a lucky read of the watchdog cannot pass it.
    neighbour = await api.deploy(gate.code, allow_hosts=["127.0.0.1"])  # until the host dies
    hog = await api.deploy(
        "const keep = []; for (;;) {"
        " keep.push(new Uint8Array(4 << 20).fill(1));"
        " await new Promise((r) => setTimeout(r, 30)) }"
    )
    for _ in range(2):
        await api.wait_healthy()
        waiting = asyncio.create_task(api.execute(neighbour))
        await gate.arrival()
        hog_result = await api.execute(hog)
        neighbour_result = await waiting
        assert hog_result.code == "memory_limit_exceeded", hog_result.body
        assert neighbour_result.code == "host_restarted", neighbour_result.body


async def test_runs_each_within_their_limit_cannot_take_their_host_down(
    private_server: Callable[..., ServerProcess], client: aiohttp.ClientSession, gate: Gate
) -> None:
    """Twenty runs that each keep 56 MiB, under their limit of 64 MiB, would hold more than
    the host's 1 GiB together: near it, the host ends the run that grew it most, one at a
    time, itself (pressure.py), and the host, its neighbour and the other runs go on. Before,
    the supervisor killed the host with all of them (``host_restarted``)."""
    server = private_server(RUN_LIMIT_ENV, workers=1)
    api = api_for(client, server)
    await api.wait_healthy()
    keeper = await api.deploy(
        "const keep = [];"
        " for (let i = 0; i < 7; i++) {"
        "   keep.push(new Uint8Array(8 << 20).fill(1));"
        "   await new Promise((r) => setTimeout(r, 20)); }"
        " await new Promise((r) => setTimeout(r, 1500));"
        " Vortex.return(keep.length)"
    )
    try:
        async with neighbour_at(api, gate) as neighbour:
            results = await asyncio.gather(*(api.execute(keeper) for _ in range(20)))
            codes = Counter(result.code for result in results)
            print(f"\nkeepers: {dict(codes)}")
            ended = [result for result in results if result.code is not None]
            assert ended, "together they held more than the host's limit: some must be ended"
            for result in ended:
                assert result.code == "memory_limit_exceeded", result.body
                assert "near its memory limit" in result.body["error"]["message"], result.body
            assert codes[None] >= 5, "only the runs that grew the host most are ended"
            assert all(result.body["output"] == 7 for result in results if result.code is None)
            assert (await api.health())["host_restarts"] == 0
            gate.open()
            assert (await neighbour).body["output"] == "opened"
    finally:
        await api.assert_serves_normally()


async def test_an_array_made_by_one_native_call_ends_its_run_not_the_host(
    private_server: Callable[..., ServerProcess], client: aiohttp.ClientSession, gate: Gate
) -> None:
    """`'a'.repeat(5e7).split('')`: a 400 MB array made by one native call (of ~0.9 s on a
    slow machine), past the supervisor's memory backstop (the limit + 128 MiB) long before the
    host's interrupt could end the run after the call. The supervisor killed the host at once,
    with its neighbour; it now gives the turn ``MEMORY_OVER_GRACE_S`` to end, and the host
    kept it.

    The sizes keep clear of the other limits: with an 800 MB array (1e8) the host of 1 GiB
    was past its own limit now and then (killed at once, rightly), and on a slow day the call
    stays over the backstop for most of the grace, or runs past a CPU limit of 3 s."""
    server = private_server(
        {
            **GATE_ENV,
            "VORTEX_CPU_LIMIT_MS": "10000",
            "VORTEX_WALL_LIMIT_MS": "20000",
            "VORTEX_RUN_MEMORY_MB": "128",
            "VORTEX_HOST_MEMORY_MB": "2048",
        },
        workers=1,
    )
    api = api_for(client, server)
    async with neighbour_at(api, gate) as neighbour:
        result = await api.run("Vortex.return('a'.repeat(5e7).split('').length)")
        assert result.code == "memory_limit_exceeded", result.body
        assert "128 MiB per run" in result.body["error"]["message"], result.body
        assert (await api.health())["host_restarts"] == 0, server.log()[-2000:]
        gate.open()
        assert (await neighbour).body["output"] == "opened"
    await api.assert_serves_normally()
