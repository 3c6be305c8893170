"""The client's address, as every request a function gets carries it: ``CF-Connecting-IP`` and
``X-Real-IP``, as on Workers.

The listener sets both from the connection's peer address (found once per connection), over
whatever the client sent: a function may trust them. Behind a proxy the operator trusts
(``VORTEX_FUNCTIONS_TRUST_PROXY``), the peer is the proxy, so the address is the last hop of the
proxy's ``X-Forwarded-For``: the one the proxy appended itself (the hops before it are what the
client claimed).
"""

from __future__ import annotations

import ipaddress

CLIENT_IP_HEADERS = frozenset({"cf-connecting-ip", "x-real-ip"})
"""Request headers the listener sets: a client's own are dropped."""

IpHeaders = tuple[tuple[str, str], tuple[str, str]]


def peer_ip(address: str) -> str:
    """An IPv4 client of a dual-stack socket shows as ``::ffff:a.b.c.d``: its IPv4 form, as
    Workers gives it."""
    if address.startswith("::ffff:") and "." in address:
        return address[7:]
    return address


def ip_headers(ip: str) -> IpHeaders | None:
    """The headers that carry ``ip``; none when the peer's address is unknown."""
    return (("cf-connecting-ip", ip), ("x-real-ip", ip)) if ip else None


def forwarded_ip(forwarded_for: str) -> str | None:
    """The last hop of an ``X-Forwarded-For`` value, if it is an IP address (an IPv4-mapped
    one in its IPv4 form, as ``peer_ip`` gives a peer's: ``ip_address`` writes it in hex)."""
    last = forwarded_for.rsplit(",", 1)[-1].strip()
    try:
        address = ipaddress.ip_address(last)
    except ValueError:
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)
