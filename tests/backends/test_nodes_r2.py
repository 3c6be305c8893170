"""R2 objects on two real nodes sharing S3 (moto) and Redis: an object put through A's listener
is read, listed and deleted through B's, and S3 holds it under r2/<namespace>/<bucket>/ by its
hex storage name, never by the key as given."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from yarl import URL

from tests.backends.conftest import MotoS3, RedisServer, bucket_keys, s3_env
from tests.r2.conftest import deploy_app
from tests.server import ServerProcess

pytestmark = pytest.mark.slow


async def test_an_object_put_on_a_is_read_listed_and_deleted_on_b(
    server_factory: Callable[..., ServerProcess],
    moto: MotoS3,
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    env = s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)
    a, b = server_factory(env, workers=1), server_factory(env, workers=1)
    async with aiohttp.ClientSession(base_url=a.url) as on_a:
        app = await deploy_app(on_a, a)
    on_a_url, on_b_url = app.url, (lambda path: b.fn_url(app.name, path))
    # Encoded, so that no client or server folds the dot segment: the app decodes the path.
    odd = "/docs/..%2Freport.pdf"
    data = b"\x00\x01 bytes " * 1000
    headers = {"content-type": "application/pdf", "x-meta": "from-a"}
    async with client.put(URL(on_a_url(odd), encoded=True), data=data, headers=headers) as put:
        assert put.status == 200, await put.text()
        etag = (await put.json())["httpEtag"]
    for index in range(3):
        async with client.put(on_a_url(f"/more/{index}"), data=b"x") as response:
            assert response.status == 200
    async with client.get(URL(on_b_url(odd), encoded=True)) as response:
        assert response.status == 200
        assert await response.read() == data
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["etag"] == etag
        assert response.headers["x-custom"] == '{"note":"from-a"}'
    async with client.get(URL(on_b_url(odd), encoded=True), headers={"if-none-match": etag}) as r:
        assert r.status == 304
    async with client.get(URL(on_b_url(odd), encoded=True), headers={"range": "bytes=1-3"}) as r:
        assert r.status == 206 and await r.read() == data[1:4]
    async with client.get(on_b_url("/?delimiter=/")) as response:
        listed = await response.json()
        assert listed["delimitedPrefixes"] == ["docs/", "more/"] and listed["keys"] == []
    seen: list[str] = []
    cursor = None
    while True:
        query = "/?prefix=more/&limit=2" + (f"&cursor={cursor}" if cursor else "")
        async with client.get(on_b_url(query)) as response:
            page = await response.json()
        seen += page["keys"]
        if not page["truncated"]:
            break
        cursor = page["cursor"]
    assert seen == ["more/0", "more/1", "more/2"]
    stored = [key for key in bucket_keys(moto, bucket) if key.startswith("r2/")]
    folder = f"r2/default/{app.bucket}/"
    assert folder + b"docs/../report.pdf".hex() in stored
    assert all(key.startswith(folder) for key in stored)
    async with client.delete(URL(on_b_url(odd), encoded=True)) as response:
        assert response.status == 200
    async with client.get(URL(on_a_url(odd), encoded=True)) as response:
        assert response.status == 404
