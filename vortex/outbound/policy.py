"""Who may be fetched: the per-function host allow-list, and which addresses are off limits."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
MAX_PATTERNS = 100
# Named by the brief of every cloud: addresses whose answers hold credentials of the machine.
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class InvalidHostPattern(ValueError):
    pass


def _ascii_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise InvalidHostPattern(f"{host!r} is not a valid host name") from None


def normalize_pattern(pattern: str) -> str:
    """ "api.example.com", "*.example.org", an IP address, or "*" (any host) in one spelling."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise InvalidHostPattern("a host pattern must be a non-empty string")
    text = pattern.strip()
    if text == "*":
        return text
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    wildcard = text.startswith("*.")
    host = _ascii_host(text[2:] if wildcard else text)
    if ":" in host or "/" in host or not _HOSTNAME.match(host):
        raise InvalidHostPattern(
            f"{pattern!r} is not a host pattern: use a host name (api.example.com), "
            "a wildcard for its subdomains (*.example.org) or an IP address, without scheme or port"
        )
    return f"*.{host}" if wildcard else host


def normalize_patterns(patterns: Iterable[object]) -> tuple[str, ...]:
    out: list[str] = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise InvalidHostPattern("host patterns must be strings")
        normal = normalize_pattern(pattern)
        if normal not in out:
            out.append(normal)
    if len(out) > MAX_PATTERNS:
        raise InvalidHostPattern(f"at most {MAX_PATTERNS} host patterns per function")
    return tuple(out)


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """``host`` as a URL gives it (brackets of IPv6 literals are accepted)."""
    name = host.strip("[]").rstrip(".").lower()
    try:
        name = str(ipaddress.ip_address(name))
    except ValueError:
        name = _ascii_host(name)
    for pattern in patterns:
        if pattern == "*" or pattern == name:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


# IPv6 addresses that reach an IPv4 address written into them, through a translator or a tunnel
# of the network (RFC 6052, 4291, 6145, 3056, 4380): judged by the IPv4 address they carry, since
# 64:ff9b::7f00:1 is 127.0.0.1 behind a NAT64, however global the IPv6 prefix looks.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
"""RFC 8215's local-use prefix: a translator of the site's own, to whatever it maps."""
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
TEREDO = ipaddress.ip_network("2001::/32")


def carried_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses that ``address`` stands for (none when it stands for none)."""
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address in TEREDO:
        # A Teredo peer is reached at its client address (inverted in the last 32 bits), and
        # through its server (bits 32-63) while the tunnel is set up: both are contacted.
        # Spelled out rather than left to ``is_global``, whose table of 2001::/23 has changed
        # between Python releases.
        server = ipaddress.IPv4Address((int(address) >> 64) & 0xFFFFFFFF)
        client = ipaddress.IPv4Address(~int(address) & 0xFFFFFFFF)
        return (client, server)
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in NAT64 or address in IPV4_TRANSLATED:
        return (low,)
    if address in IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are IPv6's own
        return (low,)
    return ()


def address_problem(address: IPAddress, allow_private: bool) -> str | None:
    """Why a connection to ``address`` is refused, or None when it may be made."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL and not allow_private:
            return "a private address (a local NAT64 prefix)"
        carried = carried_ipv4(address)
        if carried:
            problems = (_problem(ipv4, allow_private) for ipv4 in carried)
            return next((problem for problem in problems if problem is not None), None)
    return _problem(address, allow_private)


def _problem(address: IPAddress, allow_private: bool) -> str | None:
    if address.is_unspecified or address.is_multicast:
        return "an unspecified or multicast address"
    if allow_private:
        return None
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or not address.is_global:
        return "a private address"
    return None
