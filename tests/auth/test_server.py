"""API keys end to end: a real ``vortex serve``, keys made with the ``vortex keys`` CLI."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.server import REPO, ServerProcess
from vortex.client import VortexClient


def vortex_keys(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vortex", "keys", *args, "--data-dir", str(server.data_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_keys_made_with_the_cli_guard_a_running_server(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    assert "Access: no API keys, single-tenant" in server.log()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        assert (await http.get("/functions")).status == 200  # single-tenant until a key exists
        created = vortex_keys(server, "create", "--namespace", "acme", "--json")
        assert created.returncode == 0, created.stderr
        made = json.loads(created.stdout)
        token, key_id = made["key"], made["id"]
        assert made["namespace"] == "acme" and token.startswith("vx_acme_")
        metrics = vortex_keys(server, "create", "--metrics")
        metrics_token = metrics.stdout.strip()
        server.wait_for_keys(token, metrics_token)

        response = await http.get("/functions")
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"
        assert (await http.get("/health")).status == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/functions", headers=bearer)).status == 200
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
        assert response.status == 200
        assert (await http.get("/metrics", headers=bearer)).status == 403

        async with VortexClient(server.url, api_key=token) as client:
            function_id = await client.deploy('console.log("hi"); Vortex.return(42);')
            async with client.tail(function_id) as logs:
                result = await client.execute(function_id)
                assert result.output == 42
                line = await asyncio.wait_for(anext(aiter(logs)), 10)
                assert line.message == "hi"
        async with VortexClient(server.url, api_key="vx_acme_wrong-wrong-wrong") as client:
            try:
                await client.list_functions()
            except Exception as exc:
                assert getattr(exc, "status", None) == 401
            else:
                raise AssertionError("a wrong key was accepted")

        listed = json.loads(vortex_keys(server, "list", "--json").stdout)
        assert {k["namespace"] for k in listed["keys"]} == {"acme", None}
        assert token not in json.dumps(listed)
        revoked = vortex_keys(server, "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        server.wait_for_keys(metrics_token, refused=[token])
        assert (await http.get("/functions", headers=bearer)).status == 401


def test_keys_say_which_store_they_use(tmp_path: Path) -> None:
    # Run elsewhere than the server's folder, `keys create` made a key the server never reads
    # and `keys list` said "No API keys" about a folder nobody named.
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_ADDR", "VORTEX_REDIS_URL")}
    env["VORTEX_DATA_DIR"] = str(tmp_path / "data")
    run = functools.partial(
        subprocess.run, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
    )
    listed = run([sys.executable, "-m", "vortex", "keys", "list"])
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(f"No API keys in {tmp_path / 'data'}:")
    made = run([sys.executable, "-m", "vortex", "keys", "create", "--namespace", "acme"])
    assert made.returncode == 0, made.stderr
    assert f"for namespace acme (in {tmp_path / 'data'})" in made.stderr


def vortex_cli(
    server: ServerProcess, *args: str, env_key: str | None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VORTEX_API_KEY"}
    env.update(VORTEX_URL=server.url, NO_COLOR="1")
    if env_key is not None:
        env["VORTEX_API_KEY"] = env_key
    return subprocess.run(
        [sys.executable, "-m", "vortex", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_api_key_option_overrides_the_variable(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    made = json.loads(vortex_keys(server, "create", "--namespace", "acme", "--json").stdout)
    token = made["key"]
    server.wait_for_keys(token)

    listed = vortex_cli(server, "list", "--json", env_key=token)
    assert listed.returncode == 0, listed.stderr
    # The option wins over a wrong variable...
    listed = vortex_cli(server, "--api-key", token, "list", "--json", env_key="vx_acme_wrong")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"functions": []}
    # ...and a wrong option over a good variable.
    refused = vortex_cli(server, "--api-key", "vx_acme_wrong", "list", "--json", env_key=token)
    assert refused.returncode != 0
    assert json.loads(refused.stdout)["error"]["code"] == "unauthorized"
    assert "Traceback" not in refused.stderr
    # Without any key, the one line says how to give the CLI one.
    keyless = vortex_cli(server, "list", env_key=None)
    assert keyless.returncode == 1, keyless
    assert "an API key is required" in keyless.stderr
    assert "VORTEX_API_KEY or `vortex --api-key KEY`" in keyless.stderr
    # Every command that talks to the server sends it (here: deploy, then run).
    Path(server.data_dir / "hello.js").write_text("Vortex.return('hi');")
    deployed = vortex_cli(
        server,
        "--api-key",
        token,
        "deploy",
        str(server.data_dir / "hello.js"),
        "--json",
        env_key=None,
    )
    assert deployed.returncode == 0, deployed.stderr
    function_id = json.loads(deployed.stdout)["function_id"]
    ran = vortex_cli(server, "--api-key", token, "run", function_id, "--json", env_key=None)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["output"] == "hi"
    helped = vortex_cli(server, "--help", env_key=None)
    assert "--api-key KEY" in helped.stdout


async def test_a_revoked_key_closes_its_websockets(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """A tail opened with a key ends within the key cache's period once the key is revoked
    (close code 4401), and receives nothing after; a tail of another key stays open."""
    server = server_factory(workers=1)
    revoked_token, revoked_id = _made(
        vortex_keys(server, "create", "--namespace", "acme", "--json")
    )
    kept_token, _ = _made(vortex_keys(server, "create", "--namespace", "acme", "--json"))
    await asyncio.sleep(2.1)  # the server's cache of "no keys"
    async with VortexClient(server.url, api_key=kept_token) as client:
        function_id = await client.deploy('console.log("line"); Vortex.return(1);')
    async with aiohttp.ClientSession(base_url=server.ws_url) as http:
        revoked_ws = await http.ws_connect(
            f"/ws/{function_id}", headers={"Authorization": f"Bearer {revoked_token}"}
        )
        kept_ws = await http.ws_connect(
            f"/ws/{function_id}", headers={"Authorization": f"Bearer {kept_token}"}
        )
        assert vortex_keys(server, "revoke", revoked_id).returncode == 0
        started = asyncio.get_running_loop().time()
        message = await asyncio.wait_for(revoked_ws.receive(), 10)
        elapsed = asyncio.get_running_loop().time() - started
        assert message.type == aiohttp.WSMsgType.CLOSE, message
        assert revoked_ws.close_code == 4401
        assert "revoked" in str(message.extra)
        assert elapsed < 5.0  # the cache period (2 s) and one check period (2 s)
        async with VortexClient(server.url, api_key=kept_token) as client:
            await client.execute(function_id)
        line = json.loads((await asyncio.wait_for(kept_ws.receive(), 10)).data)
        assert line["message"] == "line"
        await kept_ws.close()
        await revoked_ws.close()


async def test_a_tail_opened_without_a_key_ends_once_keys_exist(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    async with VortexClient(server.url) as client:
        function_id = await client.deploy("Vortex.return(1);")
    async with aiohttp.ClientSession(base_url=server.ws_url) as http:
        ws = await http.ws_connect(f"/ws/{function_id}")
        _made(vortex_keys(server, "create", "--namespace", "acme", "--json"))
        message = await asyncio.wait_for(ws.receive(), 10)
        assert message.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4401
        await ws.close()


def _made(created: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    return str(made["key"]), str(made["id"])
