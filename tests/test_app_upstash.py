"""@upstash/redis on Vortex: the app of tests/apps/upstash, written as Upstash's Cloudflare docs
show, bundled with the real package by ``vortex deploy`` and calling a fake of Upstash's REST API
served by the test (the commands it gets, answered from a dict, base64-encoded as Upstash
answers the SDK's ``Upstash-Encoding: base64``).

The SDK's ``Script`` class has a method named ``eval``: SES's source check, a regular
expression, read ``async eval(keys, args) {`` as a direct eval and the deploy was refused
(vortex/modules/literals.py now quotes the name).
"""

from __future__ import annotations

import base64
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

TOKEN = "upstash-test-token"


def _encoded(value: Any) -> Any:
    """A result as Upstash sends it to the SDK: each string base64, but "OK"."""
    if isinstance(value, str) and value != "OK":
        return base64.b64encode(value.encode()).decode()
    if isinstance(value, list):
        return [_encoded(item) for item in value]
    return value


def _fake_upstash(commands: list[list[Any]]) -> web.Application:
    data: dict[str, Any] = {}

    def run(command: list[Any]) -> Any:
        commands.append(command)
        name, args = command[0].lower(), command[1:]
        if name == "set":
            data[args[0]] = args[1]
            return "OK"
        if name == "get":
            return data.get(args[0])
        if name == "incr":
            data[args[0]] = str(int(data.get(args[0], "0")) + 1)
            return int(data[args[0]])
        if name == "del":
            return sum(data.pop(key, None) is not None for key in args)
        if name == "hset":
            fields = data.setdefault(args[0], {})
            pairs = dict(zip(args[1::2], args[2::2], strict=True))
            added = len(pairs.keys() - fields.keys())
            fields.update(pairs)
            return added
        if name == "hgetall":
            return [item for pair in data.get(args[0], {}).items() for item in pair]
        if name == "eval":  # the script the app sends returns its first argument
            keys = int(args[1])
            return args[2 + keys]
        raise web.HTTPBadRequest(text=f'{{"error": "ERR unknown command {name}"}}')

    async def rest(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "Unauthorized"}, status=401)
        body = await request.json()
        encode = _encoded if request.headers.get("Upstash-Encoding") == "base64" else lambda v: v
        if request.path in ("/pipeline", "/multi-exec"):
            return web.json_response([{"result": encode(run(command))} for command in body])
        return web.json_response({"result": encode(run(body))})

    app = web.Application()
    app.router.add_post("/{tail:.*}", rest)
    return app


@pytest.fixture(scope="module")
def upstash() -> Iterator[tuple[int, list[list[Any]]]]:
    commands: list[list[Any]] = []
    with app_in_thread(_fake_upstash(commands)) as port:
        yield port, commands


@pytest.fixture(scope="module")
def app_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    edge: ServerProcess,
    upstash: tuple[int, list[list[Any]]],
) -> Any:
    folder = apps_project(request, tmp_path_factory) / "upstash"
    port, _ = upstash
    return deploy_app(
        edge,
        folder,
        *("index.mjs", "--name", "upstash-app", "--allow-host", "127.0.0.1"),
        *("--env", f"UPSTASH_REDIS_REST_URL=http://127.0.0.1:{port}"),
        *("--secret", f"UPSTASH_REDIS_REST_TOKEN={TOKEN}"),
    )


async def test_upstash_commands_pipeline_and_script(
    app_url: Any, upstash: tuple[int, list[list[Any]]]
) -> None:
    _, commands = upstash
    async with aiohttp.ClientSession() as client:
        assert (await call(client, "GET", app_url("/set"))).json() == {"set": "OK"}
        got = await call(client, "GET", app_url("/get"))
        # the SDK stores JSON and reads it back as an object
        assert got.json() == {"user": {"name": "Ada", "visits": 1}, "hits": 1}
        assert (await call(client, "GET", app_url("/get"))).json()["hits"] == 2
        piped = await call(client, "GET", app_url("/pipeline"))
        assert piped.json() == [2, {"lang": "en", "theme": "dark"}, 1]
        # the method named eval, which the deploy check took for a direct eval
        scripted = await call(client, "GET", app_url("/script"))
        assert scripted.json() == {"eval": "héllo"}
    assert commands[0] == ["set", "user", '{"name":"Ada","visits":1}']
    assert commands[-1] == ["eval", "return ARGV[1]", 0, "héllo"]
