"""The path half of a custom-domain route (``api.example.com/v1/*``), matched as Workers do.

A pattern's path is a prefix when it ends in ``*`` (``/v1/*``, ``/*``), else an exact path. It is
matched against the request's target as sent, query included: ``/v1/*`` matches
``/v1/items?q=1``, the exact ``/about`` does not match ``/about?x=1`` (Cloudflare's rule: only a
trailing ``*`` matches a query). Dot segments are resolved first (``/v1/../admin`` is
``/admin``), as the URL parser the function sees resolves them. Shared by the supervisor, which
answers a host's ``Resolve``, and the host, which matches later requests of the hostname itself.
"""

from __future__ import annotations

import posixpath


def path_of(target: str) -> str:
    """The path and query of a request target (origin form, or absolute form's tail)."""
    if not target.startswith("/"):
        scheme_end = target.find("://")
        if scheme_end == -1:
            return "/"  # "*" (OPTIONS) or an authority: only a "/*" route matches it
        slash = target.find("/", scheme_end + 3)
        target = "/" if slash == -1 else target[slash:]
    path, mark, query = target.partition("?")
    if "/." in path or "%2e" in path.lower():
        path = _resolved(path)
    return f"{path}{mark}{query}"


def _resolved(path: str) -> str:
    segments = path.split("/")
    plain = ["." if s.lower() == "%2e" else ".." if s.lower() in _DOTDOT else s for s in segments]
    resolved = posixpath.normpath("/".join(plain)) if any(s in (".", "..") for s in plain) else path
    if resolved.startswith("//"):
        resolved = "/" + resolved.lstrip("/")
    if path.endswith(("/.", "/..", "/")) and not resolved.endswith("/"):
        resolved += "/"
    return resolved


_DOTDOT = frozenset({"%2e%2e", ".%2e", "%2e."})


def matches(pattern: str, path: str) -> bool:
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def rank(pattern: str) -> tuple[int, int]:
    """Sorts the more specific pattern first: an exact path, then the longer prefix."""
    if pattern.endswith("*"):
        return (1, -len(pattern))
    return (0, -len(pattern))


def first_match(patterns: tuple[str, ...], path: str) -> str | None:
    """``patterns`` most specific first (as the supervisor sends them)."""
    for pattern in patterns:
        if matches(pattern, path):
            return pattern
    return None
