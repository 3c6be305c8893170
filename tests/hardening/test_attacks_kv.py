"""A hostile tenant against KV's bytes and metadata (vortex/kv, js/src/harness/bindings.js):
values that never end, metadata at and past its limit or changing under the check, keys that are
no text, and a storm of concurrent puts. Each ends with KV's own stable code or the run's limit,
and the store stays whole."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from tests.hardening.attacks import assert_host_kept, restarts
from tests.hardening.conftest import Api, api_for
from tests.server import ServerProcess


@pytest.fixture(scope="module")
def kv_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers(
        {"VORTEX_CPU_LIMIT_MS": "2000", "VORTEX_WALL_LIMIT_MS": "4000"}, workers=1
    )


@pytest.fixture
def api(client: aiohttp.ClientSession, kv_server: ServerProcess) -> Api:
    return api_for(client, kv_server)


# Each case's code returns what a put did: 'ok', or the error's code (KV's own), or its name.
OUTCOME = """
const outcome = (promise) => promise.then(() => 'ok', (e) => e.code || e.name);
"""

CASES = [
    (
        "stream-that-never-ends",
        "const chunk = new Uint8Array(64 * 1024);"
        "Vortex.return(await outcome(Vortex.kv.put('k', new ReadableStream({ pull(c) { c.enqueue(chunk); } }))));",
        "kv_value_too_large",
    ),
    (
        "stream-of-tiny-chunks-that-never-ends",
        "const chunk = new Uint8Array(1);"
        "Vortex.return(await outcome(Vortex.kv.put('k', new ReadableStream({ pull(c) { for (let i = 0; i < 1000; i++) c.enqueue(chunk); } }))));",
        # 131,072 one-byte chunks cost the stream polyfill about 2 s of CPU: either limit.
        ("kv_value_too_large", "cpu_time_exceeded"),
    ),
    (
        "stream-that-errors",
        "Vortex.return(await outcome(Vortex.kv.put('k', new ReadableStream({ pull(c) { c.error(new TypeError('no')); } }))));",
        "TypeError",
    ),
    (
        "stream-of-strings",
        "Vortex.return(await outcome(Vortex.kv.put('k', new ReadableStream({ start(c) { c.enqueue('text'); c.close(); } }))));",
        "TypeError",
    ),
    (
        "metadata-at-the-limit",
        "Vortex.return(await outcome(Vortex.kv.put('k', 'v', { metadata: 'x'.repeat(1022) })));",
        "ok",
    ),
    (
        "metadata-one-past-the-limit",
        "Vortex.return(await outcome(Vortex.kv.put('k', 'v', { metadata: 'x'.repeat(1023) })));",
        "kv_metadata_too_large",
    ),
    (
        "metadata-of-multibyte-text-the-js-check-lets-through",
        "Vortex.return(await outcome(Vortex.kv.put('k', 'v', { metadata: '☃'.repeat(1000) })));",
        "kv_metadata_too_large",
    ),
    (
        "metadata-that-grows-after-its-check",
        "let reads = 0; const o = { get metadata() { return ++reads === 1 ? 'small' : 'x'.repeat(1 << 20); } };"
        "const stream = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(4)); c.close(); } });"
        "Vortex.return(await outcome(Vortex.kv.put('k', stream, o)));",
        ("ok", "kv_metadata_too_large"),
    ),
    (
        "metadata-nested-past-json-depth",
        "let m = 0; for (let i = 0; i < 300; i++) m = [m];"
        "Vortex.return(await outcome(Vortex.kv.put('k', 'v', { metadata: m })));",
        ("kv_invalid_metadata", "kv_metadata_too_large"),
    ),
    (
        "metadata-with-a-lone-surrogate",
        "Vortex.return(await outcome(Vortex.kv.put('k', 'v', { metadata: '\\ud800' })));",
        ("ok", "kv_invalid_metadata"),
    ),
    (
        "metadata-of-a-bigint",
        "Vortex.return(await outcome(Vortex.kv.put('k', 'v', { metadata: 1n })));",
        ("TypeError", "kv_invalid_metadata"),
    ),
    (
        "key-of-bytes",
        "Vortex.return(await outcome(Vortex.kv.put(new Uint8Array([1, 2, 3]), 'v')));",
        "kv_invalid_key",
    ),
    (
        "key-with-a-lone-surrogate",
        # Made well-formed on its way out, as Workers' USVString keys are: it is the key of U+FFFD.
        "await Vortex.kv.put('a\\ud800b', 'v'); Vortex.return(await Vortex.kv.get('a\\ufffdb'));",
        "v",
    ),
    (
        "key-with-nul-and-controls",
        "await Vortex.kv.put('a\\u0000b\\u0001\\uffff', 'v');"
        "Vortex.return([await Vortex.kv.get('a\\u0000b\\u0001\\uffff'), await Vortex.kv.get('a')]);",
        ["v", None],
    ),
    (
        "key-one-past-its-limit",
        "Vortex.return(await outcome(Vortex.kv.put('☃'.repeat(171), 'v')));",
        "kv_key_too_long",
    ),
    (
        "value-with-a-lone-surrogate",
        "Vortex.return(await outcome(Vortex.kv.put('k', 'a\\udc00')));",
        ("ok", "kv_invalid_value"),
    ),
    (
        "thousands-of-concurrent-puts",
        "const all = [];"
        "for (let i = 0; i < 900; i++) all.push(Vortex.kv.put('c' + (i % 50), new Uint8Array(1000).fill(i % 256), { metadata: { i } }));"
        "await Promise.all(all);"
        "const last = await Vortex.kv.getWithMetadata('c49', 'arrayBuffer');"
        "Vortex.return([new Uint8Array(last.value)[0], last.metadata.i, (await Vortex.kv.list({ prefix: 'c' })).keys.length]);",
        [899 % 256, 899, 50],
    ),
    (
        "puts-past-the-calls-of-a-run",
        "const all = [];"
        "for (let i = 0; i < 1100; i++) all.push(outcome(Vortex.kv.put('d' + i, 'v')));"
        "Vortex.return([...new Set(await Promise.all(all))].sort());",
        ["binding_call_limit_exceeded", "ok"],
    ),
]


@pytest.mark.parametrize(("name", "code", "expected"), CASES, ids=[case[0] for case in CASES])
async def test_kv_attacks_end_with_kvs_own_codes(
    api: Api, name: str, code: str, expected: object
) -> None:
    before = await restarts(api)
    result = await api.run(OUTCOME + code)
    allowed = expected if isinstance(expected, tuple) else (expected,)
    if result.code is not None:
        assert result.code in allowed, (name, result.body)
    else:
        assert result.body["output"] in allowed, (name, result.body)
    await assert_host_kept(api, before)


async def test_a_stream_that_never_produces_ends_at_the_wall(api: Api) -> None:
    before = await restarts(api)
    result = await api.run(
        "await Vortex.kv.put('k', new ReadableStream({ pull() { return new Promise(() => {}); } }));"
    )
    assert result.code == "wall_time_exceeded", result.body
    await assert_host_kept(api, before)
