"""The deploy-time build (esbuild, for TypeScript and modules) sees nothing but the upload: a
tsconfig.json's "extends" is followed only to files of the upload, no file of the server is read
or echoed, and esbuild runs under time and memory limits."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest

from vortex.modules import esbuild
from vortex.modules.errors import BuildLimitExceeded

HANDLER = "export default { fetch() { return new Response('ok'); } };\n"

# Whether a class field is assigned (the base's setter runs) or defined: what
# "useDefineForClassFields" decides, so what shows that a tsconfig was applied.
FIELDS = """
let assigned = false;
class Base { set x(value: number) { assigned = true; } }
class Child extends Base { x = 1; }
new Child();
export default { fetch() { return new Response(String(assigned)); } };
"""

SERVER_FILES = ["/etc/passwd", "/etc/hostname", "/proc/self/status", "/proc/self/environ"]


async def _deploy(http: aiohttp.ClientSession, files: dict[str, str]) -> tuple[int, Any, float]:
    started = time.monotonic()
    async with http.post("/deploy", json={"files": files, "entry": "index.ts"}) as response:
        return response.status, await response.json(), time.monotonic() - started


def _first_tokens(path: str) -> list[str]:
    """The first few words of a file of the server, as the build's error used to show them."""
    try:
        with open(path, "rb") as file:
            text = file.read(200).decode(errors="replace")
    except OSError:
        return []
    return [word for word in text.replace(":", " ").replace("\0", " ").split()[:3] if len(word) > 2]


@pytest.mark.parametrize("target", [*SERVER_FILES, "../../../../etc/passwd", "/nonexistent"])
async def test_tsconfig_extends_reaches_no_file_of_the_server(
    http: aiohttp.ClientSession, target: str
) -> None:
    files = {"index.ts": HANDLER, "tsconfig.json": json.dumps({"extends": target})}
    status, body, _ = await _deploy(http, files)
    # Refused whether the file exists or not: the answer tells nothing of the server's files.
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request", body
    text = json.dumps(body)
    for token in _first_tokens(target if target.startswith("/") else "/etc/passwd"):
        assert token not in text, f"{token!r} of {target} shown: {text}"
    assert "extends" in body["error"]["message"]


async def test_tsconfig_extends_of_dev_zero_is_refused_at_once(http: aiohttp.ClientSession) -> None:
    files = {"index.ts": HANDLER, "tsconfig.json": json.dumps({"extends": "/dev/zero"})}
    status, body, elapsed = await _deploy(http, files)
    assert status == 400, body
    assert elapsed < 2.0


async def test_tsconfig_extends_inside_the_upload_is_followed(
    http: aiohttp.ClientSession,
) -> None:
    base = {"compilerOptions": {"useDefineForClassFields": False}}
    files = {
        "index.ts": FIELDS,
        "tsconfig.json": json.dumps({"extends": "./config/base.json"}),
        "config/base.json": json.dumps(base),
    }
    status, body, _ = await _deploy(http, files)
    assert status == 200, body
    async with http.post(f"/execute/{body['function_id']}") as response:
        assert (await response.json())["output"]["body"] == "true"
    # Without the tsconfig, fields are defined (es2022): the setter never runs.
    status, body, _ = await _deploy(http, {"index.ts": FIELDS})
    async with http.post(f"/execute/{body['function_id']}") as response:
        assert (await response.json())["output"]["body"] == "false"


async def test_an_extends_cycle_or_a_package_name_is_refused(http: aiohttp.ClientSession) -> None:
    cycle = {
        "index.ts": HANDLER,
        "tsconfig.json": json.dumps({"extends": "./a.json"}),
        "a.json": json.dumps({"extends": "./tsconfig.json"}),
    }
    status, body, _ = await _deploy(http, cycle)
    assert status == 400 and body["error"]["code"] == "invalid_request", body
    package = {"index.ts": HANDLER, "tsconfig.json": json.dumps({"extends": "@tsconfig/node20"})}
    status, body, _ = await _deploy(http, package)
    assert status == 400 and body["error"]["code"] == "invalid_request", body


async def test_a_build_past_its_memory_limit_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # esbuild cannot even start its runtime in 48 MiB of data: the limit is applied.
    monkeypatch.setattr(esbuild, "BUILD_MEMORY_BYTES", 48 << 20)
    with pytest.raises(BuildLimitExceeded):
        await esbuild.transform({"index.ts": "export const a: number = 1;\n"})


async def test_a_build_past_its_time_limit_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(esbuild, "BUILD_TIMEOUT", 0.001)
    with pytest.raises(BuildLimitExceeded):
        await esbuild.transform({"index.ts": "export const a: number = 1;\n"})
