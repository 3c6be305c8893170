"""env.BUCKET through a real server's listener: an upload/download app as Workers' R2 docs
write one (tests/r2/apps.py): PUT a request body, GET it back with its content type and ETag
(writeHttpMetadata, httpEtag), 304 with onlyIf, ranges, list with prefix, delimiter and cursor,
delete, metadata; and the deploy's declaration as the API shows it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.r2.conftest import App
from tests.server import ServerProcess

Factory = Callable[..., Awaitable[App]]


async def _json(client: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with client.request(method, url, **kw) as response:
        body = await response.json()
        assert response.status == 200, body
        return body


async def test_put_then_get_back_with_type_etag_and_metadata(
    app_factory: Factory, client: aiohttp.ClientSession
) -> None:
    app = await app_factory()
    data = bytes(range(256)) * 40
    put = await _json(
        client,
        "PUT",
        app.url("/photos/cat.png"),
        data=data,
        headers={"content-type": "image/png", "cache-control": "max-age=60", "x-meta": "kitty"},
    )
    assert put["key"] == "photos/cat.png" and put["size"] == len(data)
    assert put["httpEtag"] == f'"{put["etag"]}"' and put["md5"] == put["etag"]
    async with client.get(app.url("/photos/cat.png")) as response:
        assert response.status == 200
        assert await response.read() == data
        assert response.headers["content-type"] == "image/png"
        assert response.headers["cache-control"] == "max-age=60"
        assert response.headers["etag"] == put["httpEtag"]
        assert response.headers["x-custom"] == '{"note":"kitty"}'
    async with client.get(app.url("/missing")) as response:
        assert response.status == 404


async def test_conditional_get_answers_304_and_ranges_206(
    app_factory: Factory, client: aiohttp.ClientSession
) -> None:
    app = await app_factory()
    put = await _json(client, "PUT", app.url("/doc.txt"), data=b"0123456789")
    etag = put["httpEtag"]
    async with client.get(app.url("/doc.txt"), headers={"if-none-match": etag}) as response:
        assert response.status == 304 and response.headers["etag"] == etag
    async with client.get(app.url("/doc.txt"), headers={"if-none-match": '"other"'}) as response:
        assert response.status == 200
    async with client.get(app.url("/doc.txt"), headers={"range": "bytes=2-5"}) as response:
        assert response.status == 206 and await response.read() == b"2345"
        assert response.headers["content-range"] == "bytes 2-5/10"
    async with client.get(app.url("/doc.txt"), headers={"range": "bytes=-3"}) as response:
        assert response.status == 206 and await response.read() == b"789"
    async with client.get(app.url("/doc.txt"), headers={"range": "bytes=7-"}) as response:
        assert response.status == 206 and await response.read() == b"789"
    # A conditional put: If-Match of another etag writes nothing (null), of its own replaces.
    async with client.put(app.url("/doc.txt"), data=b"x", headers={"if-match": '"nope"'}) as r:
        assert r.status == 412
    await _json(client, "PUT", app.url("/doc.txt"), data=b"new", headers={"if-match": etag})
    async with client.get(app.url("/doc.txt")) as response:
        assert await response.read() == b"new"
    # Create-only: If-None-Match: * refuses an existing key.
    async with client.put(app.url("/doc.txt"), data=b"y", headers={"if-none-match": "*"}) as r:
        assert r.status == 412


async def test_list_prefix_delimiter_cursor_and_delete(
    app_factory: Factory, client: aiohttp.ClientSession
) -> None:
    app = await app_factory()
    keys = ["a/1", "a/2", "a/sub/3", "b/1", "b/2", "c"]
    for key in keys:
        await _json(client, "PUT", app.url("/" + key), data=key.encode())
    listed = await _json(client, "GET", app.url("/"))
    assert listed["keys"] == keys and listed["truncated"] is False
    assert (await _json(client, "GET", app.url("/?prefix=a/")))["keys"] == ["a/1", "a/2", "a/sub/3"]
    top = await _json(client, "GET", app.url("/?delimiter=/"))
    assert top["keys"] == ["c"] and top["delimitedPrefixes"] == ["a/", "b/"]
    inner = await _json(client, "GET", app.url("/?prefix=a/&delimiter=/"))
    assert inner["keys"] == ["a/1", "a/2"] and inner["delimitedPrefixes"] == ["a/sub/"]
    seen, cursor = [], None
    while True:
        query = "/?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await _json(client, "GET", app.url(query))
        assert len(page["keys"]) <= 2
        seen += page["keys"]
        if not page["truncated"]:
            break
        cursor = page["cursor"]
    assert seen == keys
    async with client.delete(app.url("/c")) as response:
        assert response.status == 200
    async with client.delete(app.url("/?key=a/1&key=b/2")) as response:
        assert response.status == 200
    assert (await _json(client, "GET", app.url("/")))["keys"] == ["a/2", "a/sub/3", "b/1"]


async def test_list_includes_metadata_only_when_asked(
    app_factory: Factory, client: aiohttp.ClientSession
) -> None:
    app = await app_factory()
    await _json(
        client, "PUT", app.url("/m"), data=b"x", headers={"content-type": "text/csv", "x-meta": "n"}
    )
    plain = (await _json(client, "GET", app.url("/")))["objects"][0]
    assert plain["httpMetadata"] == {} and plain["customMetadata"] == {}
    assert plain["size"] == 1 and plain["uploaded"].endswith("Z")
    full = await _json(client, "GET", app.url("/?include=httpMetadata,customMetadata"))
    assert full["objects"][0]["httpMetadata"] == {"contentType": "text/csv"}
    assert full["objects"][0]["customMetadata"] == {"note": "n"}


BODIES = r"""
export default {
  async fetch(request, env) {
    const b = env.BUCKET;
    await b.put("s", "héllo");
    await b.put("ab", new Uint8Array([1, 2, 3]).buffer);
    await b.put("view", new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
    await b.put("blob", new Blob(["bl", "ob"], { type: "text/plain" }));
    await b.put("json", JSON.stringify({ a: 1 }), { httpMetadata: { contentType: "application/json" },
                                                     customMetadata: { who: "me" } });
    await b.put("empty", null);
    const s = await b.get("s");
    const first = await s.text();
    let again;
    try { await s.text(); again = "read twice"; } catch (e) { again = e.name; }
    const blob = await (await b.get("blob")).blob();
    const head = await b.head("json");
    const json = await b.get("json");
    const range = await b.get("s", { range: { offset: 1, length: 2 } });
    const suffix = await b.get("s", { range: { suffix: 2 } });
    const notModified = await b.get("json", { onlyIf: { etagDoesNotMatch: head.etag } });
    const matches = await b.get("json", { onlyIf: { etagMatches: head.etag } });
    const before = await b.get("json", { onlyIf: { uploadedBefore: new Date(0) } });
    const after = await b.get("json", { onlyIf: { uploadedAfter: new Date(0) } });
    let multipart;
    try { await b.createMultipartUpload("big"); } catch (e) { multipart = [e.code, e.message]; }
    return Response.json({
      first, again, bodyUsed: s.bodyUsed,
      ab: [...new Uint8Array(await (await b.get("ab")).arrayBuffer())],
      view: [...new Uint8Array(await (await b.get("view")).arrayBuffer())],
      blob: [blob.type, await blob.text(), blob.size],
      head: { key: head.key, size: head.size, http: head.httpMetadata, custom: head.customMetadata,
              hasBody: "body" in head, uploaded: head.uploaded instanceof Date || typeof head.uploaded.getTime === "function",
              version: typeof head.version, storageClass: head.storageClass },
      json: await json.json(),
      empty: (await b.get("empty")).size,
      range: [await range.text(), range.range],
      suffix: await suffix.text(),
      notModified: ["body" in notModified, notModified.key],
      matches: "body" in matches,
      before: "body" in before, after: "body" in after,
      missingHead: await b.head("nope"),
      multipart,
    });
  },
};
"""


async def test_values_bodies_conditions_and_ranges_in_js(
    app_factory: Factory, client: aiohttp.ClientSession
) -> None:
    app = await app_factory(BODIES)
    body = await _json(client, "GET", app.url("/"))
    assert body == {
        "first": "héllo",
        "again": "TypeError",
        "bodyUsed": True,
        "ab": [1, 2, 3],
        "view": [8, 7],
        "blob": ["", "blob", 4],  # a Blob's type is not its httpMetadata, as in R2
        "head": {
            "key": "json",
            "size": 7,
            "http": {"contentType": "application/json"},
            "custom": {"who": "me"},
            "hasBody": False,
            "uploaded": True,
            "version": "string",
            "storageClass": "Standard",
        },
        "json": {"a": 1},
        "empty": 0,
        "range": ["é", {"offset": 1, "length": 2}],  # bytes 1-2: é in UTF-8
        "suffix": "lo",
        "notModified": [False, "json"],
        "matches": True,
        "before": False,
        "after": True,
        "missingHead": None,
        "multipart": [
            "r2_not_supported",
            "createMultipartUpload: multipart uploads are not supported by Vortex "
            "(docs/r2.md): put the object whole",
        ],
    }


async def test_the_declaration_is_shown_kept_and_checked(
    http: aiohttp.ClientSession, app_factory: Factory
) -> None:
    app = await app_factory()
    shown = await (await http.get(f"/functions/{app.name}")).json()
    assert shown["r2_buckets"] == [{"binding": "BUCKET", "bucket_name": app.bucket}]
    # A new version that says nothing of its buckets keeps them, as it keeps its env.
    async with http.post(
        "/deploy",
        json={
            "code": "export default { fetch() { return new Response('x'); } };",
            "filename": "index.mjs",
            "name": app.name,
        },
    ) as response:
        answer = await response.json()
        assert "r2_buckets" in answer["kept"]
    shown = await (await http.get(f"/functions/{app.name}")).json()
    assert shown["r2_buckets"] == [{"binding": "BUCKET", "bucket_name": app.bucket}]
    for bad in (
        "nope",
        [{"binding": "B"}],
        [{"binding": "B", "bucket_name": "Upper_Case"}],
        [{"binding": "KV", "bucket_name": "fine"}],
        [{"binding": "not a name", "bucket_name": "fine"}],
        [{"binding": "B", "bucket_name": "one"}, {"binding": "B", "bucket_name": "two"}],
    ):
        async with http.post("/deploy", json={"code": "1", "r2_buckets": bad}) as response:
            assert response.status == 400, bad
            assert (await response.json())["error"]["code"] == "invalid_request"


async def test_scripts_and_service_workers_have_their_buckets_too(
    http: aiohttp.ClientSession, client: aiohttp.ClientSession, server: ServerProcess
) -> None:
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    buckets = [{"binding": "STORE", "bucket_name": bucket}]
    script = """
    await Vortex.env.STORE.put("from-script", "s", { customMetadata: { by: "script" } });
    const head = await Vortex.env.STORE.head("from-script");
    Vortex.return({ size: head.size, by: head.customMetadata.by,
                    enumerable: Object.keys(Vortex.env).includes("STORE") });
    """
    async with http.post("/deploy", json={"code": script, "r2_buckets": buckets}) as response:
        function_id = (await response.json())["function_id"]
    result = await _json(client, "POST", f"{server.url}/execute/{function_id}")
    assert result["output"] == {"size": 1, "by": "script", "enumerable": False}, result
    worker = """
    addEventListener("fetch", (event) => event.respondWith((async () => {
      const object = await STORE.get("from-script");
      return new Response(await object.text() + ":" + object.customMetadata.by);
    })()));
    """
    name = f"sw-{uuid.uuid4().hex[:8]}"
    body = {"code": worker, "name": name, "r2_buckets": buckets}
    async with http.post("/deploy", json=body) as response:
        assert response.status == 200, await response.text()
    async with client.get(server.fn_url(name, "/")) as response:
        assert await response.text() == "s:script"
