"""Which asset a request names, as Workers Static Assets decides it. Pure: the hosts use it for
the listener's requests and the supervisor for ``env.ASSETS.fetch``.

``html_handling: auto-trailing-slash`` (the default): ``/about`` serves ``/about.html``,
``/blog/`` serves ``/blog/index.html``, and the other spellings of those pages are redirected
(307) to them (``/about.html`` → ``/about``, ``/blog`` → ``/blog/``); ``none`` serves exact
paths only. ``not_found_handling`` decides what a path that names no asset gets: ``404-page``
the nearest ``404.html`` up its folders with status 404, ``single-page-application``
``/index.html`` with 200.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from vortex.assets.manifest import AssetConfig, HtmlHandling, NotFoundHandling
from vortex.assets.redirects import REWRITE, redirect_for

Files = Mapping[str, tuple[str, int]]
INDEX = "/index.html"
REDIRECT_STATUS = 307
"""Temporary, as Workers': a later deploy may move the page back."""
CACHE_CONTROL = "public, max-age=0, must-revalidate"
"""Workers' default for assets: a browser keeps them and revalidates with the ETag."""


@dataclass(frozen=True, slots=True)
class Found:
    path: str
    digest: str
    size: int
    status: int = 200


@dataclass(frozen=True, slots=True)
class Redirect:
    location: str
    status: int = REDIRECT_STATUS


def request_path(target: str) -> str | None:
    """The decoded, normalised path of a request target (``/a%20b/../c?q`` → ``/c``); None
    for one that is not a path of UTF-8 text (it names no asset)."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if "://" in path[:8]:  # absolute form: the path after the authority
        rest = path.split("://", 1)[1]
        path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    if not path.startswith("/"):
        return None
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\x00" in decoded or "\\" in decoded:
        return None
    trailing = decoded.endswith("/")
    normal = posixpath.normpath(decoded)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    if trailing and normal != "/":
        normal += "/"
    return normal


def resolve(
    files: Files, html: HtmlHandling, path: str, query: str = ""
) -> Found | Redirect | None:
    """The asset ``path`` names, a redirect to its canonical path, or None (no asset)."""
    if html == "none":
        return _found(files, path)
    suffix = f"?{query}" if query else ""
    if path.endswith("/"):
        found = _found(files, path + "index.html")
        if found is not None:
            return found
        if path != "/" and _found(files, path[:-1] + ".html") is not None:
            return Redirect(path[:-1] + suffix)
        return _found(files, path[:-1]) if path != "/" and path[:-1] in files else None
    if path.endswith("/index.html") and path in files:
        return Redirect(path[: -len("index.html")] + suffix)
    if path.endswith("/index") and path + ".html" in files:
        return Redirect(path[: -len("index")] + suffix)
    if path.endswith(".html") and path in files:
        bare = path[: -len(".html")]
        # Redirected only where the bare path serves this very file again.
        if bare not in files and bare + "/index.html" not in files:
            return Redirect(bare + suffix)
        return _found(files, path)
    exact = _found(files, path)
    if exact is not None:
        return exact
    page = _found(files, path + ".html")
    if page is not None:
        return page
    if path + "/index.html" in files:
        return Redirect(path + "/" + suffix)
    return None


def decide(config: AssetConfig, files: Files, path: str, query: str) -> Found | Redirect | None:
    """``resolve`` after the ``_redirects`` file: its first matching rule redirects, or
    rewrites the request to another asset's path (200)."""
    redirect = redirect_for(config.redirect_rules, path, query) if config.redirects else None
    if redirect is None:
        return resolve(files, config.html_handling, path, query)
    status, location = redirect
    if status != REWRITE:
        return Redirect(location, status)
    # A rewrite keeps the request's URL: the asset is served, never a redirect to its
    # canonical path (/app/index.html is /app/'s page, served as such).
    target = request_path(location)
    for _ in range(2):
        decision = None if target is None else resolve(files, config.html_handling, target)
        if not isinstance(decision, Redirect):
            return decision
        target = request_path(decision.location)
    return None


def not_found(files: Files, handling: NotFoundHandling, path: str) -> Found | None:
    """What a path that names no asset is answered with, or None (a plain 404, or the code)."""
    if handling == "single-page-application":
        return _found(files, INDEX)
    if handling == "404-page":
        folder = path if path.endswith("/") else posixpath.dirname(path)
        while True:
            candidate = posixpath.join(folder, "404.html")
            if candidate in files:
                digest, size = files[candidate]
                return Found(candidate, digest, size, 404)
            if folder in ("/", ""):
                return None
            folder = posixpath.dirname(folder.rstrip("/"))
    return None


def _found(files: Files, path: str) -> Found | None:
    entry = files.get(path)
    return None if entry is None else Found(path, entry[0], entry[1])


def worker_first(config: AssetConfig, path: str) -> bool:
    """Whether the request's code runs before any asset is looked for."""
    first = config.run_worker_first
    if isinstance(first, bool):
        return first
    return _worker_first_patterns(first)(path)


@functools.lru_cache(maxsize=256)
def _worker_first_patterns(patterns: tuple[str, ...]) -> _PathTest:
    include = [_glob(p) for p in patterns if not p.startswith("!")]
    exclude = [_glob(p[1:]) for p in patterns if p.startswith("!")]
    return _PathTest(tuple(include), tuple(exclude))


@dataclass(frozen=True, slots=True)
class _PathTest:
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]

    def __call__(self, path: str) -> bool:
        if any(p.fullmatch(path) for p in self.exclude):
            return False
        return any(p.fullmatch(path) for p in self.include)


def _glob(pattern: str) -> re.Pattern[str]:
    # `*` spans folders, as in Workers' run_worker_first patterns (`/api/*` is every path under
    # /api/); every other character is literal.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def etag_of(digest: str) -> str:
    return f'"{digest[:32]}"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison of ``If-None-Match`` with the asset's tag."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False
