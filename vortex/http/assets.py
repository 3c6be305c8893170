"""Static assets over the API, content-addressed as Workers' upload sessions are:

1. ``POST /assets/missing`` ``{"hashes": [sha256...]}`` → ``{"missing": [...]}``: which of a
   site's files the server lacks (in the caller's namespace);
2. ``PUT /assets/{sha256}`` with the raw bytes, for each of those: checked against the hash;
3. ``POST /deploy`` with ``"assets": {"manifest": {path: {hash, size}}, "config": {...}}``.

A redeploy uploads only what changed, and the deploy's own body stays small. Content is kept
per namespace (``FunctionStore.put_asset``): another tenant can neither probe for it nor deploy
a manifest that serves it.
"""

from __future__ import annotations

from aiohttp import web

from vortex.assets.deploying import missing_assets
from vortex.assets.manifest import sha256_hex
from vortex.assets.paths import is_sha256
from vortex.errors import AssetHashMismatch, AssetTooLarge, InvalidAssets, size_phrase
from vortex.http.keys import REGISTRY, SETTINGS
from vortex.http.lookup import deploy_namespace
from vortex.http.responses import json_response, read_json_object

routes = web.RouteTableDef()
READ_CHUNK = 1 << 16


@routes.post("/assets/missing")
async def missing(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    hashes = body.get("hashes")
    settings = request.app[SETTINGS]
    if not isinstance(hashes, list) or not all(is_sha256(h) for h in hashes):
        raise InvalidAssets('"hashes" must be a list of SHA-256 hashes (64 lowercase hex digits)')
    if len(hashes) > settings.assets_max_files:
        raise InvalidAssets(f"ask about {settings.assets_max_files} hashes at most at once")
    store = request.app[REGISTRY].store
    lacking = await missing_assets(store, deploy_namespace(request), set(hashes))
    return json_response({"missing": lacking})


@routes.put("/assets/{sha256}")
async def upload(request: web.Request) -> web.Response:
    digest = request.match_info["sha256"]
    if not is_sha256(digest):
        raise InvalidAssets("the path names the content's SHA-256: 64 lowercase hex digits")
    limit = request.app[SETTINGS].assets_max_file_bytes
    too_large = AssetTooLarge(
        f"the asset is over the limit of {size_phrase(limit)} a file (VORTEX_ASSETS_MAX_FILE_BYTES)"
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # Read by hand, not request.read(): the API's body limit (2 MiB) is for JSON, an asset may
    # be up to its own limit.
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    data = b"".join(chunks)
    if sha256_hex(data) != digest:
        raise AssetHashMismatch(
            f"the body's SHA-256 is {sha256_hex(data)}, not the {digest} its path names"
        )
    registry = request.app[REGISTRY]
    await registry.store.put_asset(deploy_namespace(request), digest, data)
    return json_response({"hash": digest, "size": size}, status=201)
