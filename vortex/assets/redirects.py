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

from vortex.assets.headers import compile_pattern, fill_placeholders
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


@functools.lru_cache(maxsize=256)
def redirect_rules(text: str) -> tuple[RedirectRule, ...]:
    """The rules of a ``_redirects`` file, parsed once per text (a version's, for its every
    request); InvalidAssets says which line is wrong and why."""
    rules: list[RedirectRule] = []
    static = dynamic = 0
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE:
            raise InvalidAssets(f"_redirects line {number} is over {MAX_LINE} characters")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
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
        if "*" in source or ":" in source:
            dynamic += 1
            if dynamic > MAX_DYNAMIC:
                raise InvalidAssets(f"_redirects has over {MAX_DYNAMIC} dynamic rules")
        else:
            static += 1
            if static > MAX_STATIC:
                raise InvalidAssets(f"_redirects has over {MAX_STATIC} static rules")
        rules.append(RedirectRule(compile_pattern(source, "_redirects"), destination, status))
    return tuple(rules)


def redirect_for(rules: tuple[RedirectRule, ...], path: str, query: str) -> tuple[int, str] | None:
    """(status, location or rewritten target) of the first rule matching the decoded ``path``,
    or None. The query goes along when the destination has none."""
    for rule in rules:
        match = rule.pattern.fullmatch(path)
        if match is None:
            continue
        location = fill_placeholders(rule.destination, match.groupdict())
        if query and "?" not in location:
            location += "?" + query
        return rule.status, location
    return None
