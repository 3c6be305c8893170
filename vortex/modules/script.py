"""A classic script built by esbuild at deploy: a TypeScript one (its types stripped), or a
JavaScript one that SES's textual check refused ("-->" or "import(" in a string or comment),
whose literals the build escapes (``literals.py``).

A script's top-level code is the body of an async function (top-level ``await`` and ``return``
are allowed), which no module format accepts. So esbuild gets the source as the body of an
async function that the script returns the call of (CommonJS allows a top-level ``return``),
and its output, helpers included, is stored as the script the host runs. The source map is
shifted by the wrapper's line, so positions map to the user's own lines.

Runs report frames of such a script under the bundle's name, as module runs do, so the same
``BundleMap`` turns them into ``index.ts:LINE:COLUMN``; the wrapper's own frame maps to no line
of the user's and is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from vortex.errors import SyntaxErrorInCode
from vortex.modules.errors import InvalidImport
from vortex.modules.esbuild import transform
from vortex.modules.linker import Placement
from vortex.modules.literals import escaped
from vortex.modules.sourcemap import BundleMap, decode_mappings, encode_mappings

FORMAT = "vortex-script/1"
MAGIC = b'{"format":"' + FORMAT.encode() + b'"'
"""How a stored built script starts. No JavaScript script can start so (a block holding a string
label is a syntax error), so a blob starting with it was never a plain script's source."""

_WRAP_OPEN = "return (async function () {\n"
_WRAP_CLOSE = "\n})();"
EMPTY_EXPORT = re.compile(r"^([ \t]*)export[ \t]*\{[ \t]*\}[ \t]*;?[ \t]*$", re.MULTILINE)
"""``export {}`` alone on its line: what TypeScript users add to a script so that its top-level
``await`` type-checks (tsc allows it only in modules). It exports nothing, so the file stays a
script: the line is blanked before the build (the line count, and so every position, kept)."""


@dataclass(frozen=True, slots=True)
class BuiltScript:
    filename: str
    source: str
    """What was uploaded: shown by the API and the dashboard, and counted as its size."""
    script: str
    """The JavaScript the host runs (a script body, like any plain script's code)."""
    mappings: str
    positions: BundleMap = field(compare=False, repr=False, default_factory=BundleMap)

    @classmethod
    def create(cls, filename: str, source: str, script: str, mappings: str) -> BuiltScript:
        # Not the last line, the wrapper's "})();": a frame there is its call, not user code.
        lines = script.rstrip("\n").count("\n")
        placement = Placement(filename, 1, lines, mappings)
        return cls(filename, source, script, mappings, BundleMap.of([placement]))

    def to_bytes(self) -> bytes:
        data: dict[str, Any] = {
            "format": FORMAT,
            "filename": self.filename,
            "source": self.source,
            "script": self.script,
            "mappings": self.mappings,
        }
        return orjson.dumps(data)

    @classmethod
    def from_bytes(cls, blob: bytes) -> BuiltScript:
        data = orjson.loads(blob)
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} blob")
        return cls.create(data["filename"], data["source"], data["script"], data["mappings"])


def is_built_script(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


async def build_script(filename: str, source: str) -> BuiltScript:
    """Raises SyntaxErrorInCode or InvalidImport (400) at the user's line, or BuildUnavailable."""
    try:
        body = EMPTY_EXPORT.sub(r"\1", source)
        built = await transform({filename: _WRAP_OPEN + body + _WRAP_CLOSE})
    except SyntaxErrorInCode as exc:
        raise _unwrapped_error(exc, filename) from None
    output = escaped(built[filename])
    for item in output.imports:
        # A script has no static imports (the grammar refuses them inside the wrapper); esbuild
        # would turn import("x") into a require() that no run has.
        raise InvalidImport(
            f'import("{item.specifier}") in {filename} is not supported: a script cannot '
            "import; deploy a module (several files, or a top-level export) instead"
        )
    last = source.count("\n")  # 0-based, in the user's file
    lines = [
        [(column, line - 1, col) for column, line, col in segments if 1 <= line <= last + 1]
        for segments in decode_mappings(output.mappings)
    ]
    return BuiltScript.create(filename, source, output.code, encode_mappings(lines))


def _unwrapped_error(exc: SyntaxErrorInCode, filename: str) -> SyntaxErrorInCode:
    line = exc.details.get("line")
    column = exc.details.get("column")
    if not isinstance(line, int):
        return exc
    line = max(1, line - 1)
    reason = exc.message.removesuffix(f" ({filename}:{line + 1}:{column})")
    return SyntaxErrorInCode(
        f"{reason} ({filename}:{line}:{column})", line=line, column=column, file=filename
    )
