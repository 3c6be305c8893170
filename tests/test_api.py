"""The HTTP contract of the original Vortex, through a real server and real host processes."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from tests.server import ServerProcess

Deploy = Callable[..., Awaitable[str]]

EXAMPLE = """console.log("🚀 Function starting...");

// Async operations work seamlessly
await new Promise(resolve => setTimeout(resolve, 100));

// Perform computation
const result = {
  message: "Hello from Vortex!",
  timestamp: new Date().toISOString(),
  computed: Array.from({ length: 5 }, (_, i) => i * i),
};

console.log("Result:", JSON.stringify(result, null, 2));

// Return data to the caller
Vortex.return(result);
"""


async def test_example_function_runs_as_documented(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(EXAMPLE)
    assert uuid.UUID(function_id).version == 4
    async with http.post(f"/execute/{function_id}") as response:
        assert response.status == 200
        body = await response.json()
    assert body["output"]["message"] == "Hello from Vortex!"
    assert body["output"]["computed"] == [0, 1, 4, 9, 16]
    assert body["output"]["timestamp"].endswith("Z")
    assert body["logs"][0]["message"] == "🚀 Function starting..."
    assert body["logs"][1]["message"].startswith('Result: {\n  "message": "Hello from Vortex!"')
    assert all(line["level"] == "log" and line["timestamp"].endswith("Z") for line in body["logs"])
    assert 95 <= body["execution_time_ms"] < 1000
    assert "error" not in body


async def test_health_reports_the_pool(http: aiohttp.ClientSession) -> None:
    async with http.get("/health") as response:
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "healthy"
    assert body["active_workers"] == body["max_workers"] == 2


async def test_output_is_null_without_return(http: aiohttp.ClientSession, deploy: Deploy) -> None:
    function_id = await deploy("console.log('no return')")
    async with http.post(f"/execute/{function_id}") as response:
        body = await response.json()
    assert body["output"] is None
    assert body["logs"][0]["message"] == "no return"


async def test_syntax_error_is_rejected_at_deploy_with_line_and_column(
    http: aiohttp.ClientSession,
) -> None:
    async with http.post("/deploy", json={"code": "const a = 1;\nconst b = ;\n"}) as response:
        body = await response.json()
    assert response.status == 400
    assert body["error"]["code"] == "syntax_error"
    assert body["error"]["line"] == 2
    assert body["error"]["column"] == 11
    assert "expected expression" in body["error"]["message"]


async def test_code_that_escapes_the_wrapper_is_a_syntax_error(http: aiohttp.ClientSession) -> None:
    async with http.post(
        "/deploy", json={"code": "}); while (true) {} (function () {"}
    ) as response:
        body = await response.json()
    assert response.status == 400
    assert body["error"]["code"] == "syntax_error"


async def test_code_nested_too_deeply_to_parse_is_told_as_such(
    http: aiohttp.ClientSession,
) -> None:
    """The parser's stack runs out before any syntax is wrong: said in words, not as
    "InternalError: too much recursion"; a module's build (esbuild) runs out of memory."""
    deep = "(" * 100_000 + "1" + ")" * 100_000
    async with http.post("/deploy", json={"code": deep}) as response:
        body = await response.json()
    assert response.status == 400, body
    assert body["error"]["code"] == "syntax_error"
    assert "nests too deeply" in body["error"]["message"], body
    assert "InternalError" not in body["error"]["message"]
    module = f"export default {{ fetch() {{ return {deep}; }} }};"
    async with http.post("/deploy", json={"code": module, "filename": "index.mjs"}) as response:
        body = await response.json()
    assert response.status == 400, body
    assert body["error"]["code"] == "build_limit_exceeded", body


JSON_TYPE = {"Content-Type": "application/json"}


