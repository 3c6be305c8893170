"""WebAssembly: the engine's, frozen and shared by the runs; ``.wasm`` files of a module upload
imported as a ``WebAssembly.Module`` (as Workers do); a wasm loop stopped by the host's CPU
interrupt beside a run that finishes; wasm memory counted towards the run's memory limit."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.jsrun import Run, js
from tests.server import ServerProcess

HEADER = bytes.fromhex("0061736d01000000")  # "\0asm", version 1
# (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
ADD_WASM = HEADER + bytes.fromhex(
    "0107016002"
    "7f7f017f"  # type section: (i32, i32) -> i32
    "03020100"  # function section: one function of type 0
    "070701036164640000"  # export section: "add" is function 0
    "0a09010700200020016a0b"  # code: local.get 0, local.get 1, i32.add, end
)
# (func (export "spin") (loop $l (br $l)))
SPIN_WASM = HEADER + bytes.fromhex(
    "010401600000"  # type section: () -> ()
    "03020100"
    "0708010473"
    "70696e0000"  # export "spin"
    "0a09010700"
    "03400c000b0b"  # code: loop, br 0, end, end
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def deploy_files(http: aiohttp.ClientSession, files: dict[str, str]) -> dict[str, Any]:
    async with http.post("/deploy", json={"files": files, "entry": "index.mjs"}) as response:
        body: dict[str, Any] = await response.json()
        body["status"] = response.status
        return body


async def test_a_wasm_file_is_imported_as_a_module_and_called(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    index = """
import addModule from './add.wasm';
import { twice } from './lib/twice.js';
const { exports: add } = new WebAssembly.Instance(addModule);
export default {
  async fetch(request) {
    const instance = await WebAssembly.instantiate(addModule);
    return Response.json({
      isModule: addModule instanceof WebAssembly.Module,
      exports: WebAssembly.Module.exports(addModule).map(({ name, kind }) => [name, kind]),
      sum: add.add(40, 2),
      twice: twice(add.add, 21),
      wrapped: instance.exports.add(0x7fffffff, 1),
    });
  },
};
"""
    twice = "export const twice = (add, n) => add(n, n);\n"
    deployed = await deploy_files(
        http, {"index.mjs": index, "lib/twice.js": twice, "add.wasm": b64(ADD_WASM)}
    )
    assert deployed["status"] == 200, deployed
    async with http.get(server.fn_url(deployed["function_id"], "/")) as response:
        assert response.status == 200, await response.text()
        assert await response.json() == {
            "isModule": True,
            "exports": [["add", "function"]],
            "sum": 42,
            "twice": 42,
            "wrapped": -(2**31),
        }
    # What is not base64 of a WebAssembly binary is refused at deploy, with a 400.
    for bad in ("not base64!", b64(b"\0asm\x02\0\0\0"), b64(b"hello")):
        refused = await deploy_files(http, {"index.mjs": index, "add.wasm": bad})
        assert refused["status"] == 400, refused
        assert refused["error"]["code"] == "invalid_request"
        assert "add.wasm" in refused["error"]["message"]


async def test_webassembly_in_scripts_is_frozen_and_validates(run: Run) -> None:
    out = await js(
        run,
        f"""
        const bytes = Uint8Array.from(atob('{b64(ADD_WASM)}'), (c) => c.charCodeAt(0));
        let changed;
        try {{ WebAssembly.Module.prototype.evil = 1; changed = 'changed'; }} catch (e) {{ changed = e.name; }}
        let streamed;
        try {{ await WebAssembly.compileStreaming(new Response(bytes)); streamed = 'compiled'; }} catch (e) {{ streamed = e.name; }}
        const fromResponse = await WebAssembly.instantiateStreaming(
          new Response(bytes, {{ headers: {{ 'content-type': 'application/wasm' }} }}));
        Vortex.return({{
          valid: WebAssembly.validate(bytes),
          invalid: WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 2, 0, 0, 0])),
          compiled: (await WebAssembly.compile(bytes)) instanceof WebAssembly.Module,
          frozen: [Object.isFrozen(WebAssembly), Object.isFrozen(WebAssembly.Instance.prototype),
                   Object.isFrozen(WebAssembly.Memory.prototype)],
          changed,
          streamed,
          fromResponse: fromResponse.instance.exports.add(1, 2),
          compileError: await WebAssembly.compile(new Uint8Array(8)).then(() => 'ok', (e) => e instanceof WebAssembly.CompileError),
        }});
        """,
    )
    assert out == {
        "valid": True,
        "invalid": False,
        "compiled": True,
        "frozen": [True, True, True],
        "changed": "TypeError",
        "streamed": "TypeError",
        "fromResponse": 3,
        "compileError": True,
    }


async def test_a_wasm_loop_ends_with_cpu_time_exceeded_beside_a_run_that_finishes(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # One host: the neighbour shares the host with the spinning run, which the host's own
    # interrupt stops (the supervisor's backstop would kill the host, and the neighbour).
    server = server_factory(
        {"VORTEX_CPU_LIMIT_MS": "300", "VORTEX_WALL_LIMIT_MS": "20000"}, workers=1
    )
    # After an await of instantiate, as most code does: that turn, too, is the run's.
    spin = f"""
