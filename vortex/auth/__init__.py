"""API keys and namespaces.

A key belongs to a namespace and is stored only as a SHA-256 digest (``vortex.auth.tokens`` says
why that is enough). ``ApiKeys`` creates, lists, revokes and checks keys over a ``KeyStore``: a
file in the data directory by default, a Redis hash when Redis is configured (chosen in
``vortex.backends.make_api_keys``). The HTTP side is ``vortex.http.auth``; docs/auth.md has the
rules every handler follows.
"""

from vortex.auth.base import ApiKey, KeyStore, Scope
from vortex.auth.service import SINGLE_TENANT, ApiKeys, Principal
from vortex.auth.tokens import DEFAULT_NAMESPACE

__all__ = [
    "DEFAULT_NAMESPACE",
    "SINGLE_TENANT",
    "ApiKey",
    "ApiKeys",
    "KeyStore",
    "Principal",
    "Scope",
]
