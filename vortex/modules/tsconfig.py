"""The upload's ``tsconfig.json``, read by Vortex rather than by esbuild.

esbuild follows a tsconfig's ``"extends"`` to any path of the machine, and reports what it found
there in its errors: an upload could read the first token of any file of the server (and grow
esbuild without bound with ``"extends": "/dev/zero"``). So esbuild is given the settings as
``--tsconfig-raw`` (which also stops it looking for tsconfig files, in the upload or above it),
and ``"extends"`` is followed here, only to files of the upload. Only the tsconfig.json at the
root of the upload counts.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

import orjson

from vortex.errors import InvalidRequest

ROOT = "tsconfig.json"
MAX_DEPTH = 8


def _read(files: Mapping[str, str], name: str) -> dict[str, Any]:
    try:
        value = orjson.loads(files[name])
    except orjson.JSONDecodeError:
        raise InvalidRequest(f"{name} is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRequest(f"{name} must hold a JSON object")
    return value


def _extended(files: Mapping[str, str], name: str, target: object) -> str:
    """The upload's file that ``target`` (an ``"extends"`` of ``name``) names."""
    if not isinstance(target, str) or not target.startswith(("./", "../")):
        raise InvalidRequest(
            f'"extends" in {name} must be a relative path ("./base.json") to a file of the '
            "upload: packages and paths outside the upload are not read"
        )
    path = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    for candidate in (path, f"{path}.json"):
        if candidate in files and not candidate.startswith("../"):
            return candidate
    raise InvalidRequest(f'"extends" in {name} names no file of the upload')


def _merged(files: Mapping[str, str], name: str, seen: tuple[str, ...]) -> dict[str, Any]:
    if name in seen or len(seen) >= MAX_DEPTH:
        raise InvalidRequest(f'the "extends" of {seen[0]} go round in a cycle or too deep')
    config = _read(files, name)
    targets = config.get("extends", [])
    options: dict[str, Any] = {}
    for target in targets if isinstance(targets, list) else [targets]:
        base = _merged(files, _extended(files, name, target), (*seen, name))
        options.update(base.get("compilerOptions", {}))
    own = config.get("compilerOptions", {})
    if not isinstance(own, dict):
        raise InvalidRequest(f'"compilerOptions" in {name} must be an object')
    options.update(own)
    return {"compilerOptions": options}


def tsconfig_raw(files: Mapping[str, str]) -> str:
    """The settings esbuild gets (``--tsconfig-raw``): the root tsconfig.json's, its extends
    merged in, or none."""
    if ROOT not in files:
        return "{}"
    return orjson.dumps(_merged(files, ROOT, ())).decode()