const bytes = Uint8Array.from(atob('{b64(SPIN_WASM)}'), (c) => c.charCodeAt(0));
const {{ instance }} = await WebAssembly.instantiate(bytes);
instance.exports.spin();
"""
    neighbour = (
        "let n = 0; for (let i = 0; i < 5; i += 1) { await new Promise((r) => setTimeout(r, 10)); n += i; }"
        " Vortex.return(n);"
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        ids = []
        for code in (spin, neighbour):
            async with http.post("/deploy", json={"code": code}) as response:
                ids.append((await response.json())["function_id"])
        pids = set(server.host_pids())

        async def execute(function_id: str) -> dict[str, Any]:
            async with http.post(f"/execute/{function_id}") as response:
                body: dict[str, Any] = await response.json()
                return body

        spun, *neighbours = await asyncio.gather(
            execute(ids[0]), *(execute(ids[1]) for _ in range(4))
        )
        assert spun["error"]["code"] == "cpu_time_exceeded", spun
        assert [body.get("output") for body in neighbours] == [10] * 4, neighbours
        assert set(server.host_pids()) == pids  # no host was killed
        async with http.get("/health") as response:
            assert (await response.json())["host_restarts"] == 0


async def test_wasm_memory_counts_towards_the_run_memory_limit(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(
        {
            "VORTEX_RUN_MEMORY_MB": "64",
            "VORTEX_HOST_MEMORY_MB": "1024",
            "VORTEX_CPU_LIMIT_MS": "3000",
            "VORTEX_WALL_LIMIT_MS": "20000",
        },
        workers=1,
    )
    grow = """
const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384 });
for (let pages = 1; pages < 16384; pages += 512) {
  memory.grow(512);  // 32 MiB more each time, written so that it is resident
  new Uint8Array(memory.buffer).fill(1);
  await new Promise((r) => setTimeout(r, 1));
}
Vortex.return(memory.buffer.byteLength);
"""
    small = """
const memory = new WebAssembly.Memory({ initial: 1 });
memory.grow(15);
new Uint8Array(memory.buffer).fill(1);
Vortex.return(memory.buffer.byteLength);
"""
    async with aiohttp.ClientSession(base_url=server.url) as http:
        results = []
        for code in (grow, small):
            async with http.post("/deploy", json={"code": code}) as response:
                function_id = (await response.json())["function_id"]
            async with http.post(f"/execute/{function_id}") as response:
                results.append(await response.json())
    assert results[0]["error"]["code"] == "memory_limit_exceeded", results[0]
    assert results[1].get("output") == 16 * 65536, results[1]
