"""The built-in modules a function may import: Node.js's of a subset of Workers'
``nodejs_compat``, and ``cloudflare:workers`` (its entrypoint classes, ``env``, ``waitUntil``).

Each is a CommonJS file built from vortex/isolates/js/src/node by ``npm run build``
(dist/node, beside the web APIs bundle). The linker puts the ones a function imports into its
script as modules of their own, so they are evaluated in the function's compartment, per
instance, as its own files are: their mutable state (``Buffer.poolSize``,
``EventEmitter.defaultMaxListeners``, prototypes) is that instance's alone, they can reach
nothing its code cannot, and a function that imports none carries none. A version keeps the
built-ins of its deploy, as it keeps its code.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from vortex.modules.errors import BuildUnavailable

SUPPORTED = (
    "assert",
    "assert/strict",
    "async_hooks",
    "buffer",
    "crypto",
    "events",
    "path",
    "process",
    "stream",
    "stream/promises",
    "string_decoder",
    "timers",
    "timers/promises",
    "util",
)
_ALIASES = {"path/posix": "path"}
PREFIX = "node:"
ASYNC_HOOKS = "node:async_hooks"
"""The one built-in that changes how a function is built: its async code is lowered to
``then`` calls (esbuild.py), which its compartment's Promise makes carry the async context."""
CLOUDFLARE_PREFIX = "cloudflare:"
CLOUDFLARE_MODULES = ("cloudflare:workers",)
"""Imported by their full name only, as on workerd; linked like the Node.js ones, from
src/cloudflare."""


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    """The module's name in the linked script, ``node:buffer`` or ``cloudflare:workers``: no
    uploaded file has a colon."""
    code: str
    imports: tuple[str, ...]
    """The other built-ins it requires, by their ``node:`` names."""


def builtin_name(specifier: str) -> str | None:
    """``node:buffer`` for ``node:buffer`` or ``buffer`` (workerd takes both with
    nodejs_compat), ``cloudflare:workers`` for itself, None for anything that is not a supported
    built-in."""
    if specifier in CLOUDFLARE_MODULES:
        return specifier
    bare = specifier.removeprefix(PREFIX)
    bare = _ALIASES.get(bare, bare)
    return PREFIX + bare if bare in SUPPORTED else None


def builtins_dir() -> Path:
    """dist/node in a checkout; beside the web APIs bundle where ``VORTEX_WEBAPI_PATH`` puts it
    (the Docker image)."""
    configured = os.environ.get("VORTEX_WEBAPI_PATH")
    if configured:
        return Path(configured).parent / "node"
    return Path(__file__).resolve().parent.parent / "isolates" / "js" / "dist" / "node"


@functools.cache
def _manifest(directory: Path) -> dict[str, tuple[str, list[str]]]:
    """Each built-in's file (``assert/strict`` is the flat ``assert_strict.js``) and imports,
    by its bare name for Node.js's (``buffer``), by its full name for ``cloudflare:workers``."""
    try:
        data = orjson.loads((directory / "modules.json").read_bytes())
    except OSError as exc:
        raise BuildUnavailable(
            f"the Node.js built-ins were not found in {directory}: run script/bootstrap"
        ) from exc
    return {
        name: (info.get("file", f"{name}.js"), list(info["imports"])) for name, info in data.items()
    }


@functools.cache
def _builtin(directory: Path, name: str) -> Builtin:
    bare = name.removeprefix(PREFIX)
    entry = _manifest(directory).get(bare)
    if entry is None:
        raise BuildUnavailable(f"{name} is missing from {directory}: run script/bootstrap")
    file, imports = entry
    try:
        code = (directory / file).read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildUnavailable(f"{name} could not be read: run script/bootstrap") from exc
    return Builtin(name, code, tuple(imports))


def with_dependencies(names: set[str]) -> list[Builtin]:
    """The built-ins ``names`` and those they import, each once, sorted by name."""
    directory = builtins_dir()
    found: dict[str, Builtin] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found[name] = _builtin(directory, name)
        pending.extend(found[name].imports)
    return [found[name] for name in sorted(found)]
