"""The ``_redirects`` file of Workers Static Assets: redirects and rewrites, by path.

The format is Cloudflare's (Netlify's before it)::

    # a comment
    /home              /                      301
    /blog/*            https://blog.example.com/:splat
    /products/:code    /shop/:code            308
    /app/*             /app/index.html        200

Each line is a source path pattern, a destination and an optional status: 301, 302 (the
default), 303, 307 or 308 answer with ``Location``; 200 serves the destination's asset at the
source's URL (a rewrite; its destination is a path of the assets). In a source, ``*`` matches
anything and is ``:splat`` in the destination, ``:name`` one path segment. The first rule whose
source matches the request's decoded path applies, before any asset is looked up; the request's
query string goes with the redirect when the destination has none. Rules apply where the
assets answer: not to a path the code runs first for (``run_worker_first``). Sources with a
host (``https://example.com/*``) are not supported.

Cloudflare's limits: 2,000 static and 100 dynamic (``*`` or ``:name``) rules, 1,000 characters
a line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from vortex.assets.headers import compile_pattern, fill_placeholders, rule_lines
from vortex.errors import InvalidAssets

MAX_STATIC = 2000
MAX_DYNAMIC = 100
MAX_LINE = 1000
STATUSES = frozenset({200, 301, 302, 303, 307, 308})
DEFAULT_STATUS = 302
REWRITE = 200
_DESTINATION = re.compile(r"^(?:/|https?://)[\x21-\x7e]*$")


@dataclass(frozen=True, slots=True)
class RedirectRule:
    pattern: re.Pattern[str]
    destination: str
    """A path or an absolute http(s) URL, with ``:name``/``:splat`` to fill."""
    status: int
    order: int
    """Its place in the file: the first rule that matches wins."""


@dataclass(frozen=True, slots=True)
class RedirectRules:
    """A file's rules, found fast on every asset request: a static source (up to 2,000) by a
    lookup, the dynamic ones (up to 100) by trying each in the file's order."""

    static: dict[str, RedirectRule]
    """Source → its first rule."""
    dynamic: tuple[RedirectRule, ...]

    def __len__(self) -> int:
        return len(self.static) + len(self.dynamic)


@functools.lru_cache(maxsize=256)
def redirect_rules(text: str) -> RedirectRules:
    """The rules of a ``_redirects`` file, parsed once per text (a version's, for its every
    request); InvalidAssets says which line is wrong and why."""
    static: dict[str, RedirectRule] = {}
    dynamic: list[RedirectRule] = []
    for order, (number, _, stripped) in enumerate(rule_lines(text, "_redirects", MAX_LINE)):
        words = stripped.split()
        if len(words) not in (2, 3):
            raise InvalidAssets(f"_redirects line {number}: not 'source destination [status]'")
        source, destination = words[0], words[1]
        status = DEFAULT_STATUS
        if len(words) == 3:
            if not words[2].isdigit() or int(words[2]) not in STATUSES:
                raise InvalidAssets(
                    f"_redirects line {number}: status {words[2][:10]!r} is none of "
                    "301, 302, 303, 307, 308 and 200 (a rewrite)"
                )
            status = int(words[2])
        if not source.startswith("/"):
            raise InvalidAssets(
                f"_redirects line {number}: {source[:80]!r} is not a path pattern: start it "
                "with / (sources with a host are not supported)"
            )
        if not _DESTINATION.match(destination):
            raise InvalidAssets(
                f"_redirects line {number}: the destination {destination[:80]!r} is neither "
                "a path nor an http(s) URL of printable ASCII"
            )
        if status == REWRITE and not destination.startswith("/"):
            raise InvalidAssets(
                f"_redirects line {number}: a rewrite (200) serves a path of the assets, "
                f"not {destination[:80]!r}"
            )
        rule = RedirectRule(compile_pattern(source, "_redirects"), destination, status, order)
        if "*" in source or ":" in source:
            dynamic.append(rule)
            if len(dynamic) > MAX_DYNAMIC:
                raise InvalidAssets(f"_redirects has over {MAX_DYNAMIC} dynamic rules")
        else:
            static.setdefault(source, rule)
            if order + 1 - len(dynamic) > MAX_STATIC:
                raise InvalidAssets(f"_redirects has over {MAX_STATIC} static rules")
    return RedirectRules(static, tuple(dynamic))


def redirect_for(rules: RedirectRules, path: str, query: str) -> tuple[int, str] | None:
    """(status, location or rewritten target) of the first rule in the file matching the
    decoded ``path``, or None. The query goes along when the destination has none."""
    found = rules.static.get(path)
    values: dict[str, str] = {}
    for rule in rules.dynamic:
        if found is not None and rule.order > found.order:
            break  # the static rule comes first in the file
        match = rule.pattern.fullmatch(path)
        if match is not None:
            found, values = rule, match.groupdict()
            break
    if found is None:
        return None
    location = fill_placeholders(found.destination, values)
    if query and "?" not in location:
        location += "?" + query
    return found.status, location
