"""``Buffer`` and ``process`` as globals of a bundle, as workerd's nodejs_compat makes them.

A project whose wrangler configuration asks for them (``WorkerConfig.node_globals``) may use
``Buffer.from(...)`` or ``process.env`` without importing them. esbuild's ``--inject`` replaces
each such free name with an import of the built-in (``import { Buffer } from "node:buffer"``),
which the server links as any import of it. esbuild keeps an injected file's import of an
external module even where nothing uses it, and an instance of a function that imports
``node:buffer`` evaluates 60 KB more: so the import of a global the code never names is taken
out again (``finished``). The injected files live in the bundle's temporary folder, whose name
esbuild writes into the bundle (in comments, and as keys where CommonJS packages are wrapped):
it is replaced by a fixed one, so that a bundle is the same from one deploy to the next and
says nothing of the machine's folders. The files' names do not hold the globals' own, which
would look like uses of them.
"""

from __future__ import annotations

import re
from pathlib import Path

SHIMS = (
    'export { Buffer } from "node:buffer";\n',
    'import process from "node:process";\nexport { process };\n',
)
_PREFIX = "vortex-node-global-"
SHOWN_FOLDER = "vortex-node-globals/"
"""What the bundle says instead of the temporary folder of the injected files."""


def write_shims(folder: Path) -> list[Path]:
    """The files to ``--inject``, written in ``folder`` (the bundle's temporary one)."""
    paths = []
    for number, code in enumerate(SHIMS, 1):
        path = folder / f"{_PREFIX}{number}.js"
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


def finished(code: str, shown_folder: str) -> tuple[str, tuple[str, ...]]:
    """``code`` as esbuild wrote it, with ``write_shims``' folder as it names it
    (``shown_folder``, relative to the project, with its slash) made ``SHOWN_FOLDER``, and
    without the shims' imports of globals it does not use; and the names of those it does
    (empty: the bundle is the project's code alone)."""
    code = code.replace(shown_folder, SHOWN_FOLDER)
    kept: list[str] = []

    def keep_if_used(match: re.Match[str]) -> str:
        local = match[2] or match[3] or match[4]
        rest = code[: match.start()] + code[match.end() :]
        if re.search(r"(?<![\w$.])" + re.escape(local) + r"(?![\w$])", rest):
            kept.append(local)
            return match[0]
        return ""

    return _SHIM_MODULE.sub(keep_if_used, code), tuple(kept)
