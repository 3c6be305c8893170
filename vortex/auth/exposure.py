"""Whether ``vortex serve`` may listen where it was asked to, and what it says about it at start.

With no API key, anyone who reaches the port can deploy and run code on the machine: Vortex then
listens on loopback only, unless the operator says otherwise (``--allow-unauthenticated``,
``VORTEX_ALLOW_UNAUTHENTICATED=1``). The middleware enforces the same rule on every request
(``vortex.http.auth``), so revoking the last key of a public server closes it rather than
opening it.
"""

from __future__ import annotations

import ipaddress

from vortex.auth.errors import AuthUnavailable
from vortex.auth.service import ApiKeys
from vortex.config import Settings


class ExposureRefused(Exception):
    """``vortex serve`` must not start as asked; the message says why and what to do."""


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` reaches this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


async def startup_notice(settings: Settings, keys: ApiKeys) -> str:
    """The line ``vortex serve`` prints about access; raises ``ExposureRefused``."""
    where = f"{settings.host}:{settings.port}"
    try:
        found = await keys.list()
    except AuthUnavailable as exc:
        # Safe to start: the middleware refuses every request until it can read the keys.
        return (
            f"Access: cannot read the API keys yet ({exc.message}); requests are refused until then"
        )
    if found:
        namespaces = sorted({k.namespace for k in found if k.namespace})
        return (
            f"Access: {len(found)} API key(s), namespaces {', '.join(namespaces) or '(none)'}; "
            "every API request needs Authorization: Bearer <key>"
        )
    if is_loopback(settings.host):
        return (
            "Access: no API keys, single-tenant, unauthenticated; listening on loopback only "
            "(create keys with `vortex keys create --namespace NAME`)"
        )
    if settings.allow_unauthenticated:
        return (
            f"WARNING: no API keys and unauthenticated access allowed: anyone who reaches {where} "
            "can deploy and run code on this machine"
        )
    raise ExposureRefused(
        f"refusing to listen on {where} without API keys: anyone who reaches it could deploy and "
        "run code on this machine. Create a key (`vortex keys create --namespace NAME`), listen "
        "on 127.0.0.1, or pass --allow-unauthenticated (VORTEX_ALLOW_UNAUTHENTICATED=1)"
    )
