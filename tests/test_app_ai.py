"""OpenAI's SDK and the AI SDK (Vercel's ``ai``, with ``@ai-sdk/openai``) on Vortex: the app of
tests/apps/ai, written as their docs show for Workers, bundled with the real packages by
``vortex deploy``, calling an OpenAI-compatible API the test serves (answers and streams of
server-sent events, as OpenAI sends them, a word every 20 ms).

The AI SDK's streamText gives a stream of its own an iterator
(``stream[Symbol.asyncIterator] = ...``): that threw "Symbol.asyncIterator is read-only" (the
override mistake on ReadableStream's frozen prototype) until web prototypes let instances
shadow their methods (harness/boot.js ``allowOverrides``). OpenAI's SDK ran unchanged; its
streams read a fetch body as it comes.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.npm_apps import apps_project, call, deploy_app
from tests.server import ServerProcess
from tests.threaded_app import app_in_thread

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")

WORDS = ["Hello", " from", " the", " model", "!"]
KEY = "sk-test-key"


def _chunk(model: str, delta: dict[str, str], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model}
    return f"data: {json.dumps({**body, 'choices': [choice]})}\n\n".encode()


def _fake_openai(requests: list[dict[str, Any]]) -> web.Application:
    async def completions(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        body = await request.json()
        requests.append(body)
        model = body["model"]
        usage = {"prompt_tokens": 3, "completion_tokens": len(WORDS), "total_tokens": 8}
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(WORDS)}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return web.json_response(
                {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model}
                | {"choices": [choice], "usage": usage}
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for i, word in enumerate(WORDS):
            role = {"role": "assistant"} if i == 0 else {}
            await response.write(_chunk(model, role | {"content": word}))
            await asyncio.sleep(0.02)
        await response.write(_chunk(model, {}, "stop"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    return app


@pytest.fixture(scope="module")
def model() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    requests: list[dict[str, Any]] = []
    with app_in_thread(_fake_openai(requests)) as port:
        yield port, requests


@pytest.fixture(scope="module")
def ai(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    edge: ServerProcess,
    model: tuple[int, list[dict[str, Any]]],
) -> Any:
    folder = apps_project(request, tmp_path_factory) / "ai"
    return deploy_app(
        edge,
        folder,
        *("index.mjs", "--name", "ai-app", "--allow-host", "127.0.0.1"),
        *("--env", f"OPENAI_BASE_URL=http://127.0.0.1:{model[0]}/v1"),
        *("--secret", f"OPENAI_API_KEY={KEY}"),
    )


async def test_openai_sdk_completes_and_streams(ai: Any) -> None:
    async with aiohttp.ClientSession() as client:
        done = await call(client, "GET", ai("/openai/complete"))
        passed = await call(client, "GET", ai("/openai/stream"))
        iterated = await call(client, "GET", ai("/openai/iterate"))
    assert done.json() == {
        "text": "Hello from the model!",
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }
    lines = [json.loads(line) for line in passed.text.splitlines()]
    assert [line["choices"][0]["delta"].get("content") for line in lines] == [*WORDS, None]
    assert iterated.json() == {"parts": [*WORDS, ""]}


async def test_ai_sdk_generates_and_streams_text(
    ai: Any, model: tuple[int, list[dict[str, Any]]]
) -> None:
    async with aiohttp.ClientSession() as client:
        generated = await call(client, "GET", ai("/ai/generate"))
        text = await call(client, "GET", ai("/ai/text"))
        iterated = await call(client, "GET", ai("/ai/iterate"))
    assert generated.json() == {
        "text": "Hello from the model!",
        "finishReason": "stop",
        "outputTokens": 5,
    }
    assert (text.status, text.text) == (200, "Hello from the model!")
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert iterated.json() == {"parts": WORDS}
    assert model[1][-1]["messages"] == [{"role": "user", "content": "Say hello"}]


async def test_ai_sdk_ui_message_stream(ai: Any) -> None:
    async with aiohttp.ClientSession() as client:
        ui = await call(client, "GET", ai("/ai/ui"))
    assert ui.status == 200 and ui.headers["Content-Type"] == "text/event-stream"
    events = [line.removeprefix("data: ") for line in ui.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    parts = [json.loads(event) for event in events[:-1]]
    assert [part["type"] for part in parts] == [
        "start", "start-step", "text-start", *["text-delta"] * 5, "text-end", "finish-step", "finish",
    ]  # fmt: skip
    assert "".join(part.get("delta", "") for part in parts) == "Hello from the model!"
