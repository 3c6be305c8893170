"""Per-function environment: variables and secrets given at deploy reach the code (Vortex.env,
the env of fetch), and secret values are never returned by the API nor logged."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import orjson

from tests.server import ServerProcess

Deploy = Callable[..., Awaitable[str]]
SECRET = "s3cr3t-" + uuid.uuid4().hex


async def test_scripts_see_vortex_env(http: aiohttp.ClientSession, deploy: Deploy) -> None:
    function_id = await deploy(
        """
        let frozen;
        try { Vortex.env.MODE = 'changed'; frozen = 'writable'; } catch (e) { frozen = e.name; }
        Vortex.return({ env: { ...Vortex.env }, frozen, keys: Object.keys(Vortex.env).sort(),
                        proto: Object.getPrototypeOf(Vortex.env) === Object.prototype });
        """,
        env={"MODE": "production", "EMPTY": ""},
        secrets={"API_KEY": SECRET},
    )
    async with http.post(f"/execute/{function_id}") as response:
        output = (await response.json())["output"]
    assert output == {
        "env": {"MODE": "production", "EMPTY": "", "API_KEY": SECRET},
        "frozen": "TypeError",
        "keys": ["API_KEY", "EMPTY", "MODE"],
        "proto": True,
    }
    bare = await deploy("Vortex.return(Object.keys(Vortex.env))")
    async with http.post(f"/execute/{bare}") as response:
        assert (await response.json())["output"] == []


async def test_fetch_handlers_get_env(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default { fetch(request, env) { return Response.json({ ...env }); } };",
        env={"GREETING": "hi"},
        secrets={"TOKEN": SECRET},
    )
    async with http.get(server.fn_url(function_id)) as response:
        assert await response.json() == {"GREETING": "hi", "TOKEN": SECRET}


async def test_secret_values_are_never_returned_or_logged(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "Vortex.return(Vortex.env.TOKEN.length)", env={"PLAIN": "shown"}, secrets={"TOKEN": SECRET}
    )
    async with http.post(f"/execute/{function_id}") as response:
        assert (await response.json())["output"] == len(SECRET)
    async with http.get(f"/functions/{function_id}") as response:
        raw_one = await response.read()
    async with http.get("/functions") as response:
        raw_all = await response.read()
    shown = orjson.loads(raw_one)
    assert shown["env"] == {"PLAIN": "shown"}
    assert shown["secrets"] == ["TOKEN"]
    listed = next(f for f in orjson.loads(raw_all)["functions"] if f["id"] == function_id)
    assert listed["secrets"] == ["TOKEN"]
    for raw in (raw_one, raw_all):
        assert SECRET.encode() not in raw
    assert SECRET not in server.log()


async def test_invalid_env_is_refused(http: aiohttp.ClientSession) -> None:
    for extra, needle in [
        ({"env": {"1BAD": "x"}}, "not a variable name"),
        ({"env": {"OK": 1}}, "string values"),
        ({"env": ["A=1"]}, "string values"),
        ({"secrets": {"with-dash": "x"}}, "not a variable name"),
        ({"env": {"SAME": "a"}, "secrets": {"SAME": "b"}}, "both"),
    ]:
        async with http.post("/deploy", json={"code": "1", **extra}) as response:
            body = await response.json()
        assert response.status == 400, extra
        assert body["error"]["code"] == "invalid_request"
        assert needle in body["error"]["message"], body


async def test_records_written_before_env_existed_still_load(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # The record of the first Vortex release: no kind, env, secrets or allow_hosts.
    code = b"Vortex.return(Object.keys(Vortex.env).length)"
    sha = hashlib.sha256(code).hexdigest()
    function_id = str(uuid.uuid4())
    code_path = server.data_dir / "code" / sha[:2] / f"{sha}.js"
    code_path.parent.mkdir(parents=True, exist_ok=True)
    code_path.write_bytes(code)
    record = {
        "id": function_id,
        "code_sha256": sha,
        "size": len(code),
        "created_at": "2026-01-01T00:00:00.000Z",
        "filename": "index.js",
    }
    (server.data_dir / "functions").mkdir(parents=True, exist_ok=True)
    (server.data_dir / "functions" / f"{function_id}.json").write_bytes(orjson.dumps(record))
    async with http.post(f"/execute/{function_id}") as response:
        assert (await response.json())["output"] == 0
    async with http.get(f"/functions/{function_id}") as response:
        shown = await response.json()
    assert (shown["kind"], shown["env"], shown["secrets"], shown["allow_hosts"]) == (
        "script",
        {},
        [],
        [],
    )


async def test_the_cli_deploys_with_env_secrets_and_hosts(
    server: ServerProcess, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    source = tmp_path / "worker.mjs"
    source.write_text("export default { fetch(r, env) { return Response.json(env); } };\n")
    command = [sys.executable, "-m", "vortex", "deploy", str(source), "--json"]
    options = ["--env", "MODE=prod", "--env", "EQ=a=b", "--secret", f"TOKEN={SECRET}"]
    options += ["--allow-host", "api.example.com"]
    environment = {**os.environ, "VORTEX_URL": server.url}
    done = await asyncio.to_thread(
        subprocess.run,
        command + options,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    function_id = json.loads(done.stdout)["function_id"]
    async with http.get(server.fn_url(function_id)) as response:
        assert await response.json() == {"MODE": "prod", "EQ": "a=b", "TOKEN": SECRET}
    async with http.get(f"/functions/{function_id}") as response:
        shown = await response.json()
    assert (shown["secrets"], shown["allow_hosts"]) == (["TOKEN"], ["api.example.com"])
    bad = await asyncio.to_thread(
        subprocess.run,
        [*command, "--env", "NO_EQUALS"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "--env takes KEY=VALUE" in bad.stderr


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_secrets_are_sealed_at_rest_and_a_lost_key_is_a_clear_error(
    server_factory: Callable[..., ServerProcess],
) -> None:
    first = server_factory(workers=1)
    code = "Vortex.return(Vortex.env.TOKEN)"
    async with aiohttp.ClientSession(base_url=first.url) as http:
        async with http.post("/deploy", json={"code": code, "secrets": {"TOKEN": SECRET}}) as r:
            function_id = (await r.json())["function_id"]
        async with http.post(f"/execute/{function_id}") as response:
            assert (await response.json())["output"] == SECRET
    assert _files_holding(first.data_dir, SECRET.encode()) == []
    key_file = first.data_dir / "secrets.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    first.stop()
    key_file.unlink()  # lost: a new one is made at the next start

    second = server_factory({"VORTEX_DATA_DIR": str(first.data_dir)}, workers=1)
    async with aiohttp.ClientSession(base_url=second.url) as http:
        async with http.get(f"/functions/{function_id}") as response:
            assert (await response.json())["secrets"] == ["TOKEN"]
        async with http.post(f"/execute/{function_id}") as response:
            body = await response.json()
        assert response.status == 503, body
        assert body["error"]["code"] == "secrets_unavailable"
        assert "another key" in body["error"]["message"]
        async with http.get("/health") as response:
            assert (await response.json())["status"] == "healthy"
    assert "Traceback" not in second.log()
