"""R2's limits and a hostile function on a private server: a huge object, too many operations,
keys with ``../``, NUL and 2 KB, metadata over 8 KiB. Each is a clean error in JavaScript with
its code and an R2-style message (never a Python traceback), and the host serves on."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.r2.conftest import deploy_app
from tests.server import ServerProcess

HOSTILE = r"""
export default {
  async fetch(request, env) {
    const b = env.BUCKET;
    const url = new URL(request.url);
    const codes = {};
    const attempt = async (label, f) => {
      try { await f(); codes[label] = "no error"; }
      catch (e) { codes[label] = [e.code || e.name, e instanceof Error, String(e.message)]; }
    };
    if (url.pathname === "/ops") {
      await attempt("ops", async () => { for (let i = 0; i < 2000; i++) await b.head("k"); });
      return Response.json(codes);
    }
    await b.put("dots", "x");
    await attempt("huge string", () => b.put("big", "x".repeat(1024 * 1024 + 1)));
    await attempt("huge bytes", () => b.put("big", new Uint8Array(1024 * 1024 + 1)));
    await attempt("huge stream", () => b.put("big", request.body));
    await attempt("long key", () => b.put("k".repeat(2048), "x"));
    await attempt("empty key", () => b.get(""));
    await attempt("not a string", () => b.put(42, "x"));
    await attempt("metadata", () => b.put("m", "x", { customMetadata: { big: "v".repeat(9000) } }));
    await attempt("bad value", () => b.put("v", { an: "object" }));
    await attempt("bad range", () => b.get("dots", { range: { offset: 999 } }));
    await attempt("bad limit", () => b.list({ limit: 5000 }));
    await attempt("bad cursor", () => b.list({ cursor: "../../etc" }));
    const odd = ["../../../etc/passwd", "a\u0000b", "/", "..", "dir/../x", "é/ü", "k".repeat(1024), "🚀".repeat(256)];
    for (const key of odd) await b.put(key, "v:" + key.length);
    const back = [];
    for (const key of odd) back.push((await (await b.get(key)).text()) === "v:" + key.length);
    const listed = (await b.list()).objects.map((o) => o.key);
    return Response.json({ codes, back, listed, odd });
  },
};
"""


async def test_a_hostile_function_gets_clean_errors_and_the_host_stays(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(
        {"VORTEX_R2_MAX_OBJECT_BYTES": str(1 << 20), "VORTEX_KV_MAX_OPERATIONS": "1000"},
        workers=1,
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        app = await deploy_app(http, server, HOSTILE)
    hosts = sorted(server.host_pids())
    async with aiohttp.ClientSession() as client:
        big = io.BytesIO(b"s" * ((1 << 20) + 10))
        async with client.post(app.url("/"), data=big) as response:
            assert response.status == 200, await response.text()
            body = await response.json()
        async with client.get(app.url("/ops")) as response:
            ops = await response.json()
    codes = body["codes"]
    assert codes["huge string"][0] == "r2_object_too_large" and codes["huge string"][1]
    assert "(100100)" in codes["huge string"][2] and codes["huge string"][2].startswith("put: ")
    assert codes["huge bytes"][0] == codes["huge stream"][0] == "r2_object_too_large"
    assert codes["long key"][0] == "r2_invalid_key" and "(10020)" in codes["long key"][2]
    assert codes["empty key"][0] == codes["not a string"][0] == "r2_invalid_key"
    assert codes["metadata"][0] == "r2_metadata_too_large" and "(10012)" in codes["metadata"][2]
    assert codes["bad value"][0] == "TypeError"
    assert codes["bad range"][0] == "r2_invalid_range"
    assert codes["bad limit"][0] == codes["bad cursor"][0] == "r2_invalid_argument"
    for label, (_code, is_error, message) in codes.items():
        assert is_error, label
        assert "Traceback" not in message and "/tmp" not in message, (label, message)
    assert body["back"] == [True] * len(body["odd"])
    assert body["listed"] == sorted([*body["odd"], "dots"], key=lambda k: k.encode())
    assert ops["ops"][0] == "binding_call_limit_exceeded"
    # The keys never became paths: under the bucket's folder, every name is hex.
    r2_dir = server.data_dir / "r2" / "default" / app.bucket
    assert r2_dir.is_dir()
    for folder, _dirs, files in os.walk(r2_dir):
        for name in [*files, *_dirs]:
            assert set(name.removesuffix(".o")) <= set("0123456789abcdef~"), name
        assert Path(folder).resolve().is_relative_to(r2_dir.resolve())
    assert sorted(server.host_pids()) == hosts  # no host was lost to any of it
    async with aiohttp.ClientSession() as client, client.get(app.url("/ops")) as response:
        assert response.status == 200
