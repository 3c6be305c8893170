"""Buckets are per namespace: two tenants (API keys of two namespaces) that bind the same
bucket_name never see, list or overwrite each other's objects."""

from __future__ import annotations

import json
from collections.abc import Callable

import aiohttp

from tests.auth.test_server import vortex_keys
from tests.r2.apps import UPLOADS
from tests.server import ServerProcess


def _key(server: ServerProcess, namespace: str) -> str:
    made = vortex_keys(server, "create", "--namespace", namespace, "--json")
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["key"])


async def test_two_namespaces_with_one_bucket_name_never_cross(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    keys = {ns: _key(server, ns) for ns in ("acme", "globex")}
    server.wait_for_keys(*keys.values())
    body = {
        "code": UPLOADS,
        "filename": "index.mjs",
        "name": "files",
        "r2_buckets": [{"binding": "BUCKET", "bucket_name": "shared"}],
    }
    async with aiohttp.ClientSession(base_url=server.url) as http:
        for key in keys.values():
            headers = {"Authorization": f"Bearer {key}"}
            async with http.post("/deploy", json=body, headers=headers) as response:
                assert response.status == 200, await response.text()

    def url(namespace: str, path: str) -> str:
        return server.fn_url(f"files.{namespace}", path)

    async with aiohttp.ClientSession() as client:
        async with client.put(url("acme", "/secret.txt"), data=b"acme's") as response:
            assert response.status == 200, await response.text()
        async with client.get(url("globex", "/secret.txt")) as response:
            assert response.status == 404
        async with client.get(url("globex", "/")) as response:
            assert (await response.json())["keys"] == []
        async with client.put(url("globex", "/secret.txt"), data=b"globex's") as response:
            assert response.status == 200
        async with client.get(url("acme", "/secret.txt")) as response:
            assert await response.read() == b"acme's"
        async with client.get(url("globex", "/secret.txt")) as response:
            assert await response.read() == b"globex's"
        async with client.delete(url("globex", "/secret.txt")) as response:
            assert response.status == 200
        async with client.get(url("acme", "/")) as response:
            assert (await response.json())["keys"] == ["secret.txt"]
    assert (server.data_dir / "r2" / "acme" / "shared").is_dir()
