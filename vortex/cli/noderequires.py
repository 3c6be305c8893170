"""``require("node:events")`` in a bundled package, made an import the server can link.

esbuild leaves a ``require`` of an external module in an ES module bundle as a call of its
``__require`` helper, which only works where a global ``require`` exists: on the server the
call would name a module the linker was never told of. As wrangler's nodejs_compat does, each
such call becomes a default import of the built-in, which is its ``module.exports``: what the
``require`` gave in Node. ``require("cloudflare:workers")`` becomes a namespace import: that
module has named exports only, as on workerd, and Node's ``require`` of an ES module gives its
namespace.
"""

from __future__ import annotations

import re

from vortex.modules.nodebuiltins import CLOUDFLARE_MODULES, PREFIX, SUPPORTED

_LINKED = (*(PREFIX + name for name in SUPPORTED), *CLOUDFLARE_MODULES)
_CALL = re.compile(r"\b__require\(\"(" + "|".join(map(re.escape, _LINKED)) + r")\"\)")


def requires_imported(code: str) -> str:
    """``code`` with each ``__require("node:x")`` of a supported built-in an import's binding."""
    names = sorted(set(_CALL.findall(code)))
    if not names:
        return code
    imports = "".join(f'import {_clause(name)} from "{name}";\n' for name in names)
    return imports + _CALL.sub(lambda m: _binding(m[1]), code)


def _clause(specifier: str) -> str:
    binding = _binding(specifier)
    return f"* as {binding}" if specifier in CLOUDFLARE_MODULES else binding


def _binding(specifier: str) -> str:
    """A JavaScript name for the built-in: ``node:assert/strict`` has a colon and a slash."""
    return "__vortex_" + re.sub(r"[:/]", "_", specifier)
