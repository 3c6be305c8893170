"""Two API keys in two namespaces on one real server: a key never sees, runs, tails or deletes
another namespace's functions, and names are per namespace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.auth.test_server import vortex_keys
from tests.server import REPO, ServerProcess


def make_key(server: ServerProcess, namespace: str) -> str:
    created = vortex_keys(server, "create", "--namespace", namespace, "--json")
    assert created.returncode == 0, created.stderr
    token: str = json.loads(created.stdout)["key"]
    return token


def vortex_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vortex", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def call(
    http: aiohttp.ClientSession, key: str, method: str, path: str, **kw: Any
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {key}"}
    async with http.request(method, path, headers=headers, **kw) as response:
        return response.status, await response.json()


async def test_a_key_reaches_only_its_namespace(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        # Deployed before any key: the namespace "default".
        status, before = await call(http, "", "POST", "/deploy", json={"code": "Vortex.return(0);"})
        assert status == 200
        acme, beta = make_key(server, "acme"), make_key(server, "beta")
        server.wait_for_keys(acme, beta)

        status, a_plain = await call(
            http, acme, "POST", "/deploy", json={"code": 'console.log("a"); Vortex.return("a");'}
        )
        assert status == 200
        code_a = 'console.log("acme hello"); Vortex.return("acme");'
        status, a_named = await call(
            http, acme, "POST", "/deploy", json={"code": code_a, "name": "hello"}
        )
        assert status == 200 and a_named["version"] == 1
        # The same name in another namespace is another function, with its own versions.
        code_b = 'Vortex.return("beta");'
        status, b_named = await call(
            http, beta, "POST", "/deploy", json={"code": code_b, "name": "hello"}
        )
        assert status == 200 and b_named["version"] == 1

        status, listed = await call(http, beta, "GET", "/functions")
        assert [f["id"] for f in listed["functions"]] == [b_named["function_id"]]
        assert listed["functions"][0]["namespace"] == "beta"
        status, listed = await call(http, acme, "GET", "/functions")
        assert {f["id"] for f in listed["functions"]} == {
            a_plain["function_id"],
            a_named["function_id"],
        }
        assert (await call(http, beta, "POST", "/execute/hello"))[1]["output"] == "beta"
        assert (await call(http, acme, "POST", "/execute/hello"))[1]["output"] == "acme"

        # Every route answers beta about acme's functions as about missing ones.
        for ref in (a_plain["function_id"], a_named["function_id"], before["function_id"]):
            for method, path in [
                ("GET", f"/functions/{ref}"),
                ("POST", f"/execute/{ref}"),
                ("GET", f"/functions/{ref}/versions"),
                ("POST", f"/functions/{ref}/rollback"),
                ("GET", f"/functions/{ref}/runs"),
                ("DELETE", f"/functions/{ref}"),
            ]:
                status, body = await call(http, beta, method, path)
                assert (status, body["error"]["code"]) == (404, "function_not_found"), path
            async with http.get(f"/ws/{ref}", headers={"Authorization": f"Bearer {beta}"}) as r:
                assert r.status == 404
            try:
                await http.ws_connect(f"/ws/{ref}", protocols=("vortex", f"bearer.{beta}"))
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 404
            else:
                raise AssertionError("beta tailed acme's function")

        # acme tails its own function by name with the browser's subprotocol, and sees runs
        # of every version there.
        async with http.ws_connect("/ws/hello", protocols=("vortex", f"bearer.{acme}")) as ws:
            assert ws.protocol == "vortex"
            await call(http, acme, "POST", "/execute/hello")
            line = json.loads((await ws.receive(timeout=10)).data)
            assert line["message"] == "acme hello"

        # acme's history holds its runs only; beta's its own.
        status, runs = await call(http, acme, "GET", "/functions/hello/runs")
        assert status == 200 and len(runs["runs"]) == 2
        status, runs = await call(http, beta, "GET", "/functions/hello/runs")
        assert status == 200 and len(runs["runs"]) == 1

        # Deleting beta's "hello" leaves acme's.
        status, _ = await call(http, beta, "DELETE", "/functions/hello")
        assert status == 200
        assert (await call(http, acme, "POST", "/execute/hello"))[1]["output"] == "acme"

        # The CLI with a key sees its namespace only.
        env = {**os.environ, "VORTEX_URL": server.url, "VORTEX_API_KEY": beta, "NO_COLOR": "1"}
        listed_cli = vortex_cli(env, "list", "--json")
        assert listed_cli.returncode == 0, listed_cli.stderr
        assert json.loads(listed_cli.stdout)["functions"] == []
        deleted_cli = vortex_cli(env, "delete", a_plain["function_id"])
        assert deleted_cli.returncode == 4, deleted_cli.stderr
        assert (await call(http, acme, "GET", f"/functions/{a_plain['function_id']}"))[0] == 200


async def test_a_host_routed_to_one_namespace_is_refused_to_another(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """Routes: a tenant cannot serve (part of) a hostname another namespace's routes serve, and
    the refusal names neither the function nor the namespace."""
    server = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        acme, beta = make_key(server, "acme"), make_key(server, "beta")
        server.wait_for_keys(acme, beta)
        code = "export default { fetch: () => new Response('acme') };"

        def deploy(routes: list[str], name: str = "site") -> dict[str, Any]:
            return {"code": code, "filename": "index.mjs", "name": name, "routes": routes}

        status, body = await call(
            http, acme, "POST", "/deploy", json=deploy(["shop.example.com/v1/*"])
        )
        assert status == 200, body
        for routes in (["shop.example.com/v2/*"], ["*.example.com/*"], ["shop.example.com/v1/*"]):
            status, body = await call(http, beta, "POST", "/deploy", json=deploy(routes))
            assert status == 409 and body["error"]["code"] == "route_taken", (routes, body)
            assert "acme" not in body["error"]["message"]
            assert "site" not in body["error"]["message"]
        # Another host is beta's to claim, and acme's other functions share acme's host.
        status, body = await call(http, beta, "POST", "/deploy", json=deploy(["www.example.org/*"]))
        assert status == 200, body
        status, body = await call(
            http, acme, "POST", "/deploy", json=deploy(["shop.example.com/v2/*"], "other")
        )
        assert status == 200, body
        async with (
            aiohttp.ClientSession() as client,
            client.get(
                f"http://127.0.0.1:{server.functions_port}/v1/x",
                headers={"Host": "shop.example.com"},
            ) as response,
        ):
            assert (response.status, await response.text()) == (200, "acme")
