"""The host's table of routes: which function a hostname reaches, asked of the supervisor.

A host's listener gets a request for ``hello.localhost``; the first one (and the first after
``ROUTE_FRESH_FOR`` or a change on this node) waits for one ``Resolve`` frame to the supervisor
and its ``Routed`` answer. Concurrent requests for one hostname share that wait.

A custom domain's hostname (``api.example.com``, reached by routes) may reach one function per
path: its answer says which path pattern matched and every pattern the hostname has, so that the
host matches the next requests' paths itself (``pathmatch``) and keeps a route per pattern.
A hostname of the functions domain is one dict lookup, as before routes existed.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vortex.isolates.hostassets import host_assets
from vortex.isolates.pathmatch import first_match, path_of
from vortex.isolates.protocol import Frame, Resolve, Routed, RouteSpec
from vortex.isolates.route import ROUTE_FRESH_FOR, Route

MAX_ROUTES = 4096


class RouteError(Exception):
    """The supervisor found no function for the hostname (or could not look: storage down)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(slots=True)
class _Paths:
    """A custom domain's hostname: its path patterns, most specific first, and the route of
    each pattern asked for so far."""

    patterns: tuple[str, ...]
    generation: int
    fetched_at: float = field(default_factory=time.monotonic)
    routes: dict[str, Route] = field(default_factory=dict)


