"""The data plane as the control plane sees it: hostnames to functions, for hosts that serve.

Functions answer on their own listener and origin, ``{name}.{domain}`` or
``{function-id}.{domain}`` (``name.namespace.{domain}`` for another namespace than
``default``), as each Worker has its own subdomain: no function's page shares an origin with the
dashboard or with another function. The supervisor's listener (isolates/listener.py) asks
``pick_host`` where a new connection goes; hosts ask ``resolve`` for a hostname's route and tell
of the runs they start (``adopt``, ``ended_unannounced``), which the run service records.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from vortex.config import Settings
from vortex.errors import FunctionNotFound, VortexError
from vortex.functions import FunctionRegistry
from vortex.isolates.host_process import HostProcess
from vortex.isolates.invocation import Invocation
from vortex.isolates.listener import Refusal
from vortex.isolates.pool import IsolatePool
from vortex.runs import RunService
from vortex.storage.base import FunctionRecord
from vortex.storage.names import TRIGGER_SEPARATOR


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

    # -- names ------------------------------------------------------------------------------
    def url_of(self, record: FunctionRecord, *, by_id: bool = False) -> str:
        """The function's own origin on the listener: by name (its active version) when it has
        one, else (or ``by_id``: this very version) by id."""
        port = "" if self.port == 80 else f":{self.port}"
        return f"http://{self.hostname_of(record, by_id=by_id)}{port}"

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
            "url": f"http://{{name}}.{self.domain}:{self.port}",
        }

    async def find(self, hostname: str) -> FunctionRecord:
        suffix = "." + self.domain
        label = hostname[: -len(suffix)] if hostname.endswith(suffix) else ""
        if not label:
            raise FunctionNotFound(
                f"no function answers at {hostname[:100]!r}: functions are reached at "
                f"{{name}}.{self.domain} or {{function-id}}.{self.domain}"
            )
        return await self.registry.resolve_public(label)

    # -- the supervisor's listener ----------------------------------------------------------
    async def pick_host(self, hostname: str) -> HostProcess:
        try:
            record = await self.find(hostname)
            return await self.pool.host_for_connection(record.namespace)
        except VortexError as exc:
            raise Refusal(exc.status, exc.code, exc.message) from None

    def warm(self, record: FunctionRecord) -> None:
        """A module just deployed: its route goes to the hosts now, and each makes an instance,
        so that the first request finds one (a hostname's first route would otherwise be asked
        for, and the instance made, on the request's path)."""
        if not self.port or record.kind != "module" or self.pool.dedicated_hosts:
            return
        task = asyncio.create_task(self._warm(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm(self, record: FunctionRecord) -> None:
        try:
            route = await self.runs.route_frame(record, None, elsewhere=False)
        except VortexError:
            return  # the first request will ask, and be told
        hostnames = [self.hostname_of(record, by_id=True)]
        if record.name is not None:
            hostnames.append(self.hostname_of(record))
        self.pool.warm({"t": "warm", "hostnames": hostnames, "route": route})

    def routes_changed(self, namespace: str = "", name: str | None = None) -> None:
        """A deploy, rollback or delete here or on another node: hosts ask again for every
        hostname."""
        self.pool.routes_changed()

    # -- hosts (host_process.Listening) ---------------------------------------------------------
    def resolve(self, host: HostProcess, message: dict[str, Any]) -> None:
        task = asyncio.create_task(self._resolve(host, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, host: HostProcess, message: dict[str, Any]) -> None:
        answer: dict[str, Any] = {"t": "route", "rid": message["rid"]}
        try:
            record = await self.find(str(message["hostname"]))
            answer["route"] = await self.runs.route_frame(
                record,
                message.get("known"),
                elsewhere=not self.pool.claims(host, record.namespace),
            )
        except VortexError as exc:
            answer.update(status=exc.status, error={"code": exc.code, "message": exc.message})
        if host.alive:
            host.send(answer)

    def adopt(self, host: HostProcess, message: dict[str, Any]) -> Invocation | None:
        self.pool.count_listener_runs(host, 1)
        return self.runs.adopt(str(message["function_id"]), str(message["run_id"]), time.time())

    def ended_unannounced(self, host: HostProcess, records: list[dict[str, Any]]) -> None:
        self.pool.count_listener_runs(host, len(records))
        self.runs.record_unannounced(records)

    def listen_frame(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "t": "listen",
            "max_body_bytes": settings.max_body_bytes,
            "header_timeout": settings.functions_header_timeout_ms / 1000,
            "idle_timeout": settings.functions_idle_timeout_ms / 1000,
            "trust_forwarded_proto": settings.functions_trust_proxy,
            "debug_host_header": settings.debug_host_header,
        }
