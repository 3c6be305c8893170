"""Why an upload could not become a module function; each is a 400 with a stable code."""

from __future__ import annotations

from vortex.errors import BadRequest


class InvalidImport(BadRequest):
    """An import that does not name one of the uploaded files (a package, a URL, a path outside
    the upload, a file that is not there) or a dynamic ``import()``."""

    code = "invalid_import"


NODE_BUILTINS_ADVICE = (
    "Vortex has only these Node.js built-in modules of Workers' nodejs_compat: node:assert, "
    "node:assert/strict, node:async_hooks, node:buffer, node:crypto, node:events, node:path, "
    "node:process, node:stream, node:stream/promises, node:string_decoder, node:timers, "
    "node:timers/promises and node:util; for the others use the web APIs (fetch for node:http, "
    "CompressionStream for node:zlib)"
)
"""Said wherever a ``node:`` import is refused: which ones are supported, and what replaces the
usual others. Kept in step with ``nodebuiltins.SUPPORTED`` (a test checks it)."""


CLOUDFLARE_MODULES_ADVICE = (
    "Vortex has only cloudflare:workers of Workers' cloudflare: modules (WorkerEntrypoint, env, "
    "waitUntil, and DurableObject, WorkflowEntrypoint, RpcTarget to extend); cloudflare:sockets, "
    "cloudflare:email and the others need services Vortex does not have"
)
"""Said wherever another ``cloudflare:`` import is refused. Kept in step with
``nodebuiltins.CLOUDFLARE_MODULES`` (a test checks it)."""


class BuildUnavailable(Exception):
    """esbuild is missing or failed in a way that is the server's fault, not the upload's."""


class BuildLimitExceeded(BadRequest):
    """The build of an upload went past its time or memory limit."""

    code = "build_limit_exceeded"
