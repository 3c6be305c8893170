"""A deploy's settings (env, secrets, hosts, schedule, routes, services): what a version keeps.

A setting left out of a deploy is the active version's (docs/versions.md): the dashboard and
``vortex deploy --name`` send code only, and an operator's schedule or env must not vanish with
it. A setting sent replaces that one whole; ``null`` or an empty value clears it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from vortex.errors import PayloadTooLarge
from vortex.services.targets import ServiceTarget
from vortex.storage.base import FunctionRecord


class Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = Keep.KEEP
"""A setting the deploy did not send: the active version's value, if there is one."""

MAX_ENV_BYTES = 64 << 10
SETTING_NAMES = (
    "env",
    "secrets",
    "allow_hosts",
    "schedule",
    "routes",
    "r2_buckets",
    "services",
    "d1_databases",
)


@dataclass(frozen=True, slots=True)
class Resolved:
    env: dict[str, str]
    secrets: dict[str, str]
    allow_hosts: tuple[str, ...]
    schedules: tuple[str, ...]
    routes: tuple[str, ...]
    r2_buckets: dict[str, str]
    services: dict[str, ServiceTarget]
    d1_databases: dict[str, str]


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """Each setting as a deploy gives it, or ``KEEP``."""

    env: dict[str, str] | Keep = KEEP
    secrets: dict[str, str] | Keep = KEEP
    allow_hosts: tuple[str, ...] | Keep = KEEP
    schedule: tuple[str, ...] | Keep = KEEP
    """Every schedule (``"schedule"`` and ``"schedules"`` of a deploy are one setting)."""
    routes: tuple[str, ...] | Keep = KEEP
    r2_buckets: dict[str, str] | Keep = KEEP
    """``{binding: bucket_name}`` (``vortex.r2.declaration``)."""
    services: dict[str, ServiceTarget] | Keep = KEEP
    """Service bindings: the ``env`` name → the function it calls (``vortex.services``)."""
    d1_databases: dict[str, str] | Keep = KEEP
    """``{binding: database_name}`` (``vortex.d1.declaration``)."""

    @property
    def left_out(self) -> tuple[str, ...]:
        return tuple(name for name in SETTING_NAMES if getattr(self, name) is KEEP)

    def applied_to(self, active: FunctionRecord | None) -> Resolved:
        """The new version's settings, over the active version's (``None``: a new function)."""
        env = self.env if not isinstance(self.env, Keep) else dict(active.env) if active else {}
        secrets = (
            self.secrets
            if not isinstance(self.secrets, Keep)
            else dict(active.secrets)
            if active
            else {}
        )
        # A name sent in one of env and secrets leaves the other, kept one: moving a variable
        # from the secrets to env (or back) takes one deploy.
        if isinstance(self.secrets, Keep):
            secrets = {k: v for k, v in secrets.items() if k not in env}
        if isinstance(self.env, Keep):
            env = {k: v for k, v in env.items() if k not in secrets}
        if sum(len(k) + len(v.encode()) for k, v in (env | secrets).items()) > MAX_ENV_BYTES:
            raise PayloadTooLarge(f'"env" and "secrets" together are over {MAX_ENV_BYTES} bytes')
        hosts = self.allow_hosts
        if isinstance(hosts, Keep):
            hosts = active.allow_hosts if active else ()
        schedules = self.schedule
        if isinstance(schedules, Keep):
            schedules = active.schedules if active else ()
        routes = self.routes
        if isinstance(routes, Keep):
            routes = active.routes if active else ()
        buckets = self.r2_buckets
        if isinstance(buckets, Keep):
            buckets = dict(active.r2_buckets) if active else {}
        services = self.services
        if isinstance(services, Keep):
            services = dict(active.services) if active else {}
        databases = self.d1_databases
        if isinstance(databases, Keep):
            databases = dict(active.d1_databases) if active else {}
        return Resolved(env, secrets, hosts, schedules, routes, buckets, services, databases)

    def kept(self, record: FunctionRecord) -> list[str]:
        """The settings of ``record`` that came from the version before it, non-empty ones."""
        return [name for name in self.left_out if getattr(record, name)]
