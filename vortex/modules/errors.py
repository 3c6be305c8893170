"""Why an upload could not become a module function; each is a 400 with a stable code."""

from __future__ import annotations

from vortex.errors import BadRequest


class InvalidImport(BadRequest):
    """An import that does not name one of the uploaded files (a package, a URL, a path outside
    the upload, a file that is not there) or a dynamic ``import()``."""

    code = "invalid_import"


NODE_BUILTINS_ADVICE = (
    "Vortex has no Node.js built-in modules (Workers' nodejs_compat): use the web APIs "
    "instead, e.g. atob/btoa and TextEncoder/TextDecoder for Buffer's base64 and UTF-8, "
    "crypto.subtle for node:crypto"
)
"""Said wherever a ``node:`` import is refused: Workers examples import ``node:buffer``."""


class BuildUnavailable(Exception):
    """esbuild is missing or failed in a way that is the server's fault, not the upload's."""


class BuildLimitExceeded(BadRequest):
    """The build of an upload went past its time or memory limit."""

    code = "build_limit_exceeded"
