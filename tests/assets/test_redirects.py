"""The _redirects file of static assets (vortex.assets.redirects), without a server: what it
says, how a request's path meets it, and what is refused at deploy."""

from __future__ import annotations

import re

import pytest

from vortex.assets.manifest import AssetConfig, parse_config
from vortex.assets.redirects import redirect_for, redirect_rules
from vortex.assets.routing import Found, Redirect, decide
from vortex.errors import InvalidAssets

RULES = """
# moved pages
/home            /                              301
/old-about       /about
/blog/*          https://blog.example.com/:splat
/docs/:page/v1   /docs/:page                    308
/app/*           /app/index.html                200
/home            /never-reached                 301
"""
FILES = {"/index.html": ("a", 1), "/about.html": ("b", 2), "/app/index.html": ("c", 3)}


def test_the_first_matching_rule_redirects_with_its_status() -> None:
    rules = redirect_rules(RULES)
    assert redirect_for(rules, "/home", "") == (301, "/")
    assert redirect_for(rules, "/old-about", "") == (302, "/about")  # 302 by default
    assert redirect_for(rules, "/blog/2024/post", "") == (302, "https://blog.example.com/2024/post")
    assert redirect_for(rules, "/docs/intro/v1", "") == (308, "/docs/intro")
    assert redirect_for(rules, "/docs/a/b/v1", "") is None  # :page is one segment
    assert redirect_for(rules, "/about", "") is None


def test_the_first_rule_in_the_file_wins_static_or_dynamic() -> None:
    # Static sources are found by a lookup, dynamic ones tried in order: the file's order holds.
    rules = redirect_rules("/a/* /dynamic-first\n/a/b /static\n/c /static-first\n/* /catch-all\n")
    assert redirect_for(rules, "/a/b", "") == (302, "/dynamic-first")
    assert redirect_for(rules, "/c", "") == (302, "/static-first")
    assert redirect_for(rules, "/d", "") == (302, "/catch-all")
    many = redirect_rules("".join(f"/p{i} /q{i}\n" for i in range(2000)))
    assert redirect_for(many, "/p1999", "") == (302, "/q1999")


def test_the_query_goes_along_unless_the_destination_has_one() -> None:
    rules = redirect_rules("/a /b\n/c /d?x=1\n")
    assert redirect_for(rules, "/a", "q=2") == (302, "/b?q=2")
    assert redirect_for(rules, "/c", "q=2") == (302, "/d?x=1")


def test_a_decoded_path_cannot_inject_a_header_through_a_splat() -> None:
    rules = redirect_rules("/go/* /to/:splat\n")
    status, location = redirect_for(rules, "/go/a\r\nSet-Cookie: x=1/é", "") or (0, "")
    assert (status, location) == (302, "/to/a%0D%0ASet-Cookie:%20x=1/%C3%A9")


def test_rules_come_before_the_assets_and_a_rewrite_serves_another() -> None:
    config = AssetConfig(binding="ASSETS", redirects=RULES)
    # an asset at the source's path does not stop a redirect
    assert decide(config, {**FILES, "/home.html": ("d", 4)}, "/home", "") == Redirect("/", 301)
    assert decide(config, FILES, "/app/settings/profile", "") == Found("/app/index.html", "c", 3)
    assert decide(config, FILES, "/about", "") == Found("/about.html", "b", 2)
    assert decide(AssetConfig(), FILES, "/home", "") is None  # no file, no rules


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/a", "not 'source destination [status]'"),
        ("/a /b 301 extra", "not 'source destination [status]'"),
        ("/a /b 404", "none of 301, 302, 303, 307, 308 and 200"),
        ("a /b", "is not a path pattern"),
        ("https://example.com/a /b", "is not a path pattern"),
        ("/a javascript:alert(1)", "neither a path nor an http(s) URL"),
        ("/a https://x.example/ 200", "a rewrite (200) serves a path of the assets"),
        ("/*/* /b", "names a placeholder twice"),
        ("/a /" + "b" * 1000, "over 1000 characters"),
        ("".join(f"/d{i}/* /x\n" for i in range(101)), "over 100 dynamic rules"),
    ],
)
def test_what_is_not_a_redirects_file_is_refused_at_deploy(text: str, says: str) -> None:
    with pytest.raises(InvalidAssets, match=re.escape(says)):
        parse_config({"binding": "ASSETS", "redirects": text})


def test_the_config_keeps_and_shows_the_file() -> None:
    config = parse_config({"binding": "ASSETS", "redirects": RULES})
    assert config.redirects == RULES
    assert config.to_json()["redirects"] == RULES
    assert len(config.redirect_rules) == 5  # the second /home can never apply
