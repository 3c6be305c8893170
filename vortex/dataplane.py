"""The data plane as the control plane sees it: hostnames to functions, for hosts that serve.

Functions answer on their own listener and origin, ``{name}.{domain}`` or
``{function-id}.{domain}`` (``name.namespace.{domain}`` for another namespace than
``default``), as each Worker has its own subdomain: no function's page shares an origin with the
dashboard or with another function. The supervisor's listener (isolates/listener.py) asks
``pick_host`` where a new connection goes; hosts ask ``resolve`` for a hostname's route and tell
of the runs they start (``adopt``, ``ended_unannounced``), which the run service records.

Any other hostname is a custom domain's, behind a reverse proxy: it reaches the named function
whose route (``api.example.com/v1/*``, ``vortex.domainroutes``) matches the request's path best.
Its host then learns every path pattern of the hostname, and matches later requests itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from typing import Any

from vortex import oplog
from vortex.auth.exposure import is_loopback
from vortex.cache import BoundedCache
from vortex.config import Settings
from vortex.errors import FunctionNotFound, NotFound, VortexError
from vortex.functions import FunctionRegistry, public_name
from vortex.isolates.host_process import HostProcess
from vortex.isolates.invocation import Invocation
from vortex.isolates.listener import Refusal
from vortex.isolates.pathmatch import path_of
from vortex.isolates.pool import IsolatePool
from vortex.isolates.protocol import (
    AccessRecord,
    Adopt,
    AssetData,
    AssetRead,
    ErrorBody,
    Listen,
    Resolve,
    Routed,
    RunRecord,
    Warm,
)
from vortex.runs import RunService
from vortex.storage.base import FunctionRecord
from vortex.storage.names import TRIGGER_SEPARATOR

KNOWN_HOSTNAMES = 65536


class DataPlane:
    def __init__(
        self, settings: Settings, runs: RunService, pool: IsolatePool, registry: FunctionRegistry
    ) -> None:
        self.settings = settings
        self.domain = settings.functions_domain
        self.port = settings.functions_port
        self.runs = runs
        self.pool = pool
        self.registry = registry
        self._tasks: set[asyncio.Task[None]] = set()
        self._namespaces: BoundedCache[str, str] = BoundedCache(KNOWN_HOSTNAMES)
        """Hostnames that named a function, and its namespace: the listener's fast path."""

    # -- names ------------------------------------------------------------------------------
    def url_of(self, record: FunctionRecord, *, by_id: bool = False) -> str:
        """The function's own origin on the listener: by name (its active version) when it has
        one, else (or ``by_id``: this very version) by id."""
        return self.settings.function_origin(self.hostname_of(record, by_id=by_id))

    def hostname_of(self, record: FunctionRecord, *, by_id: bool = False) -> str:
        if record.name is None or by_id:
            label = record.id
        elif record.namespace == "default":
            label = record.name
        else:
            label = f"{record.name}{TRIGGER_SEPARATOR}{record.namespace}"
        return f"{label}.{self.domain}"

    def public_url(self, record: FunctionRecord) -> str | None:
        """What the API shows as a function's ``url``: None while no listener serves it."""
        return self.url_of(record) if self.port else None

    def describe(self) -> dict[str, Any]:
        """The listener as ``/health`` shows it."""
        if not self.port:
            return {"listening": False}
        return {
            "listening": True,
            "address": self.settings.functions_listen_host,
            "port": self.port,
            "domain": self.domain,
            "url": self.settings.function_origin(f"{{name}}.{self.domain}"),
        }

    def _label(self, hostname: str) -> str | None:
        """The function's name or id in a hostname of the functions domain; None for another
        hostname (a custom domain's, reached by routes)."""
        suffix = "." + self.domain
        if hostname.endswith(suffix):
            return hostname[: -len(suffix)]
        return "" if hostname == self.domain else None

    def _not_found(self, hostname: str) -> NotFound:
        where = (
            f"functions are reached at {{name}}.{self.domain} or {{function-id}}.{self.domain}, "
            "or by a route"
        )
        if hostname == self.domain or _is_address(hostname):
            # No function can be meant: most likely the CLI or a browser was pointed at this
            # port instead of the API's. `not_found` (no route), so that the CLI says so and
            # exits 3, not "no function named ..." and 4.
            return NotFound(
                f"this is the functions listener, not the API: {where}; the API (vortex "
                f"--url, /deploy, the dashboard) is on port {self.settings.port}"
            )
        return FunctionNotFound(f"no function answers at {hostname[:100]!r}: {where}")

    async def find(self, hostname: str) -> FunctionRecord:
        label = self._label(hostname)
        if not label:
            raise self._not_found(hostname)
        return await self.registry.resolve_public(label)

    async def _namespace_of(self, hostname: str) -> str:
        if self._label(hostname) is None:
            try:
                return await self.registry.routes.namespace_of(hostname)
            except FunctionNotFound:
                raise self._not_found(hostname) from None
        return (await self.find(hostname)).namespace

    # -- the supervisor's listener ----------------------------------------------------------
    async def pick_host(self, hostname: str) -> HostProcess:
        try:
            namespace = await self._namespace_of(hostname)
            self._namespaces.put(hostname, namespace)
            return await self.pool.host_for_connection(namespace)
        except VortexError as exc:
            raise Refusal(exc.status, exc.code, exc.message) from None

    def pick_host_now(self, hostname: str) -> HostProcess | None:
        """The host for a hostname that named a function before, without a lookup. Should the
        function be gone since, the host is told so when it asks for the route, and answers
        404 itself: a hostname's namespace never changes (an id's, or ``name.namespace``), but
        for a custom domain's, whose copies go with any change of routes."""
        namespace = self._namespaces.get(hostname)
        return None if namespace is None else self.pool.host_for_connection_now(namespace)

    def warm(self, record: FunctionRecord) -> None:
        """A module or service worker just deployed: its route goes to the hosts now, and each
        makes an instance, so that the first request finds one (a hostname's first route would
        otherwise be asked for, and the instance made, on the request's path)."""
        if not self.port or record.kind == "script" or self.pool.dedicated_hosts:
            return
        cached = self.registry.cached(record.id)
        if cached is None:
            return  # the first request will ask
        # Sent now, before the deploy is answered: the hosts make the instance while the
        # client reads the answer and connects (sent from a task, the frame often came after
        # the request, whose run then made the instance: 1.87 ms server-side p50, not 0.88).
        files = None
        if record.assets is not None:
            loaded = self.registry.assets.cached(record.namespace, record.assets)
            if loaded is None:
                return  # the first request will ask
            files = loaded.files
        try:
            route = self.runs.route_spec(*cached, None, elsewhere=False, asset_files=files)
        except VortexError:
            return  # the first request will ask, and be told
        hostnames = [self.hostname_of(record, by_id=True)]
        if record.name is not None:
            hostnames.append(self.hostname_of(record))
        self.pool.warm(Warm(hostnames, route))

    def routes_changed(self, namespace: str = "", name: str | None = None) -> None:
        """A deploy, rollback or delete here or on another node: hosts ask again for every
        hostname."""
        self._namespaces.clear()
        self.pool.routes_changed()

    # -- hosts (host_process.Listening) ---------------------------------------------------------
    def resolve(self, host: HostProcess, message: Resolve) -> None:
        task = asyncio.create_task(self._resolve(host, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, host: HostProcess, message: Resolve) -> None:
        try:
            hostname, matched, paths = message.hostname, "", None
            if self._label(hostname) is None:
                try:
                    found = await self.registry.routes.match(hostname, path_of(message.path))
                except FunctionNotFound:
                    if _is_address(hostname):  # pointed at this port instead of the API's?
                        raise self._not_found(hostname) from None
                    raise
                claim = found.claim
                matched, paths = claim.pattern.path, list(found.paths)
                record = await self.registry.resolve(claim.name, claim.namespace)
            else:
                record = await self.find(hostname)
            route = await self.runs.route_frame(
                record,
                message.known,
                elsewhere=not self.pool.claims(host, record.namespace),
            )
            answer = Routed(message.rid, route, matched=matched, paths=paths)
        except VortexError as exc:
            answer = Routed(message.rid, status=exc.status, error=ErrorBody(exc.code, exc.message))
        if host.alive:
            host.send(answer)

    def read_asset(self, host: HostProcess, message: AssetRead) -> None:
        task = asyncio.create_task(self._read_asset(host, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_asset(self, host: HostProcess, message: AssetRead) -> None:
        try:
            record = await self.registry.record(message.function_id)
            if record.assets is None:
                raise NotFound(f"function {record.id} has no static assets")
            reader = self.registry.assets
            content = await reader.content_of(record.namespace, record.assets, message.digest)
            answer = AssetData(message.rid, content)
        except VortexError as exc:
            answer = AssetData(message.rid, error=ErrorBody(exc.code, exc.message))
        if host.alive:
            host.send(answer)

    def adopt(self, host: HostProcess, message: Adopt) -> Invocation | None:
        self.pool.count_listener_runs(host, 1)
        return self.runs.adopt(message.function_id, message.run_id, time.time())

    def ended_unannounced(
        self,
        host: HostProcess,
        records: list[RunRecord],
        access: list[AccessRecord],
        dropped: int,
    ) -> None:
        if records:
            self.pool.count_listener_runs(host, len(records))
            self.runs.record_unannounced(records)
        if access:
            oplog.listener_requests([(record, self._function_named(record)) for record in access])
        if dropped:
            oplog.access_dropped(dropped, host.pid)

    def log_access(self, record: AccessRecord) -> None:
        """The access line of a listener request, named as the operator knows the function."""
        oplog.listener_request(record, self._function_named(record))

    def _function_named(self, record: AccessRecord) -> str | None:
        if record.function_id is None:
            return None
        cached = self.registry.cached(record.function_id)
        return record.function_id if cached is None else public_name(cached[0])

    def listen_frame(self) -> Listen:
        settings = self.settings
        return Listen(
            max_body_bytes=settings.max_body_bytes,
            header_timeout=settings.functions_header_timeout_ms / 1000,
            idle_timeout=settings.functions_idle_timeout_ms / 1000,
            ws_lifetime=settings.functions_ws_lifetime_ms / 1000,
            trust_proxy=settings.functions_trust_proxy,
            debug_host_header=settings.debug_host_header,
            error_details=listener_error_details(settings),
            access_records=oplog.access_logged(),
            asset_cache_bytes=settings.assets_cache_bytes // 4,
        )


def listener_error_details(settings: Settings) -> bool:
    """``VORTEX_FUNCTIONS_ERROR_DETAILS``, or else whether only this machine reaches the
    listener: thrown errors are the developer's to read there, not a public visitor's."""
    if settings.functions_error_details is not None:
        return settings.functions_error_details
    return is_loopback(settings.functions_listen_host)


def _is_address(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return False
    return True
