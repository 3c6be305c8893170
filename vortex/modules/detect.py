"""Is an upload a module or a classic script? A ``.mjs`` or ``.mts`` entry, several files, or a
top-level ``export`` that the script grammar refuses make a module; everything else stays a
script. TypeScript (``.ts``, ``.mts``, ``.cts``) is either, its types stripped at deploy."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from vortex.errors import InvalidRequest
from vortex.modules.wasm import WASM_EXTENSION, wasm_bytes

# A rough first look; the script grammar has the last word (see ``might_be_module``).
_EXPORT = re.compile(r"^[ \t]*export[\s{*]", re.MULTILINE)
_PART = re.compile(r"^[\w][\w.-]{0,99}$")
TYPESCRIPT_EXTENSIONS = (".ts", ".mts", ".cts")
MODULE_EXTENSIONS = (".mjs", ".js", ".cjs", ".json", *TYPESCRIPT_EXTENSIONS)
ENTRY_CANDIDATES = ("index.mjs", "index.js", "index.mts", "index.ts")
MAX_FILES = 100


@dataclass(frozen=True, slots=True)
class Upload:
    """Files as given at deploy (path → source text) and the one the runtime starts from."""

    files: dict[str, str]
    entry: str


def might_be_module(filename: str, code: str) -> bool:
    """True when ``code`` should be built as a module if it does not compile as a script."""
    return bool(_EXPORT.search(code))


def is_module_name(filename: str) -> bool:
    return filename.endswith((".mjs", ".mts"))


def is_typescript(filename: str) -> bool:
    """Types are stripped, not checked: a type error deploys, a syntax error does not."""
    return filename.endswith(TYPESCRIPT_EXTENSIONS)


def check_path(name: str) -> str:
    """A relative path inside the upload: plain parts, no "..", no leading slash."""
    parts = name.split("/")
    if not name or len(name) > 200 or not all(_PART.match(part) for part in parts):
        raise InvalidRequest(
            f"{name[:100]!r} is not a valid file name: use relative paths of plain names "
            '("index.mjs", "lib/util.mjs"), without ".." or a leading "/"'
        )
    if posixpath.normpath(name) != name:
        raise InvalidRequest(f"{name!r} is not a normalised relative path")
    if not name.endswith((*MODULE_EXTENSIONS, WASM_EXTENSION)):
        raise InvalidRequest(
            f"{name!r}: module functions are made of {', '.join(MODULE_EXTENSIONS)} files "
            f"(and {WASM_EXTENSION} files, in base64)"
        )
    return name


def upload_from_files(files: object, entry: object) -> Upload:
    if not isinstance(files, Mapping):
        raise InvalidRequest('"files" must be an object of file name to source text')
    if not files:
        raise InvalidRequest('"files" is empty: upload at least the entry file')
    if len(files) > MAX_FILES:
        raise InvalidRequest(f"an upload holds at most {MAX_FILES} files")
    checked: dict[str, str] = {}
    for name, source in files.items():
        if not isinstance(name, str) or not isinstance(source, str):
            raise InvalidRequest('"files" must map file names to source text (strings)')
        checked[check_path(name)] = source
        if name.endswith(WASM_EXTENSION):
            wasm_bytes(name, source)
    if entry is None:
        candidates = [n for n in ENTRY_CANDIDATES if n in checked]
        if len(checked) == 1:
            entry = next(iter(checked))
        elif candidates:
            entry = candidates[0]
        else:
            raise InvalidRequest('say which file is the entry with "entry" (e.g. "index.mjs")')
    if not isinstance(entry, str) or entry not in checked:
        raise InvalidRequest(f'"entry" must name one of the uploaded files, got {entry!r}')
    if entry.endswith((".json", ".d.ts", WASM_EXTENSION)):
        raise InvalidRequest(
            '"entry" must be a JavaScript or TypeScript file (not .json, .d.ts, .wasm)'
        )
    return Upload(checked, entry)
