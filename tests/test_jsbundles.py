"""The bundles are checked against the sources they were built from (isolates/jsbundles.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from vortex.isolates.jsbundles import STAMP, sources_digest, stale_bundles
from vortex.isolates.launcher import JS_DIR


def test_build_mjs_and_the_server_hash_the_sources_alike() -> None:
    """script/bootstrap built this checkout's bundles: the stamp build.mjs wrote is what
    the server computes, or every server of the suite would refuse to start."""
    assert (JS_DIR / "dist" / STAMP).read_text().strip() == sources_digest(JS_DIR)
    assert stale_bundles(JS_DIR) is None


def test_sources_changed_since_the_build_are_named(tmp_path: Path) -> None:
    js = tmp_path / "js"
    shutil.copytree(JS_DIR / "src", js / "src")
    shutil.copy(JS_DIR / "package-lock.json", js / "package-lock.json")
    (js / "dist").mkdir()
    assert "before they were stamped" in str(stale_bundles(js))
    (js / "dist" / STAMP).write_text(sources_digest(js) + "\n")
    assert stale_bundles(js) is None
    harness = js / "src" / "harness" / "index.js"
    harness.write_text(harness.read_text() + "\n// edited\n")
    assert "older than the sources" in str(stale_bundles(js))
    (js / "dist" / STAMP).write_text(sources_digest(js) + "\n")
    (js / "src" / "harness" / "added.js").write_text("export {};\n")
    assert "older than the sources" in str(stale_bundles(js))


def test_an_install_without_sources_is_not_checked(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    assert stale_bundles(tmp_path) is None
