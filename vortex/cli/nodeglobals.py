"""``Buffer`` and ``process`` as globals of a bundle, as workerd's nodejs_compat makes them.

A project whose wrangler configuration asks for them (``WorkerConfig.node_globals``) may use
``Buffer.from(...)`` or ``process.env`` without importing them. esbuild's ``--inject`` replaces
each such free name with an import of the built-in (``import { Buffer } from "node:buffer"``),
which the server links as any import of it. esbuild keeps an injected file's import of an
external module even where nothing uses it, and an instance of a function that imports
``node:buffer`` evaluates 60 KB more: so the import of a global the code never names is taken
out again (``unused_dropped``).
"""

from __future__ import annotations

import re
from pathlib import Path

SHIMS = {
    "buffer": 'export { Buffer } from "node:buffer";\n',
    "process": 'import process from "node:process";\nexport { process };\n',
}
_PREFIX = "vortex-node-global-"


def write_shims(folder: Path) -> list[Path]:
    """The files to ``--inject``, written in ``folder`` (the bundle's temporary one)."""
    paths = []
    for name, code in SHIMS.items():
        path = folder / f"{_PREFIX}{name}.js"
        path.write_text(code, encoding="utf-8")
        paths.append(path)
    return paths


def is_shim(input_path: str) -> bool:
    """Whether a metafile input is one of ``write_shims``' files (not the project's)."""
    return Path(input_path).name.startswith(_PREFIX)


# esbuild writes each module after a comment with its path; a shim's module is its one import.
_SHIM_MODULE = re.compile(
    r"^// [^\n]*"
    + re.escape(_PREFIX)
    + r"\w+\.js\n(import (?:\{ \w+ as (\w+) \}|\{ (\w+) \}|(\w+)) from \"node:\w+\";)\n",
    re.MULTILINE,
)


def unused_dropped(code: str) -> tuple[str, tuple[str, ...]]:
    """``code`` without the shims' imports of globals it does not use, and the names of those
    it does (empty: the bundle is the project's code alone)."""
    kept: list[str] = []

    def keep_if_used(match: re.Match[str]) -> str:
        local = match[2] or match[3] or match[4]
        rest = code[: match.start()] + code[match.end() :]
        if re.search(r"(?<![\w$.])" + re.escape(local) + r"(?![\w$])", rest):
            kept.append(local)
            return match[0]
        return ""

    return _SHIM_MODULE.sub(keep_if_used, code), tuple(kept)
