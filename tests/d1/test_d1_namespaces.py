"""Databases are per namespace: two functions of one namespace binding one database_name share
its rows; a function of another namespace binding the same name has a database of its own."""

from __future__ import annotations

import json
from collections.abc import Callable

import aiohttp

from tests.auth.test_server import vortex_keys
from tests.d1.apps import COUNTER
from tests.d1.conftest import call
from tests.server import ServerProcess


def _key(server: ServerProcess, namespace: str) -> str:
    made = vortex_keys(server, "create", "--namespace", namespace, "--json")
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["key"])


async def test_one_namespace_shares_a_database_another_never_sees_it(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    keys = {ns: _key(server, ns) for ns in ("acme", "globex")}
    server.wait_for_keys(*keys.values())

    def body(name: str) -> dict[str, object]:
        return {
            "code": COUNTER,
            "filename": "index.mjs",
            "name": name,
            "d1_databases": [{"binding": "STORE", "database_name": "shared"}],
        }

    async with aiohttp.ClientSession(base_url=server.url) as http:
        deploys = [("acme", "writer"), ("acme", "reader"), ("globex", "writer")]
        for namespace, name in deploys:
            headers = {"Authorization": f"Bearer {keys[namespace]}"}
            async with http.post("/deploy", json=body(name), headers=headers) as response:
                assert response.status == 200, await response.text()

    def url(name: str, namespace: str) -> str:
        return server.fn_url(f"{name}.{namespace}", "/")

    async with aiohttp.ClientSession() as client:
        for _ in range(3):
            await call(client, "POST", url("writer", "acme"))
        assert await call(client, "GET", url("reader", "acme")) == {"n": 3}
        assert await call(client, "GET", url("writer", "globex")) == {"n": 0}
        await call(client, "POST", url("writer", "globex"))
        assert await call(client, "GET", url("reader", "acme")) == {"n": 3}
        assert await call(client, "GET", url("writer", "globex")) == {"n": 1}
    for namespace in ("acme", "globex"):
        assert (server.data_dir / "d1" / namespace / "shared.sqlite3").is_file()
