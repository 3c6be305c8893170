"""``require("node:events")`` in a bundled package, made an import the server can link.

esbuild leaves a ``require`` of an external module in an ES module bundle as a call of its
``__require`` helper, which only works where a global ``require`` exists: on the server the
call would name a module the linker was never told of. As wrangler's nodejs_compat does, each
such call becomes a default import of the built-in, which is its ``module.exports``: what the
``require`` gave in Node.
"""

from __future__ import annotations

import re

from vortex.modules.nodebuiltins import PREFIX, SUPPORTED

_CALL = re.compile(
    r"\b__require\(\"" + re.escape(PREFIX) + "(" + "|".join(map(re.escape, SUPPORTED)) + r")\"\)"
)


def requires_imported(code: str) -> str:
    """``code`` with each ``__require("node:x")`` of a supported built-in an import's binding."""
    names = sorted(set(_CALL.findall(code)))
    if not names:
        return code
    imports = "".join(f'import {_binding(name)} from "{PREFIX}{name}";\n' for name in names)
    return imports + _CALL.sub(lambda m: _binding(m[1]), code)


def _binding(name: str) -> str:
    """A JavaScript name for the built-in: ``assert/strict`` has a slash."""
    return "__vortex_node_" + name.replace("/", "_")
