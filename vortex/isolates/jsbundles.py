"""Whether the JavaScript bundles are older than the sources beside them.

``npm run build`` (js/build.mjs) writes ``dist/sources.sha256``: a hash of every file under
``js/src`` and of ``package-lock.json``. In a checkout whose sources changed after the last
build (a pull, an edit) the hosts would load old bundles beside new Python, which fails in
ways that say nothing of it: a host.py newer than its harness hung every run. Hashed the same
way here, the two must agree; where there are no sources (an install of built files only),
there is nothing to compare.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

STAMP = "sources.sha256"


def sources_digest(js_dir: Path) -> str:
    """The hash build.mjs writes: each file under src/ by its path, in sorted order, then the
    lock file."""
    source_dir = js_dir / "src"
    names = sorted(
        path.relative_to(source_dir).as_posix() for path in source_dir.rglob("*") if path.is_file()
    )
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0")
        digest.update((source_dir / name).read_bytes())
        digest.update(b"\0")
    digest.update((js_dir / "package-lock.json").read_bytes())
    return digest.hexdigest()


def stale_bundles(js_dir: Path) -> str | None:
    """Why the bundles in ``js_dir/dist`` are not those of ``js_dir/src``, or None."""
    if not (js_dir / "src").is_dir() or not (js_dir / "package-lock.json").is_file():
        return None
    stamp = js_dir / "dist" / STAMP
    try:
        built_from = stamp.read_text().strip()
    except FileNotFoundError:
        return f"the JavaScript bundles in {stamp.parent} were built before they were stamped"
    if built_from != sources_digest(js_dir):
        return (
            f"the JavaScript bundles in {stamp.parent} are older than the sources "
            f"in {js_dir / 'src'}"
        )
    return None
