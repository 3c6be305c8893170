"""Finding the function a request names, within what its caller may see (docs/auth.md).

A path names a function by id (any version) or by name (the active version). With API keys, a
caller sees only its namespace's functions: another namespace's is ``404 function_not_found``,
as a missing one. In single-tenant mode the operator reaches every id, and names of ``default``.
"""

from __future__ import annotations

from aiohttp import web

from vortex.functions import ALL_NAMESPACES
from vortex.http.auth import principal_of
from vortex.http.keys import REGISTRY
from vortex.storage.base import FunctionRecord

DEFAULT_NAMESPACE = "default"


def visible_namespace(request: web.Request) -> str | None:
    """The namespace whose functions the caller sees; ``ALL_NAMESPACES`` for the operator."""
    principal = principal_of(request)
    if principal.key_id is None:
        return ALL_NAMESPACES
    return principal.namespace or DEFAULT_NAMESPACE


def deploy_namespace(request: web.Request) -> str:
    return principal_of(request).namespace or DEFAULT_NAMESPACE


async def resolve(request: web.Request, key: str = "function_id") -> FunctionRecord:
    ref = request.match_info[key]
    return await request.app[REGISTRY].resolve(ref, visible_namespace(request))


async def resolve_public(request: web.Request, ref: str) -> FunctionRecord:
    """For the public ``/fn/`` trigger: an id, a name of ``default``, or ``name.namespace``."""
    return await request.app[REGISTRY].resolve_public(ref)
