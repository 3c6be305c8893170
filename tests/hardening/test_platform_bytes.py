"""Bytes user code hands to the platform (stream chunks, fetch() bodies) are copied by the engine
from real Uint8Arrays before anything crosses to Python, and no Python exception (its text, its
traceback or the path of a file of the host) ever reaches user code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.hardening.conftest import assert_no_traceback
from tests.server import ServerProcess

# A Proxy of a Uint8Array passes `instanceof Uint8Array`; its elements are whatever it says.
FAKE = """
const fake = () => new Proxy(new Uint8Array(3), {
  get(target, key) {
    if (key === 'length' || key === 'byteLength') return 3;
    if (/^[0-9]+$/.test(String(key))) return 0x1F600;
    return Reflect.get(target, key);
  },
});
const streamOf = (chunk) => new ReadableStream({ start(c) { c.enqueue(chunk); c.close(); } });
const described = (e) => ({
  name: e && e.name, message: String(e && e.message), stack: String(e && e.stack),
  fileName: String(e && e.fileName),
});
"""

HOST_MARKERS = ("Python", "Traceback", "bridge.py", "/work/", "site-packages")


def assert_clean(error: dict[str, Any]) -> None:
    """An error user code caught: a TypeError that names nothing of the host."""
    assert error["name"] == "TypeError", error
    for field in ("message", "stack", "fileName"):
        text = error[field]
        assert_no_traceback(text, field)
        for marker in HOST_MARKERS:
            assert marker not in text, f"{field} shows {marker!r}: {text}"


async def _execute(http: aiohttp.ClientSession, code: str) -> dict[str, Any]:
    async with http.post(
        "/deploy", json={"code": code, "allow_hosts": ["example.com"]}
    ) as response:
        deployed = await response.json()
        assert response.status == 200, deployed
    async with http.post(f"/execute/{deployed['function_id']}") as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def test_a_proxy_of_a_uint8array_is_no_chunk_of_a_response_body(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    code = FAKE + "export default { fetch() { return new Response(streamOf(fake())); } };"
    body = await _execute(http, code)
    assert body["error"]["code"] == "function_error"
    assert body["error"]["name"] == "TypeError", body["error"]
    assert "Uint8Array chunks" in body["error"]["message"]
    assert_no_traceback(str(body), "execute")
    assert "Python" not in str(body) and "bridge.py" not in str(body)


async def test_a_proxy_of_a_uint8array_is_no_chunk_of_a_fetch_or_response_body(
    run: Callable[[str], Awaitable[dict[str, Any]]],
) -> None:
    code = FAKE + (
        "const out = {};\n"
        "try { await fetch('http://example.com/', { method: 'POST', body: streamOf(fake()),"
        " duplex: 'half' }); out.fetchStream = 'sent'; } catch (e) { out.fetchStream = described(e); }\n"
        "try { await fetch('http://example.com/', { method: 'POST', body: fake() });"
        " out.fetchProxy = 'sent'; } catch (e) { out.fetchProxy = described(e); }\n"
        "try { await new Response(streamOf(fake())).text(); out.text = 'read'; }"
        " catch (e) { out.text = described(e); }\n"
        "Vortex.return(out);"
    )
    body = await run(code)
    assert "error" not in body, body["error"]
    out = body["output"]
    for case in ("fetchStream", "fetchProxy", "text"):
        assert isinstance(out[case], dict), (case, out[case])
        assert_clean(out[case])


async def test_a_chunk_is_measured_by_its_bytes_not_by_what_it_says(
    run: Callable[[str], Awaitable[dict[str, Any]]],
) -> None:
    # A real Uint8Array may carry an own `length` that lies: the platform reads its internal slots.
    code = (
        "const chunk = new Uint8Array([104, 105, 33]);\n"
        "Object.defineProperty(chunk, 'length', { value: 0 });\n"
        "Object.defineProperty(chunk, 'byteLength', { value: 0 });\n"
        "const stream = new ReadableStream({ start(c) { c.enqueue(chunk); c.close(); } });\n"
        "Vortex.return(await new Response(stream).text());"
    )
    body = await run(code)
    assert body.get("output") == "hi!", body
