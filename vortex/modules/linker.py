"""Joins the transformed files of an upload into one script that evaluates to the entry's
exports, with a ``require`` that knows only the uploaded files.

The script is evaluated in the run's Compartment like any user code; the linker part is ours
but has no more power than the files it links. The built-ins a file imports (``node:buffer``...,
``cloudflare:workers``) are linked in as modules of their own (``nodebuiltins.py``). Where each
file's code starts is recorded so that positions in the script map back to the uploaded files
(``sourcemap.py``).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import orjson

from vortex.modules.errors import CLOUDFLARE_MODULES_ADVICE, NODE_BUILTINS_ADVICE, InvalidImport
from vortex.modules.esbuild import Transformed
from vortex.modules.nodebuiltins import CLOUDFLARE_PREFIX, builtin_name, with_dependencies

# Tried after the exact name, so "./lib" finds lib.mjs as bundlers and Deno's sloppy imports do;
# then lib.ts, so TypeScript files import each other as their authors write it ("./lib").
_SUFFIXES = (
    "",
    ".mjs",
    ".js",
    ".cjs",
    ".json",
    ".mts",
    ".ts",
    ".cts",
    "/index.mjs",
    "/index.js",
    "/index.mts",
    "/index.ts",
)
# A JavaScript name with no such file uploaded stands for its TypeScript source, as in tsc's
# "node16"/"bundler" resolution: "./lib.js" imports lib.ts. An uploaded lib.js wins over it.
_TYPESCRIPT_TWIN = {".js": ".ts", ".mjs": ".mts", ".cjs": ".cts"}

_PRELUDE = """(function () {
  "use strict";
  const definitions = {
"""
# The harness finds where these lines start by the second one (``LINKER_START`` in
# js/src/harness/stacks.js), to leave their frames out of the stacks user code reads.
_LINKER = """  };
  const loaded = new Map();
  function load(name) {
    const done = loaded.get(name);
    if (done !== undefined) return done.exports;
    const [define, resolved] = definitions[name];
    const module = { exports: {} };
    loaded.set(name, module);
    function require(specifier) {
      const known = Object.prototype.hasOwnProperty.call(resolved, specifier);
      if (!known) throw new Error("Cannot find module '" + specifier + "' imported by " + name);
      const target = resolved[specifier];
      return load(target);
    }
    define.call(module.exports, module.exports, require, module);
    return module.exports;
  }
  return load(%s);
})()
"""


@dataclass(frozen=True, slots=True)
class Placement:
    """Lines ``start`` to ``start + lines - 1`` (1-based) of the script are ``name``'s code."""

    name: str
    start: int
    lines: int
    mappings: str


@dataclass(frozen=True, slots=True)
class Linked:
    script: str
    placements: tuple[Placement, ...]


def resolve(importer: str, specifier: str, names: set[str]) -> str:
    """The uploaded file (or the ``node:`` built-in) that ``specifier`` in ``importer`` names,
    or InvalidImport."""
    where = f'import of "{specifier}" in {importer}'
    builtin = builtin_name(specifier)
    if builtin is not None:
        return builtin
    if specifier.startswith(("./", "../")):
        base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
        if base.startswith("../") or base == "..":
            raise InvalidImport(f"{where}: the path leaves the uploaded files")
        for suffix in _SUFFIXES:
            if base + suffix in names:
                return base + suffix
        stem, extension = posixpath.splitext(base)
        twin = _TYPESCRIPT_TWIN.get(extension)
        if twin is not None and stem + twin in names:
            return stem + twin
        raise InvalidImport(f"{where}: no uploaded file is named {base}")
    if specifier.startswith("node:"):
        raise InvalidImport(f"{where}: {NODE_BUILTINS_ADVICE}")
    if specifier.startswith(CLOUDFLARE_PREFIX):
        raise InvalidImport(f"{where}: {CLOUDFLARE_MODULES_ADVICE}")
    if specifier.startswith("/") or "://" in specifier or ":" in specifier.split("/")[0]:
        raise InvalidImport(
            f"{where}: only relative imports of files uploaded with the function are allowed "
            "(no absolute paths or URLs)"
        )
    raise InvalidImport(
        f"{where}: packages cannot be imported on the server; run `vortex deploy` in the "
        "project's folder (where node_modules is): it bundles the packages with the function, "
        "as wrangler does"
    )


def link(files: dict[str, Transformed], entry: str) -> Linked:
    names = set(files)
    parts = [_PRELUDE]
    line = _PRELUDE.count("\n") + 1
    placements = []
    builtins: set[str] = set()
    for name in sorted(files, key=lambda n: (n != entry, n)):
        transformed = files[name]
        resolved: dict[str, str] = {}
        for item in transformed.imports:
            resolved[item.specifier] = resolve(name, item.specifier, names)
        builtins.update(target for target in resolved.values() if target not in names)
        header = f"  {orjson.dumps(name).decode()}: [function (exports, require, module) {{\n"
        code = transformed.code if transformed.code.endswith("\n") else transformed.code + "\n"
        footer = f"  }}, {orjson.dumps(resolved).decode()}],\n"
        parts += [header, code, footer]
        line += 1
        count = code.count("\n")
        placements.append(Placement(name, line, count, transformed.mappings))
        line += count + 1
    # After the files, with no placement: a frame in a built-in maps to no uploaded file and is
    # left out of stacks, as the linker's own are.
    for builtin in with_dependencies(builtins):
        resolved = {specifier: specifier for specifier in builtin.imports}
        code = builtin.code if builtin.code.endswith("\n") else builtin.code + "\n"
        parts += [
            f"  {orjson.dumps(builtin.name).decode()}: [function (exports, require, module) {{\n",
            code,
            f"  }}, {orjson.dumps(resolved).decode()}],\n",
        ]
    parts.append(_LINKER % orjson.dumps(entry).decode())
    return Linked("".join(parts), tuple(placements))