async def test_malformed_bodies_get_json_errors(http: aiohttp.ClientSession) -> None:
    cases: list[tuple[bytes, int, str]] = [
        (b"{not json", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_request"),
        (b'{"code": 5}', 400, "invalid_request"),
        (b'{"code": "   "}', 400, "invalid_request"),
        (b'{"nothing": true}', 400, "invalid_request"),
        (b'{"code": "1", "filename": "../etc/passwd"}', 400, "invalid_request"),
    ]
    for raw, status, code in cases:
        async with http.post("/deploy", data=raw, headers=JSON_TYPE) as response:
            body = await response.json()
        assert (response.status, body["error"]["code"]) == (status, code), raw
        assert body["error"]["message"]


async def test_a_deploy_field_that_is_no_field_is_refused_by_name(
    http: aiohttp.ClientSession,
) -> None:
    """A misspelt setting was dropped: the function deployed without it and failed later (a
    fetch refused for want of its ``allow_hosts``), far from the typo."""
    for field, hint in (("allowed_hosts", '(did you mean "allow_hosts"?)'), ("compat_flags", "")):
        payload = {"code": "Vortex.return(1)", field: ["api.example.com"]}
        async with http.post("/deploy", json=payload) as response:
            body = await response.json()
        assert (response.status, body["error"]["code"]) == (400, "invalid_request"), body
        message = body["error"]["message"]
        assert message.startswith(f'unknown field "{field}"'), message
        assert hint in message and '"allow_hosts"' in message, message


async def test_oversized_bodies_are_refused(http: aiohttp.ClientSession) -> None:
    """Each limit is said in units a person reads, with the setting that raises it; over the raw
    body limit too (aiohttp answers that one in plain text). A deploy's body may be larger than
    other routes' (its code may be 10 MiB), and says so in terms of the code's limit."""
    payload = b'{"code": "' + b"a" * (22 << 20) + b'"}'
    async with http.post("/deploy", data=io.BytesIO(payload), headers=JSON_TYPE) as response:
        body = await response.json()
    assert response.status == 413
    assert body["error"] == {
        "code": "payload_too_large",
        "message": "the deploy's body is over the limit of 21 MiB (22,020,096 bytes) (twice "
        "the code's limit of 10 MiB (10,485,760 bytes), and 1 MiB); the server's operator can "
        "raise it with VORTEX_MAX_CODE_BYTES",
        "limit_bytes": 21 << 20,
        "setting": "VORTEX_MAX_CODE_BYTES",
    }
    code = "// " + "é" * ((5 << 20) + 10)
    deploy = io.BytesIO(orjson.dumps({"code": code}))
    async with http.post("/deploy", data=deploy, headers=JSON_TYPE) as response:
        body = await response.json()
    assert response.status == 413
    assert body["error"] == {
        "code": "payload_too_large",
        "message": "the code, 10.0 MiB (10,485,783 bytes) of UTF-8, is over the limit of 10 MiB "
        "(10,485,760 bytes); the server's operator can raise it with VORTEX_MAX_CODE_BYTES",
        "limit_bytes": 10 << 20,
        "setting": "VORTEX_MAX_CODE_BYTES",
    }
    # A deploy of 3 MiB of code is no longer refused by the API's body limit of 2 MiB.
    three = io.BytesIO(orjson.dumps({"code": "// " + "a" * (3 << 20) + "\nVortex.return(1);"}))
    async with http.post("/deploy", data=three, headers=JSON_TYPE) as response:
        assert response.status == 200, await response.text()
    # Elsewhere, the body's limit alone.
    chunked = io.BytesIO(payload)
    async with http.post("/session", data=chunked, headers=JSON_TYPE) as response:
        body = await response.json()
    assert response.status == 413
    assert body["error"]["message"] == (
        "the request body is over the limit of 2 MiB (2,097,152 bytes); the server's operator "
        "can raise it with VORTEX_MAX_BODY_BYTES"
    )


async def test_unknown_and_malformed_ids(http: aiohttp.ClientSession) -> None:
    for path, status, code in [
        (f"/execute/{uuid.uuid4()}", 404, "function_not_found"),
        # A slug is a name (docs/versions.md): an unknown one is not found, like an unknown id.
        ("/execute/not-a-uuid", 404, "function_not_found"),
        ("/execute/Not_A_Uuid", 400, "invalid_function_id"),
        ("/execute/%7Ba1b2c3d4-e5f6-4890-abcd-ef1234567890%7D", 400, "invalid_function_id"),
    ]:
        async with http.post(path) as response:
            body = await response.json()
        assert (response.status, body["error"]["code"]) == (status, code), path
    async with http.get(f"/ws/{uuid.uuid4()}") as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "function_not_found"


async def test_unknown_routes_and_methods(http: aiohttp.ClientSession) -> None:
    async with http.get("/nowhere") as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"
    async with http.delete("/health") as response:
        assert response.status == 405
        assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_websocket_streams_logs_while_the_run_is_going(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "console.log('before');\n"
        "await new Promise(r => setTimeout(r, 500));\n"
        "console.warn('after');\n"
        "Vortex.return(1);"
    )
    async with http.ws_connect(f"/ws/{function_id}") as ws:
        started = time.monotonic()
        run = asyncio.create_task(http.post(f"/execute/{function_id}"))
        first = await asyncio.wait_for(ws.receive_json(), 5)
        first_at = time.monotonic() - started
        assert first["message"] == "before"
        assert first["level"] == "log"
        assert not run.done(), "the first line must arrive while the run is still sleeping"
        assert first_at < 0.45
        second = await asyncio.wait_for(ws.receive_json(), 5)
        assert (second["level"], second["message"]) == ("warn", "after")
        response = await run
        body = await response.json()
        response.release()
        assert second["run_id"] == first["run_id"] == body["run_id"]
        assert set(first) >= {"level", "message", "timestamp"}


async def test_run_id_can_be_chosen_by_the_client(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy("console.log('x')")
    async with http.ws_connect(f"/ws/{function_id}") as ws:
        async with http.post(f"/execute/{function_id}", headers={"X-Vortex-Run-Id": "mine"}) as r:
            assert (await r.json())["run_id"] == "mine"
        line = await asyncio.wait_for(ws.receive_json(), 5)
        assert line["run_id"] == "mine"


async def test_list_show_and_delete_functions(http: aiohttp.ClientSession, deploy: Deploy) -> None:
    first = await deploy("Vortex.return(1)")
    second = await deploy("Vortex.return(2)", filename="two.js")
    async with http.post(f"/execute/{first}") as response:
        assert response.status == 200
    async with http.get("/functions") as response:
        listing = (await response.json())["functions"]
    ids = [f["id"] for f in listing]
    assert ids.index(second) < ids.index(first), "newest first"
    by_id = {f["id"]: f for f in listing}
    assert by_id[first]["last_run"]["ok"] is True
    assert by_id[second]["last_run"] is None
    assert by_id[second]["filename"] == "two.js"
    assert by_id[second]["size"] == len("Vortex.return(2)")
    async with http.get(f"/functions/{second}") as response:
        assert (await response.json())["code"] == "Vortex.return(2)"
    async with http.delete(f"/functions/{second}") as response:
        assert response.status == 200
    async with http.post(f"/execute/{second}") as response:
        assert response.status == 404
    async with http.delete(f"/functions/{second}") as response:
        assert response.status == 404


async def test_deployed_functions_survive_a_restart(
    server_factory: Callable[..., ServerProcess],
) -> None:
    first = server_factory()
    async with (
        aiohttp.ClientSession(base_url=first.url) as http,
        http.post("/deploy", json={"code": "Vortex.return('kept')"}) as response,
    ):
        function_id = (await response.json())["function_id"]
    first.stop()
    second = server_factory(env={"VORTEX_DATA_DIR": str(first.data_dir)})
    async with (
        aiohttp.ClientSession(base_url=second.url) as http,
        http.post(f"/execute/{function_id}") as response,
    ):
        assert (await response.json())["output"] == "kept"


async def test_a_filename_with_a_trailing_newline_is_refused(http: aiohttp.ClientSession) -> None:
    async with http.post("/deploy", json={"code": "1", "filename": "index.js\n"}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_request"


THROWS_WITH_WORK_PENDING = """export default {
  async fetch(request, env, ctx) {
    console.log('before the throw');
    ctx.waitUntil(new Promise((resolve) => setTimeout(() => { console.log('late work done'); resolve(); }, 2000)));
    throw new Error('handler failed');
  },
};
"""


async def test_execute_answers_a_thrown_handler_at_once_and_its_wait_until_goes_on(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    """As the functions listener answers (and workerd): the failure is the answer now, not in
    2 s when the waitUntil work is over; that work still runs, and the history has all of it."""
    function_id = await deploy(THROWS_WITH_WORK_PENDING, filename="index.mjs")
    started = time.monotonic()
    async with http.post(f"/execute/{function_id}") as response:
        body = await response.json()
    assert time.monotonic() - started < 1.0, body
    assert body["error"]["code"] == "function_error"
    assert body["error"]["message"] == "handler failed"
    assert body["running"] is True
    assert [line["message"] for line in body["logs"]] == ["before the throw"]
    assert body["output"] is None
    run = await _recorded_run(http, function_id, body["run_id"])
    assert [line["message"] for line in run["logs"]] == ["before the throw", "late work done"]
    assert run["error"]["code"] == "function_error"
    assert run["execution_time_ms"] >= 1900


async def _recorded_run(http: aiohttp.ClientSession, ref: str, run_id: str) -> dict[str, Any]:
    for _ in range(100):
        async with http.get(f"/functions/{ref}/runs/{run_id}") as response:
            if response.status == 200:
                run: dict[str, Any] = await response.json()
                return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} of {ref} was never recorded")
