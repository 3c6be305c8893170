"""What a service binding calls: a function of the caller's namespace, by name, which of its
entrypoints, and with what props, as wrangler writes one: ``{"binding": "ADMIN", "service":
"api", "entrypoint": "AdminEntrypoint", "props": {"tenant": "acme"}}``. No entrypoint is the
default export; a named one is the module's export of that name (``export class AdminEntrypoint
extends WorkerEntrypoint``), as workerd resolves it. ``props`` is the target's ``ctx.props``.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class ServiceTarget(NamedTuple):
    service: str
    entrypoint: str | None = None
    """The name of the module's export to call; None for its default export."""
    props: dict[str, Any] | None = None
    """JSON values the target's runs get as ``ctx.props`` (a copy each); None for none."""


def services_json(services: dict[str, ServiceTarget]) -> list[dict[str, Any]]:
    """As deploys and wrangler give them (no ``entrypoint`` for the default export, no
    ``props`` for none)."""
    listed = []
    for binding, target in services.items():
        entry: dict[str, Any] = {"binding": binding, "service": target.service}
        if target.entrypoint is not None:
            entry["entrypoint"] = target.entrypoint
        if target.props is not None:
            entry["props"] = target.props
        listed.append(entry)
    return listed


def services_of(value: object) -> dict[str, ServiceTarget]:
    """A stored record's (written by this code: trusted, but older records have none, and no
    entrypoints)."""
    if not isinstance(value, list):
        return {}
    services = {}
    for entry in value:
        if isinstance(entry, dict):
            entrypoint: Any = entry.get("entrypoint")
            props = entry.get("props")
            services[str(entry["binding"])] = ServiceTarget(
                str(entry["service"]),
                None if entrypoint is None else str(entrypoint),
                props if isinstance(props, dict) else None,
            )
    return services
