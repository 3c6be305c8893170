"""The ``"services"`` of a deploy body, checked: ``env`` name → target function's name, and
the entrypoint it calls.

Written as wrangler writes them, ``[{"binding": "AUTH", "service": "auth-worker"}]``, with an
optional ``"entrypoint": "AdminEntrypoint"`` (a named export; ``"default"`` is the default
export, as without one) and ``"props"`` (an object: the target's ``ctx.props``). The target
need not exist yet: Workers deploy in any order, and a call to a missing one (or to an export
it does not have) fails when made.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from vortex.deploysettings import KEEP, Keep
from vortex.errors import InvalidRequest
from vortex.services.targets import ServiceTarget

BINDING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
"""A function's name (``vortex.functions.NAME``)."""
ENTRYPOINT_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]{0,127}$")
"""A module's export: a JavaScript identifier."""
MAX_SERVICES = 32
MAX_PROPS_BYTES = 16 << 10
"""A binding's ``props`` in JSON: every run of the target gets a copy."""
RESERVED = frozenset({"KV"})
"""``env.KV`` is the function's own KV namespace (docs/kv.md)."""


def parse_services(body: dict[str, Any]) -> dict[str, ServiceTarget] | Keep:
    if "services" not in body:
        return KEEP
    raw = body["services"]
    if raw is None:
        return {}
    shape = '"services" must be a list of {"binding": "AUTH", "service": "function-name"}'
    if not isinstance(raw, list):
        raise InvalidRequest(shape)
    if len(raw) > MAX_SERVICES:
        raise InvalidRequest(f'"services" holds at most {MAX_SERVICES} bindings')
    services: dict[str, ServiceTarget] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidRequest(shape)
        binding, service = item.get("binding"), item.get("service")
        if not isinstance(binding, str) or not BINDING_NAME.match(binding):
            raise InvalidRequest(
                f'"services": {str(binding)[:60]!r} is not a binding name (letters, digits and _, '
                "not starting with a digit)"
            )
        if binding in RESERVED:
            raise InvalidRequest(f'"services": {binding} is reserved (the function\'s KV)')
        if not isinstance(service, str) or not SERVICE_NAME.match(service):
            raise InvalidRequest(
                f'"services": the service of {binding} must be a function\'s name '
                "(lowercase letters, digits and -)"
            )
        if binding in services:
            raise InvalidRequest(f'"services": {binding} is given twice')
        services[binding] = ServiceTarget(
            service,
            _entrypoint(binding, item.get("entrypoint")),
            _props(binding, item.get("props")),
        )
    return services


def _props(binding: str, props: object) -> dict[str, Any] | None:
    if props is None:
        return None
    if not isinstance(props, dict):
        raise InvalidRequest(
            f'"services": the props of {binding} must be an object (the target\'s ctx.props)'
        )
    if len(orjson.dumps(props)) > MAX_PROPS_BYTES:
        raise InvalidRequest(
            f'"services": the props of {binding} are over {MAX_PROPS_BYTES} bytes of JSON'
        )
    return props


def _entrypoint(binding: str, entrypoint: object) -> str | None:
    if entrypoint is None or entrypoint == "default":
        return None
    if not isinstance(entrypoint, str) or not ENTRYPOINT_NAME.match(entrypoint):
        raise InvalidRequest(
            f'"services": the entrypoint of {binding} must be the name of an export of the '
            'function\'s module (a JavaScript identifier), or "default"'
        )
    return entrypoint
