"""The ``_headers`` file of Workers Static Assets: headers that the assets' answers get, by path.

The format is Cloudflare's (as Netlify's before it)::

    # a comment
    /_app/immutable/*
      Cache-Control: public, max-age=31536000, immutable
    /secure/:page
      X-Frame-Options: DENY
      ! Cache-Control

A line that starts at the margin is a path pattern: ``*`` matches anything (``/`` too) and is
``:splat`` in a value, ``:name`` one path segment, which a value may use as ``:name``. An
indented ``Name: value`` line sets a header on the answers whose request path the pattern
matches; ``! Name`` removes one that a rule before it (or Vortex itself: ``content-type``,
``etag``, ``cache-control``) set. Every matching rule applies, in the file's order; a name set
by two rules gets both values, joined with ``, ``; a name a rule sets replaces Vortex's own.
Patterns with a host (``https://example.com/*``) are not supported. As on Workers, the code's
own responses are left as they are.

Cloudflare's limits: 100 rules, 2,000 characters a line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from vortex.errors import InvalidAssets

MAX_RULES = 100
MAX_LINE = 2000
_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_PLACEHOLDER = re.compile(r":([A-Za-z]\w*)")
_VALUE = re.compile(r"^[\t\x20-\x7e]*$")
FRAMING = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"}
)
"""Headers the listener writes for the connection itself: set by a file, they would break the
response's framing."""


@dataclass(frozen=True, slots=True)
class HeaderRule:
    pattern: re.Pattern[str]
    set: tuple[tuple[str, str], ...]
    """Lowercase name and value (placeholders in it filled when it applies)."""
    unset: tuple[str, ...]
    """Lowercase names."""


@functools.lru_cache(maxsize=256)
def header_rules(text: str) -> tuple[HeaderRule, ...]:
    """The rules of a ``_headers`` file, parsed once per text (a version's, for its every
    request); InvalidAssets says which line is wrong and why."""
    rules: list[HeaderRule] = []
    pattern: re.Pattern[str] | None = None
    sets: list[tuple[str, str]] = []
    unsets: list[str] = []

    def close() -> None:
        if pattern is not None:
            rules.append(HeaderRule(pattern, tuple(sets), tuple(unsets)))

    for number, line, stripped in rule_lines(text, "_headers", MAX_LINE):
        if not line[0].isspace():
            close()
            if not stripped.startswith("/"):
                raise InvalidAssets(
                    f"_headers line {number}: {stripped[:80]!r} is not a path pattern: "
                    "start it with / (patterns with a host are not supported)"
                )
            if len(rules) >= MAX_RULES:
                raise InvalidAssets(f"_headers has over {MAX_RULES} rules")
            pattern, sets, unsets = compile_pattern(stripped, "_headers"), [], []
            continue
        if pattern is None:
            raise InvalidAssets(f"_headers line {number}: a header before any path pattern")
        if stripped.startswith("!"):
            name = stripped[1:].strip()
            if not _NAME.match(name):
                raise InvalidAssets(f"_headers line {number}: {name[:80]!r} is no header name")
            unsets.append(name.lower())
            continue
        name, colon, value = stripped.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not _NAME.match(name):
            raise InvalidAssets(f"_headers line {number}: not 'Name: value' or '! Name'")
        if name.lower() in FRAMING:
            raise InvalidAssets(
                f"_headers line {number}: {name} is the connection's, not a file's to set"
            )
        if not _VALUE.match(value):
            raise InvalidAssets(
                f"_headers line {number}: the value of {name} may hold printable ASCII only"
            )
        sets.append((name.lower(), value))
    close()
    return tuple(rules)


def rule_lines(text: str, file: str, max_line: int) -> Iterator[tuple[int, str, str]]:
    """(number, line, stripped) of each line of ``_headers`` or ``_redirects`` (``file``)
    that is neither blank nor a comment; InvalidAssets for one over ``max_line``."""
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > max_line:
            raise InvalidAssets(f"{file} line {number} is over {max_line} characters")
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, line, stripped


def compile_pattern(pattern: str, file: str) -> re.Pattern[str]:
    """A path pattern of ``_headers`` or ``_redirects`` (``file``, for the message): ``*`` the
    ``splat`` group, ``:name`` a group of one path segment."""
    parts: list[str] = []
    position = 0
    for found in re.finditer(r"\*|:[A-Za-z]\w*", pattern):
        parts.append(re.escape(pattern[position : found.start()]))
        token = found.group()
        parts.append("(?P<splat>.*)" if token == "*" else f"(?P<{token[1:]}>[^/]+)")
        position = found.end()
    parts.append(re.escape(pattern[position:]))
    try:
        return re.compile("".join(parts), re.DOTALL)
    except re.error:  # a placeholder or * twice
        raise InvalidAssets(f"{file}: pattern {pattern[:80]!r} names a placeholder twice") from None


def apply_headers(
    rules: tuple[HeaderRule, ...], path: str, headers: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``headers`` (lowercase names) with the rules whose pattern matches ``path`` applied."""
    added: dict[str, str] = {}
    dropped: set[str] = set()
    for rule in rules:
        match = rule.pattern.fullmatch(path)
        if match is None:
            continue
        # A rule's "! Name" drops what the rules before it (or Vortex) set, then its own
        # headers are set: SvelteKit's /_app/immutable/* replaces /_app/*'s no-cache so.
        for name in rule.unset:
            added.pop(name, None)
            dropped.add(name)
        for name, value in rule.set:
            filled = fill_placeholders(value, match.groupdict())
            added[name] = added[name] + ", " + filled if name in added else filled
    if not added and not dropped:
        return headers
    kept = [(n, v) for n, v in headers if n not in dropped and n not in added]
    return kept + list(added.items())


def fill_placeholders(value: str, values: dict[str, str]) -> str:
    """``value`` with its ``:name`` placeholders replaced by what the pattern matched, whose
    characters that may not be in a header (the decoded path's CR, LF, non-ASCII) are
    percent-encoded again."""
    return _PLACEHOLDER.sub(lambda m: _printable(values[m[1]]) if m[1] in values else m[0], value)


def _printable(text: str) -> str:
    return "".join(c if "\x21" <= c <= "\x7e" else quote(c) for c in text)
