"""Errors of API keys and namespaces, with their stable codes (docs/auth.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from vortex.errors import BadRequest, NotFound, Unavailable, VortexError


class Unauthorized(VortexError):
    """No key, or a key that does not exist (or was revoked): who is asking is unknown."""

    status = 401
    code = "unauthorized"
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": 'Bearer realm="vortex"'}
    """RFC 9110 requires it on a 401: the scheme the API takes (``Authorization: Bearer``)."""


class Forbidden(VortexError):
    """A valid key, used where its scope does not reach (a metrics key on the API, ...)."""

    status = 403
    code = "forbidden"


class InvalidCsrfToken(Forbidden):
    """A request made with the dashboard's session cookie that changes something, without the
    session's CSRF token: what a page of another origin would send."""

    code = "invalid_csrf_token"


class AuthUnavailable(Unavailable):
    """The key store (Redis, or the keys file) cannot be read: fail closed, never open."""

    code = "auth_unavailable"


class InvalidNamespace(BadRequest):
    code = "invalid_namespace"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