class RouteTable:
    def __init__(
        self,
        send: Callable[[Frame], None],
        same: Callable[[str], str],
        generation: Callable[[], int],
    ) -> None:
        self._send = send
        self._same = same
        self._generation = generation
        """The supervisor's count of route changes (turnclock.py): a route of an older count
        is asked again."""
        self._routes: dict[str, Route] = {}
        self._paths: dict[str, _Paths] = {}
        self._asked: dict[tuple[str, str], asyncio.Future[Route]] = {}
        """Questions in flight, by hostname and "" (one function for the hostname), or by
        hostname and path pattern or path (a custom domain's, or a hostname not seen yet)."""
        self._by_id: dict[int, tuple[tuple[str, str], int, Route | None]] = {}
        """Questions in flight: their key, the count of changes when it was asked, and the
        route it had (whose code is used again if the answer names the same function)."""
        self._ids = itertools.count(1)
        self._orphaned = False
        """The supervisor stopped listening (the host is retired and finishing): nobody answers
        a question any more."""

    def lookup(self, hostname: str, target: bytes = b"/") -> Route | None:
        """The route of ``hostname`` (and ``target``'s path, for a custom domain's) if it is
        fresh; else the caller must ``resolve`` it."""
        route = self._routes.get(hostname)
        if route is None:
            paths = self._paths.get(hostname)
            if paths is None or not self._current(paths.fetched_at, paths.generation):
                return None
            pattern = first_match(paths.patterns, path_of(target.decode("latin-1")))
            route = None if pattern is None else paths.routes.get(pattern)
            if route is None:
                return None
        if not route.fresh or route.generation != self._generation():
            return None
        return route

    def _current(self, fetched_at: float, generation: int) -> bool:
        return time.monotonic() - fetched_at < ROUTE_FRESH_FOR and generation == self._generation()

    def resolve(self, hostname: str, target: bytes = b"/") -> asyncio.Future[Route]:
        stale = self._routes.get(hostname)
        if stale is not None:
            key = (hostname, "")
        else:
            # A custom domain's hostname, or one not seen yet: requests for two paths may
            # reach two functions, so they share a question only when a pattern the hostname
            # has now matches both (patterns of before a change may have been split since).
            path = path_of(target.decode("latin-1"))
            paths = self._paths.get(hostname)
            pattern = None if paths is None else first_match(paths.patterns, path)
            key = (hostname, path)
            if paths is not None and pattern is not None:
                stale = paths.routes.get(pattern)
                if self._current(paths.fetched_at, paths.generation):
                    key = (hostname, pattern)
        asked = self._asked.get(key)
        if asked is not None:
            return asked
        future: asyncio.Future[Route] = asyncio.get_running_loop().create_future()
        if self._orphaned:
            _settle_orphaned(future, stale)
            return future
        rid = next(self._ids)
        self._asked[key] = future
        self._by_id[rid] = (key, self._generation(), stale)
        # The function whose code this host has for the hostname: not sent again.
        known = stale.function_id if stale is not None else None
        self._send(Resolve(rid, hostname, known, target.decode("latin-1")))
        return future

    def orphan(self) -> None:
        """The supervisor will answer no more questions: connections it handed over before
        it retired this host are still coming (a burst queues hundreds), and each must be
        answered, not left waiting for the host's exit. A hostname served before keeps the
        route it had (the host stops in seconds); any other gets a 503 to try again, which a
        new connection does on another host."""
        self._orphaned = True
        for rid, (key, _, stale) in list(self._by_id.items()):
            del self._by_id[rid]
            future = self._asked.pop(key, None)
            if future is not None and not future.done():
                _settle_orphaned(future, stale)

    def prime(self, hostnames: list[str], spec: RouteSpec) -> Route | None:
        """A route the supervisor pushed after a deploy (a ``Warm`` frame), before anyone
        asked: kept for each of the function's hostnames as if just resolved."""
        try:
            route = self._route(Routed(0, spec), None)
        except RouteError:
            return None
        route.generation = self._generation()
        for hostname in hostnames:
            if len(self._routes) >= MAX_ROUTES:
                self._routes.clear()
            self._routes[hostname] = route
        return route

    def answered(self, frame: Routed) -> None:
        asked = self._by_id.pop(frame.rid, None)
        if asked is None:
            return
        key, generation, stale = asked
        hostname = key[0]
        future = self._asked.pop(key)
        try:
            route = self._route(frame, stale)
        except RouteError as refused:
            self._routes.pop(hostname, None)
            future.set_exception(refused)
            # Nobody may be waiting (the connection closed): retrieving it keeps asyncio quiet.
            future.exception()
            return
        # The count when it was asked for: a change since then makes it be asked again.
        route.generation = generation
        if frame.paths is not None:
            self._routed(hostname, frame, route, generation)
        else:
            if len(self._routes) >= MAX_ROUTES:
                self._routes.clear()
            self._paths.pop(hostname, None)
            self._routes[hostname] = route
        future.set_result(route)

    def _routed(self, hostname: str, frame: Routed, route: Route, generation: int) -> None:
        """A custom domain's answer: the hostname's patterns, and the route of one of them."""
        patterns = tuple(frame.paths or ())
        paths = self._paths.get(hostname)
        if paths is None or paths.patterns != patterns:
            # Other patterns now: the routes kept for the old ones may be another's.
            if len(self._paths) >= MAX_ROUTES:
                self._paths.clear()
            paths = self._paths[hostname] = _Paths(patterns, generation)
        else:
            paths.fetched_at, paths.generation = time.monotonic(), generation
        paths.routes[frame.matched] = route
        self._routes.pop(hostname, None)

    def _route(self, frame: Routed, stale: Route | None) -> Route:
        if frame.error is not None:
            raise RouteError(frame.status or 404, frame.error.code, frame.error.message)
        spec = frame.route
        code = None if spec is None else spec.code
        if code is None and stale is not None:
            code = stale.code  # left out only for a function the host has
        if spec is None or code is None:
            raise RouteError(500, "internal_error", "the route could not be read: no code")
        assets = None
        if spec.assets is not None:
            assets = host_assets(spec.assets, None if stale is None else stale.assets)
            if assets is None:
                raise RouteError(500, "internal_error", "the route could not be read: no assets")
        return Route.from_frame(spec, code, self._same, assets)


def _settle_orphaned(future: asyncio.Future[Route], stale: Route | None) -> None:
    if stale is not None:
        future.set_result(stale)
        return
    future.set_exception(
        RouteError(503, "pool_unavailable", "This host is stopping: send the request again")
    )
    future.exception()  # nobody may be waiting (the connection closed)
