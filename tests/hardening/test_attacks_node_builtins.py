"""A hostile tenant against the Node.js built-ins (node:buffer, node:events, node:util,
node:process, node:crypto, node:assert...): each attack ends in the run's own limit or a function error, its host kept,
and nothing of the host (Python, its env, its files, other tenants) is reached through them."""

from __future__ import annotations

import json
from collections.abc import Callable

import aiohttp
import pytest

from tests.hardening.attacks import assert_host_kept, restarts, run_record
from tests.hardening.conftest import Api, api_for
from tests.server import ServerProcess


@pytest.fixture(scope="module")
def node_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers({}, workers=1)


@pytest.fixture
def api(client: aiohttp.ClientSession, node_server: ServerProcess) -> Api:
    return api_for(client, node_server)


IMPORTS = (
    'import { Buffer } from "node:buffer";\n'
    'import { EventEmitter } from "node:events";\n'
    'import util from "node:util";\n'
    'import process from "node:process";\n'
    'import { StringDecoder } from "node:string_decoder";\n'
    'import crypto from "node:crypto";\n'
    'import assert from "node:assert";\n'
)


def module(body: str) -> str:
    return IMPORTS + "export default { async fetch(request) {\n" + body + "\n} };\n"


CASES: list[tuple[str, str, str]] = [
    (
        "buffers-until-memory-runs-out",
        "const keep = []; for (;;) keep.push(Buffer.alloc(16 << 20, 1));",
        "memory_limit_exceeded",
    ),
    (
        "a-buffer-past-its-maximum",
        "Buffer.alloc(2 ** 53);",
        "function_error",
    ),
    (
        "an-emitter-that-emits-itself",
        "const e = new EventEmitter(); e.on('x', () => e.emit('x')); e.emit('x');",
        "function_error",
    ),
    (
        "next-tick-without-end",
        "const spin = () => process.nextTick(spin); spin(); await new Promise(() => {});",
        "cpu_time_exceeded",
    ),
    (
        "listeners-without-end",
        "const e = new EventEmitter(); e.setMaxListeners(0);for (;;) e.on('x', () => {});",
        "memory_limit_exceeded",
    ),
    (
        "inspect-of-a-hostile-proxy",
        "const p = new Proxy({}, { ownKeys() { throw new Error('no'); } });"
        "return new Response(util.inspect(p));",
        "function_error",
    ),
    (
        "a-decoder-fed-without-end",
        "const d = new StringDecoder('utf8'); const chunk = Buffer.alloc(1 << 20, 0xe2);"
        "let s = ''; for (;;) s += d.write(chunk);",
        "memory_limit_exceeded",
    ),
    (
        # Hashing is the function's own CPU: a huge input hashed again and again ends in the
        # run's CPU limit, in the function's own thread, like any loop.
        "hashing-a-huge-input-without-end",
        "const chunk = Buffer.alloc(8 << 20, 7);"
        "for (;;) crypto.createHash('sha512').update(chunk).update(chunk).digest();",
        "cpu_time_exceeded",
    ),
    (
        "hmac-of-a-huge-key-without-end",
        "const key = crypto.randomBytes(4 << 20);"
        "for (;;) crypto.createHmac('sha256', key).update('x').digest('hex');",
        "cpu_time_exceeded",
    ),
    (
        "random-bytes-past-their-maximum",
        "crypto.randomBytes(2 ** 31);",
        "function_error",
    ),
    (
        "pbkdf2-of-a-billion-iterations",
        "await new Promise((resolve, reject) => crypto.pbkdf2('pw', 'salt', 2 ** 31 - 1, 64,"
        " 'sha512', (err, key) => (err ? reject(err) : resolve(key))));",
        "cpu_time_exceeded",
    ),
    (
        "an-assertion-whose-message-is-a-hostile-proxy",
        "const p = new Proxy({}, { ownKeys() { throw new Error('no'); } });"
        "assert.deepStrictEqual(p, {});",
        "function_error",
    ),
]


@pytest.mark.parametrize(("name", "body", "expected"), CASES, ids=[case[0] for case in CASES])
async def test_node_builtin_attacks_end_in_the_runs_own_limits(
    api: Api, name: str, body: str, expected: str
) -> None:
    before = await restarts(api)
    function_id = await api.deploy(module(body), filename="index.mjs")
    async with api.http.get(api.server.fn_url(function_id)) as response:
        run_id = response.headers["x-vortex-run-id"]
        assert response.status >= 500, name
    record = await run_record(api, function_id, run_id)
    code = (record.get("error") or {}).get("code")
    allowed = {expected, "cpu_time_exceeded"} if expected == "memory_limit_exceeded" else {expected}
    assert code in allowed, (name, record)
    await assert_host_kept(api, before)


REACH = module("""
const found = {};
found.env = Object.keys(process.env);
found.hostish = ['binding', 'dlopen', 'mainModule', 'kill', 'stdout', 'getuid'].filter((n) => process[n] !== undefined);
let fs = 'refused';
const named = (...parts) => parts.join('');
try { require(named('f', 's')); fs = 'loaded'; } catch (err) { fs = err.message; }
found.fs = fs;
let nodeFs = 'refused';
try { require(named('node:', 'fs')); nodeFs = 'loaded'; } catch (err) { nodeFs = err.message; }
found.nodeFs = nodeFs;
try { Buffer.constructor.constructor('return this')(); found.escape = 'escaped'; } catch (err) { found.escape = err.name; }
found.python = typeof globalThis.python + ' ' + typeof globalThis.pmEval;
found.sameGlobal = new Function('return globalThis')() === globalThis;
found.frozenIntrinsic = Object.isFrozen(Uint8Array.prototype);
return Response.json(found);
""")


async def test_the_builtins_reach_nothing_of_the_host(api: Api) -> None:
    before = await restarts(api)
    function_id = await api.deploy(REACH, filename="index.mjs", env={"MINE": "1"})
    async with api.http.get(api.server.fn_url(function_id)) as response:
        assert response.status == 200, await response.text()
        found = json.loads(await response.text())
    assert found == {
        "env": ["MINE"],
        "hostish": [],
        "fs": "Cannot find module 'fs' imported by index.mjs",
        "nodeFs": "Cannot find module 'node:fs' imported by index.mjs",
        "escape": "TypeError",
        "python": "undefined undefined",
        "sameGlobal": True,
        "frozenIntrinsic": True,
    }
    await assert_host_kept(api, before)
