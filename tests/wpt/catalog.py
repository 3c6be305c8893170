"""The test files of ``upstream/`` and what their ``// META:`` lines ask for.

A unit is one file with one of its variants (``?1-10``, ``?include=file``): WPT runs each
variant as a test page of its own, and so do we, so a big file is split as its authors split it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE / "upstream"
OURS = HERE / "js"

# Files WPT's server provides that the vendored copy lacks: our own small versions.
SHIMS = {
    "common/sab.js": OURS / "sab.js",
    "common/subset-tests-by-key.js": OURS / "subset-tests-by-key.js",
}

_META = re.compile(r"//\s*META:\s*(\w+)=(.*)")


@dataclass(frozen=True)
class Unit:
    path: str  # relative to upstream/, "url/url-constructor.any.js"
    variant: str  # "" or the query string of a variant, "?1-10"
    scripts: tuple[Path, ...]  # the META scripts, in order
    long: bool  # META: timeout=long

    @property
    def id(self) -> str:
        return self.path + self.variant

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path)

    @property
    def source(self) -> Path:
        return UPSTREAM / self.path


def _script_path(test: str, name: str) -> Path:
    """A META script as WPT's server resolves it: from the root when absolute, else beside the
    test file."""
    if name.startswith("/"):
        relative = posixpath.normpath(name.lstrip("/"))
    else:
        relative = posixpath.normpath(posixpath.join(posixpath.dirname(test), name))
    if relative in SHIMS:
        return SHIMS[relative]
    found = UPSTREAM / relative
    if not found.is_file():
        raise FileNotFoundError(f"{test}: META script {name} is not in {UPSTREAM}")
    return found


def units_of(path: str) -> list[Unit]:
    scripts: list[Path] = []
    variants: list[str] = []
    long = False
    for line in (UPSTREAM / path).read_text().splitlines():
        match = _META.match(line.strip())
        if match is None:
            if line.strip() and not line.lstrip().startswith("//"):
                break  # META lines are the file's header only
            continue
        key, value = match.group(1), match.group(2).strip()
        if key == "script":
            scripts.append(_script_path(path, value))
        elif key == "variant":
            variants.append(value)
        elif key == "timeout":
            long = value == "long"
    return [Unit(path, variant, tuple(scripts), long) for variant in variants or [""]]


def all_units() -> list[Unit]:
    paths = sorted(p.relative_to(UPSTREAM).as_posix() for p in UPSTREAM.rglob("*.any.js"))
    return [unit for path in paths for unit in units_of(path)]
