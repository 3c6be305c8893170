"""The static files of a project's ``assets.directory``, as wrangler uploads them.

Skipped, as wrangler skips them: what ``.assetsignore`` (in the directory, gitignore's syntax:
globs, ``!`` to keep, a leading ``/`` anchors, a trailing ``/`` names folders) lists, the
``.assetsignore`` itself, and ``_headers``, ``_redirects`` and ``_worker.js`` (files of
Workers' own: ``_headers`` and ``_redirects`` are sent as the assets' ``headers`` and
``redirects`` settings and applied; ``_worker.js`` Vortex does not apply, and a warning says
so). Also skipped: dotfiles and
dot-folders (``.git``, ``.DS_Store``, ``.env``), but for ``.well-known``, and ``node_modules``:
an upload should never publish a secret by accident.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from vortex.cli.errors import CLIError, ExitCode

IGNORE_FILE = ".assetsignore"
WORKERS_FILES = ("_headers", "_redirects", "_worker.js")
"""Files of Workers' own that wrangler does not upload as assets."""
HEADERS_FILE = "_headers"
REDIRECTS_FILE = "_redirects"
KEPT_DOTTED = (".well-known",)


@dataclass(frozen=True, slots=True)
class AssetFile:
    path: str
    """As served: ``/blog/index.html``."""
    source: Path
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Collected:
    files: tuple[AssetFile, ...]
    skipped_workers_files: tuple[str, ...]
    """``_worker.js`` found: not applied by Vortex."""
    headers: str | None = None
    """The text of the directory's ``_headers``, if it has one."""
    redirects: str | None = None
    """The text of its ``_redirects``, if it has one."""

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def manifest(self) -> dict[str, dict[str, object]]:
        return {f.path: {"hash": f.digest, "size": f.size} for f in self.files}


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: str
    keep: bool
    anchored: bool
    folder_only: bool

    def matches(self, relative: str, is_dir: bool) -> bool:
        if self.folder_only and not is_dir:
            return False
        if self.anchored or "/" in self.pattern:
            return fnmatch.fnmatchcase(relative, self.pattern)
        return fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], self.pattern)


def _rules(directory: Path) -> list[_Rule]:
    path = directory / IGNORE_FILE
    if not path.is_file():
        return []
    rules = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        line = line.removeprefix("!")
        folder_only = line.endswith("/")
        anchored = line.startswith("/")
        pattern = line.strip("/")
        if pattern:
            rules.append(_Rule(pattern, keep, anchored, folder_only))
    return rules


def _ignored(rules: list[_Rule], relative: str, is_dir: bool) -> bool:
    ignored = False
    for rule in rules:  # the last rule that matches decides, as in .gitignore
        if rule.matches(relative, is_dir):
            ignored = not rule.keep
    return ignored


def collect(directory: Path) -> Collected:
    if not directory.is_dir():
        raise CLIError(
            f"assets.directory {directory} is not a folder", ExitCode.USAGE, "invalid_config"
        )
    rules = _rules(directory)
    files: list[AssetFile] = []
    workers_files: list[str] = []
    headers: str | None = None
    redirects: str | None = None
    for root, folders, names in os.walk(directory):
        base = Path(root).relative_to(directory).as_posix()
        prefix = "" if base == "." else base + "/"
        folders[:] = sorted(
            folder
            for folder in folders
            if (not folder.startswith(".") or folder in KEPT_DOTTED)
            and folder != "node_modules"
            and not _ignored(rules, prefix + folder, True)
        )
        for name in sorted(names):
            relative = prefix + name
            if name.startswith("."):  # .assetsignore itself, .DS_Store, .env...
                continue
            if name == HEADERS_FILE and not prefix:
                headers = _read_text(Path(root) / name)
                continue
            if name == REDIRECTS_FILE and not prefix:
                redirects = _read_text(Path(root) / name)
                continue
            if name in WORKERS_FILES and not prefix:
                workers_files.append(name)
                continue
            if _ignored(rules, relative, False):
                continue
            source = Path(root) / name
            try:
                data = source.read_bytes()
            except OSError as exc:
                message = f"cannot read {source}: {exc.strerror or exc}"
                raise CLIError(message, ExitCode.FAILED, "read_failed") from None
            files.append(
                AssetFile("/" + relative, source, hashlib.sha256(data).hexdigest(), len(data))
            )
    return Collected(tuple(files), tuple(workers_files), headers, redirects)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {path}: {exc}", ExitCode.FAILED, "read_failed") from None
