"""What a host needs to serve a function's HTTP traffic by itself: a route.

The supervisor resolves the name in a request's Host header (``hello.localhost``) to a function
and sends the host a ``Routed`` frame; the host keeps it for ``ROUTE_FRESH_FOR`` seconds (as the
control plane trusts a name's pointer, so a rollback on another node takes effect everywhere
within that time) or until the supervisor says routes changed (a deploy, rollback or delete on
this node: a count in the turn clock's shared memory). Code is keyed by function id, which
names immutable code: a route that still names the function the host has is sent without it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from vortex.isolates.hostassets import HostAssets
from vortex.isolates.limits import Limits
from vortex.isolates.protocol import RouteSpec

ROUTE_FRESH_FOR = 1.5
"""Seconds a host serves a route before it asks again (``functions.POINTER_FRESH_FOR``)."""


@dataclass(slots=True)
class Route:
    function_id: str
    module: bool
    code: str
    filename: str
    limits: Limits
    limits_json: str
    env_json: str
    bindings_json: str
    instance: str
    """The warm instance's key (the function version's id), or "" for a fresh one per run."""
    elsewhere: bool = False
    """With dedicated hosts: the function's namespace has another host (answered 421)."""
    service_worker: bool = False
    """A script in service-worker syntax: it gets the request (``vortex.serviceworker``)."""
    assets: HostAssets | None = None
    """The version's static assets, served before the code runs (``hostassets``)."""
    fetched_at: float = field(default_factory=time.monotonic)
    generation: int = 0

    @property
    def fresh(self) -> bool:
        return time.monotonic() - self.fetched_at < ROUTE_FRESH_FOR

    @classmethod
    def from_frame(
        cls,
        spec: RouteSpec,
        code: str,
        same: Callable[[str], str],
        assets: HostAssets | None = None,
    ) -> Route:
        """``same`` keeps one Python string per text handed to JavaScript (bridge.Host.same)."""
        return cls(
            function_id=spec.function_id,
            module=spec.module,
            code=same(code),
            filename=same(spec.filename),
            limits=spec.limits,
            limits_json=same(limits_json(spec.limits)),
            env_json=same(orjson.dumps(spec.env).decode()),
            bindings_json=same(orjson.dumps(spec.bindings).decode()),
            instance=same(spec.instance),
            elsewhere=spec.elsewhere,
            service_worker=spec.service_worker,
            assets=assets,
        )


@functools.lru_cache(maxsize=64)
def limits_json(limits: Limits) -> str:
    """The limits as the harness reads them (JSON text), once per distinct limits."""
    return orjson.dumps(limits.to_json()).decode()
