"""Which asset a request names (vortex.assets.routing), without a server."""

from __future__ import annotations

import pytest

from vortex.assets.manifest import AssetConfig, AssetLimits, parse_assets
from vortex.assets.paths import check_path
from vortex.assets.routing import (
    Found,
    Redirect,
    not_found,
    not_modified,
    request_path,
    resolve,
    worker_first,
)
from vortex.errors import (
    AssetsTooLarge,
    AssetTooLarge,
    InvalidAssetPath,
    InvalidAssets,
    TooManyAssets,
)

FILES = {
    "/index.html": ("a" * 64, 1),
    "/about.html": ("b" * 64, 1),
    "/blog/index.html": ("c" * 64, 1),
    "/blog/404.html": ("d" * 64, 1),
    "/404.html": ("e" * 64, 1),
    "/style.css": ("f" * 64, 1),
}


def served(path: str) -> str | None:
    found = resolve(FILES, "auto-trailing-slash", path)
    assert found is None or isinstance(found, Found), found
    return None if found is None else found.path


def redirected(path: str) -> str:
    found = resolve(FILES, "auto-trailing-slash", path)
    assert isinstance(found, Redirect), found
    return found.location


def test_auto_trailing_slash_serves_and_redirects_as_workers_does() -> None:
    assert served("/") == "/index.html"
    assert served("/about") == "/about.html"
    assert served("/blog/") == "/blog/index.html"
    assert served("/style.css") == "/style.css"
    assert served("/nothing") is None
    assert redirected("/about.html") == "/about"
    assert redirected("/about/") == "/about"
    assert redirected("/blog") == "/blog/"
    assert redirected("/blog/index.html") == "/blog/"
    assert redirected("/index.html") == "/"
    assert resolve(FILES, "auto-trailing-slash", "/blog", "x=1") == Redirect("/blog/?x=1")


def test_html_handling_none_serves_exact_paths_only() -> None:
    assert resolve(FILES, "none", "/about") is None
    assert resolve(FILES, "none", "/about.html") == Found("/about.html", "b" * 64, 1)


def test_not_found_handling() -> None:
    assert not_found(FILES, "none", "/x") is None
    assert not_found(FILES, "404-page", "/blog/nope") == Found("/blog/404.html", "d" * 64, 1, 404)
    assert not_found(FILES, "404-page", "/deep/er/nope") == Found("/404.html", "e" * 64, 1, 404)
    assert not_found(FILES, "single-page-application", "/app/route") == Found(
        "/index.html", "a" * 64, 1
    )


def test_request_paths_are_decoded_and_normalised() -> None:
    assert request_path("/a%20b?q=1") == "/a b"
    assert request_path("/x/../../etc/passwd") == "/etc/passwd"
    assert request_path("/blog/./") == "/blog/"
    assert request_path("//index.html") == "/index.html"
    assert request_path("/%00") is None
    assert request_path("/%ff") is None
    assert request_path("http://h.localhost/about?x") == "/about"


def test_run_worker_first_patterns() -> None:
    config = AssetConfig(run_worker_first=("/api/*", "!/api/docs/*"))
    assert worker_first(config, "/api/users")
    assert not worker_first(config, "/api/docs/x")
    assert not worker_first(config, "/")
    assert worker_first(AssetConfig(run_worker_first=True), "/")


def test_etags_compare_weakly() -> None:
    assert not_modified('W/"x", "y"', '"y"')
    assert not_modified("*", '"y"')
    assert not not_modified('"x"', '"y"')
    assert not not_modified(None, '"y"')


@pytest.mark.parametrize(
    "path",
    ["index.html", "/a/../b", "/a//b", "/./a", "/a/", "/a\x00b", "/a\\b", "/" + "x" * 300, 7],
)
def test_asset_paths_must_be_normalised(path: object) -> None:
    with pytest.raises(InvalidAssetPath):
        check_path(path)


def test_limits_each_have_their_code() -> None:
    entry = {"hash": "a" * 64, "size": 10}
    limits = AssetLimits(max_file_bytes=10, max_files=2, max_total_bytes=15)
    assert parse_assets({"manifest": {"/a": entry}}, limits).total == 10
    with pytest.raises(AssetTooLarge):
        parse_assets({"manifest": {"/a": {**entry, "size": 11}}}, limits)
    with pytest.raises(AssetsTooLarge):
        parse_assets({"manifest": {"/a": entry, "/b": entry}}, limits)
    with pytest.raises(TooManyAssets):
        parse_assets({"manifest": {"/a": entry, "/b": entry, "/c": entry}}, limits)
    with pytest.raises(InvalidAssets):
        parse_assets({"manifest": {"/a": {"hash": "A" * 64, "size": 1}}}, limits)
    with pytest.raises(InvalidAssets):
        parse_assets({"manifest": {}, "config": {"html_handling": "force-trailing-slash"}}, limits)
    with pytest.raises(InvalidAssets):
        parse_assets({"manifest": {}, "config": {"binding": "KV"}}, limits)
