"""Routes for custom domains: a named function claims ``host/path`` patterns, as a Worker's
routes do (docs/http-functions.md), and a reverse proxy sends it those hostnames' requests.

``api.example.com/v1/*``: the host is exact or has a leading wildcard (``*.example.com``, any
subdomain, not the apex); the path is a prefix ending in ``*`` or an exact path
(``vortex.isolates.pathmatch``). For a request, the most specific host that has a matching
path wins (exact before wildcard, a longer wildcard base before a shorter), then the most
specific path (exact, then the longest prefix).

A pattern is claimed by one function. A host belongs to one namespace: a pattern whose host is
another namespace's, or overlaps it through a wildcard, is refused as taken too, so that no
tenant serves part of another's hostname, and the listener picks a connection's namespace by
its hostname alone.

The claims live in the function index (``index/route/...``, in SQLite, S3 or Redis as the
rest of it; written by deploy, rollback and delete, made again by a rebuild); ``RouteMap``
holds them all in memory, read again ``POINTER_FRESH_FOR`` seconds after it read them, or at
once after a change on this node or another (``routechanges.py``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vortex.errors import FunctionNotFound, InvalidRoute, RouteTaken
from vortex.isolates.pathmatch import first_match, rank
from vortex.storage.index import FunctionIndex

MAX_ROUTES = 32
"""Routes one function claims, at most."""
MAX_PATTERN = 256
"""Characters of one pattern, at most."""
FRESH_FOR = 1.5
"""Seconds the claims read from the index are trusted (``functions.POINTER_FRESH_FOR``)."""
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PATH = re.compile(r"^/[\x21-\x7e]*$")
_EXAMPLE = "api.example.com/v1/* or *.example.com/*"


@dataclass(frozen=True, slots=True)
class RoutePattern:
    host: str
    """``api.example.com``, or ``*.example.com`` for its subdomains."""
    path: str

    def __str__(self) -> str:
        return self.host + self.path


def parse_route(raw: object, functions_domain: str) -> RoutePattern:
    """A pattern as sent, checked and normalised (host in lower case, no scheme)."""
    if not isinstance(raw, str):
        raise InvalidRoute(f'a route is a string such as "{_EXAMPLE}"')
    text = raw.strip()
    shown = text[:80]
    if len(text) > MAX_PATTERN:
        raise InvalidRoute(f"route {shown!r}...: over {MAX_PATTERN} characters")
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]  # routes match any scheme, as Workers' do
    host, slash, path = text.partition("/")
    path = slash + path
    host = host.lower().rstrip(".")
    if not path:
        raise InvalidRoute(
            f"route {shown!r} has no path: add one, e.g. {host or 'api.example.com'}/*"
        )
    if not _PATH.fullmatch(path) or "?" in path or "#" in path:
        raise InvalidRoute(
            f"route {shown!r}: the path holds only visible characters, no query or fragment"
        )
    if "*" in path[:-1]:
        raise InvalidRoute(f"route {shown!r}: a * only ends the path (/v1/*)")
    if any(segment in (".", "..") for segment in path.rstrip("*").split("/")):
        raise InvalidRoute(f"route {shown!r}: the path has a . or .. segment")
    wildcard = host.startswith("*.")
    base = host[2:] if wildcard else host
    labels = base.split(".")
    if ":" in host:
        raise InvalidRoute(f"route {shown!r}: no port (the Host's port is not part of a route)")
    if len(base) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidRoute(
            f"route {shown!r}: the host must be a domain name, exact or with a leading *. "
            f"({_EXAMPLE})"
        )
    domain = functions_domain.lower()
    if base == domain or base.endswith("." + domain):
        raise InvalidRoute(
            f"route {shown!r}: {domain} is the functions domain, where functions answer by "
            "name and id already"
        )
    if wildcard and len(labels) < 2:
        raise InvalidRoute(
            f"route {shown!r}: a wildcard covers a domain's subdomains (*.example.com)"
        )
    return RoutePattern(host, path)


def parse_routes(raw: object, functions_domain: str) -> tuple[str, ...]:
    """The ``routes`` of a deploy: a list of patterns, normalised, without repeats."""
    if not isinstance(raw, list):
        raise InvalidRoute(f'"routes" must be a list of patterns such as "{_EXAMPLE}"')
    if len(raw) > MAX_ROUTES:
        raise InvalidRoute(f'"routes" holds at most {MAX_ROUTES} patterns')
    patterns = [str(parse_route(item, functions_domain)) for item in raw]
    return tuple(dict.fromkeys(patterns))


def split(text: str) -> RoutePattern:
    """A stored (already checked) pattern."""
    host, slash, path = text.partition("/")
    return RoutePattern(host, slash + path)


def overlap(a: str, b: str) -> bool:
    """Two hosts (exact or wildcard) that some hostname matches both."""
    if a == b:
        return True
    if a.startswith("*.") and b.endswith(a[1:]):
        return True
    return b.startswith("*.") and a.endswith(b[1:])


def candidates(hostname: str) -> list[str]:
    """The hosts of patterns that may match ``hostname``, most specific first."""
    labels = hostname.split(".")
    return [hostname] + ["*." + ".".join(labels[i:]) for i in range(1, len(labels) - 1)]


@dataclass(frozen=True, slots=True)
class Claim:
    pattern: RoutePattern
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class Matched:
    claim: Claim
    paths: tuple[str, ...]
    """Every path pattern of the hostname, most specific first: the host matches the next
    requests of the hostname against them itself."""


class RouteMap:
    def __init__(self, index: FunctionIndex) -> None:
        self._index = index
        self._by_host: dict[str, list[Claim]] = {}
        self._loaded_at = float("-inf")
        self._loading: asyncio.Lock = asyncio.Lock()
        self.lock = asyncio.Lock()
        """Held from a claim's check to its write: two deploys on this node never both take
        one route. Across nodes the last write wins, as for names (docs/versions.md)."""

    def stale(self) -> None:
        """Claims changed (here, or on another node): read them again before the next use."""
        self._loaded_at = float("-inf")

    async def _claims(self) -> dict[str, list[Claim]]:
        if time.monotonic() - self._loaded_at < FRESH_FOR:
            return self._by_host
        async with self._loading:
            if time.monotonic() - self._loaded_at < FRESH_FOR:
                return self._by_host
            started = time.monotonic()
            # An index lost from Redis, or after a failed write here, is rebuilt first: else
            # every route would go unanswered, and any claim be taken as free, until a listing.
            await self._index.ensure()
            by_host: dict[str, list[Claim]] = {}
            for pattern, namespace, name in await self._index.routes():
                claim = Claim(split(pattern), namespace, name)
                by_host.setdefault(claim.pattern.host, []).append(claim)
            for claims in by_host.values():
                # The same order everywhere: a pattern claimed twice (a race between nodes)
                # goes to the same function on each.
                claims.sort(
                    key=lambda c: (rank(c.pattern.path), c.pattern.path, c.namespace, c.name)
                )
            self._by_host, self._loaded_at = by_host, started
            return by_host

    async def match(self, hostname: str, target: str) -> Matched:
        """The claim whose function answers ``target`` (a path, query included) at
        ``hostname``; ``FunctionNotFound`` when none does."""
        by_host = await self._claims()
        best: Claim | None = None
        paths: dict[str, None] = {}
        for host in candidates(hostname):
            for claim in by_host.get(host, ()):
                paths.setdefault(claim.pattern.path)
        ordered = tuple(paths)
        found = first_match(ordered, target)
        if found is not None:
            best = next(
                claim
                for host in candidates(hostname)
                for claim in by_host.get(host, ())
                if claim.pattern.path == found
            )
        if best is None:
            raise FunctionNotFound(f"no function answers at {(hostname + target)[:100]!r}")
        return Matched(best, ordered)

    async def namespace_of(self, hostname: str) -> str:
        """The namespace that serves ``hostname`` (one only: see the module's docstring)."""
        by_host = await self._claims()
        for host in candidates(hostname):
            for claim in by_host.get(host, ()):
                return claim.namespace
        raise FunctionNotFound(f"no function answers at {hostname[:100]!r}")

    async def claimed_by(self, namespace: str, name: str) -> list[str]:
        by_host = await self._claims()
        return [
            str(c.pattern)
            for claims in by_host.values()
            for c in claims
            if (c.namespace, c.name) == (namespace, name)
        ]

    async def check(self, namespace: str, name: str, patterns: Iterable[str]) -> None:
        """Raise ``RouteTaken`` unless every pattern is free for the function (or its own)."""
        self.stale()  # a claim made on another node a moment ago counts
        by_host = await self._claims()
        others = [
            c
            for claims in by_host.values()
            for c in claims
            if (c.namespace, c.name) != (namespace, name)
        ]
        for text in patterns:
            pattern = split(text)
            for claim in others:
                if claim.pattern == pattern:
                    raise RouteTaken(f"the route {text} is claimed by another function")
                if claim.namespace != namespace and overlap(claim.pattern.host, pattern.host):
                    raise RouteTaken(
                        f"the host {pattern.host} of route {text} is served by another "
                        "namespace's routes"
                    )

    async def claim(self, namespace: str, name: str, patterns: Sequence[str]) -> None:
        """The function's claims become ``patterns`` (none: it claims nothing)."""
        self.stale()
        old = await self.claimed_by(namespace, name)
        if sorted(old) != sorted(patterns):
            await self._index.set_routes(namespace, name, old, patterns)
        self.stale()
