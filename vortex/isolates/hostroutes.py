"""The host's table of routes: which function a hostname reaches, asked of the supervisor.

A host's listener gets a request for ``hello.localhost``; the first one (and the first after
``ROUTE_FRESH_FOR`` or a change on this node) waits for one ``resolve`` frame to the supervisor
and its ``route`` answer. Concurrent requests for one hostname share that wait.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from vortex.isolates.route import Route

MAX_ROUTES = 4096


class RouteError(Exception):
    """The supervisor found no function for the hostname (or could not look: storage down)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class RouteTable:
    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        same: Callable[[str], str],
        generation: Callable[[], int],
    ) -> None:
        self._send = send
        self._same = same
        self._generation = generation
        """The supervisor's count of route changes (turnclock.py): a route of an older count
        is asked again."""
        self._routes: dict[str, Route] = {}
        self._asked: dict[str, asyncio.Future[Route]] = {}
        self._by_id: dict[int, tuple[str, int, Route | None]] = {}
        """Questions in flight: the hostname, the count of changes when it was asked, and the
        route it had (whose code is used again if the answer names the same function)."""
        self._ids = itertools.count(1)

    def lookup(self, hostname: str) -> Route | None:
        """The route of ``hostname`` if it is fresh; else the caller must ``resolve`` it."""
        route = self._routes.get(hostname)
        if route is None or not route.fresh or route.generation != self._generation():
            return None
        return route

    def resolve(self, hostname: str) -> asyncio.Future[Route]:
        asked = self._asked.get(hostname)
        if asked is not None:
            return asked
        future: asyncio.Future[Route] = asyncio.get_running_loop().create_future()
        rid = next(self._ids)
        self._asked[hostname] = future
        stale = self._routes.get(hostname)
        self._by_id[rid] = (hostname, self._generation(), stale)
        self._send(
            {
                "t": "resolve",
                "rid": rid,
                "hostname": hostname,
                # The function whose code this host has for the hostname: not sent again.
                "known": stale.function_id if stale is not None else None,
            }
        )
        return future

    def prime(self, hostnames: list[str], frame: dict[str, Any]) -> Route | None:
        """A route the supervisor pushed after a deploy (``frame``, a ``warm`` frame shaped as
        a ``route`` answer), before anyone asked: kept for each of the function's hostnames as
        if just resolved."""
        try:
            route = self._route(frame, None)
        except RouteError:
            return None
        route.generation = self._generation()
        for hostname in hostnames:
            if len(self._routes) >= MAX_ROUTES:
                self._routes.clear()
            self._routes[hostname] = route
        return route

    def answered(self, frame: dict[str, Any]) -> None:
        asked = self._by_id.pop(int(frame["rid"]), None)
        if asked is None:
            return
        hostname, generation, stale = asked
        future = self._asked.pop(hostname)
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
        if len(self._routes) >= MAX_ROUTES:
            self._routes.clear()
        self._routes[hostname] = route
        future.set_result(route)

    def _route(self, frame: dict[str, Any], stale: Route | None) -> Route:
        error = frame.get("error")
        if error is not None:
            raise RouteError(int(frame.get("status") or 404), str(error["code"]), error["message"])
        try:
            route_frame: dict[str, Any] = frame["route"]
            code = route_frame.get("code")
            if code is None:
                if stale is None:
                    raise KeyError("code")  # left out only for a function the host has
                code = stale.code
            return Route.from_frame(route_frame, str(code), self._same)
        except (KeyError, TypeError, ValueError) as exc:
            raise RouteError(500, "internal_error", f"the route could not be read: {exc}") from exc
