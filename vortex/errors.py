"""The one error family of Vortex.

Every failure a user can cause or see is a ``VortexError`` with a stable ``code`` (part of the
API: clients branch on it) and the HTTP status it maps to. The HTTP layer turns any of them into
``{"error": {"code": ..., "message": ...}}`` in one middleware; nothing else formats errors.

    VortexError
    ├── BadRequest                      400
    │   ├── InvalidJSON                     invalid_json
    │   ├── InvalidRequest                  invalid_request
    │   ├── InvalidFunctionId               invalid_function_id
    │   ├── InvalidRoute                    invalid_route
    │   ├── InvalidAssets                   invalid_assets (the deploy's "assets" object)
    │   ├── InvalidAssetPath                invalid_asset_path
    │   ├── TooManyAssets                   too_many_assets
    │   ├── AssetMissing                    asset_missing (a manifest's hash never uploaded)
    │   ├── AssetHashMismatch               asset_hash_mismatch
    │   └── SyntaxErrorInCode               syntax_error (with line and column)
    ├── NotFound                        404
    │   ├── RouteNotFound                   not_found
    │   ├── FunctionNotFound                function_not_found
    │   ├── VersionNotFound                 version_not_found
    │   └── RunNotFound                     run_not_found
    ├── NotThisSite                     403
    │   ├── CrossSiteRequest                cross_site_request
    │   └── UnknownHost                     unknown_host
    ├── MethodNotAllowed                405 method_not_allowed
    ├── RouteTaken                      409 route_taken (a custom-domain route of another function)
    ├── UpgradeRequired                 426 upgrade_required (a WebSocket route got plain HTTP)
    ├── PayloadTooLarge                 413 payload_too_large
    │   ├── AssetTooLarge                   asset_too_large (one file)
    │   └── AssetsTooLarge                  assets_too_large (a version's files together)
    ├── UnsupportedMediaType            415 unsupported_media_type
    ├── ListenerUnreachable             502 listener_unreachable (the request tester)
    ├── Unavailable                     503
    │   ├── StorageUnavailable              storage_unavailable
    │   ├── PoolUnavailable                 pool_unavailable
    │   ├── HistoryUnavailable              history_unavailable
    │   └── SecretsUnavailable              secrets_unavailable
    └── InternalError                   500 internal_error

Errors raised *by a run* (a user's exception, a limit) are not exceptions of the server: they are
part of the execute response, built in ``vortex.isolates.outcome``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class VortexError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    headers: ClassVar[Mapping[str, str]] = {}
    """Sent with the error's answer (HTTP requires some with some statuses)."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class BadRequest(VortexError):
    status = 400
    code = "bad_request"


class InvalidJSON(BadRequest):
    code = "invalid_json"


class InvalidRequest(BadRequest):
    code = "invalid_request"


class InvalidCursor(BadRequest):
    code = "invalid_cursor"


class InvalidLimit(BadRequest):
    code = "invalid_limit"


class InvalidFunctionId(BadRequest):
    code = "invalid_function_id"


class InvalidRoute(BadRequest):
    """A deploy's ``routes`` pattern is not ``host/path`` as docs/http-functions.md says."""

    code = "invalid_route"


class NotAModule(BadRequest):
    """Asked to run a ``scheduled`` handler of a script function, which has none."""

    code = "not_a_module"


class SyntaxErrorInCode(BadRequest):
    code = "syntax_error"


class InvalidAssets(BadRequest):
    code = "invalid_assets"


class InvalidAssetPath(BadRequest):
    """A static asset's path that is not one normalised absolute path (``..``, ``//``, NUL)."""

    code = "invalid_asset_path"


class TooManyAssets(BadRequest):
    code = "too_many_assets"


class AssetMissing(BadRequest):
    """A deploy's manifest names content the server does not hold: upload it first."""

    code = "asset_missing"


class AssetHashMismatch(BadRequest):
    code = "asset_hash_mismatch"


class NotFound(VortexError):
    status = 404
    code = "not_found"


class RouteNotFound(NotFound):
    code = "not_found"


class FunctionNotFound(NotFound):
    code = "function_not_found"


class VersionNotFound(NotFound):
    code = "version_not_found"


class RunNotFound(NotFound):
    code = "run_not_found"


class NotThisSite(VortexError):
    """A browser sent the request for another website (vortex/http/browsers.py)."""

    status = 403
    code = "forbidden"


class CrossSiteRequest(NotThisSite):
    code = "cross_site_request"


class UnknownHost(NotThisSite):
    """The ``Host`` is a name the API does not answer for (DNS rebinding)."""

    code = "unknown_host"


class MethodNotAllowed(VortexError):
    status = 405
    code = "method_not_allowed"


class RouteTaken(VortexError):
    """Another function claims the route (or another namespace the route's host)."""

    status = 409
    code = "route_taken"


class UpgradeRequired(VortexError):
    status = 426
    code = "upgrade_required"
    headers: ClassVar[Mapping[str, str]] = {"Upgrade": "websocket", "Connection": "Upgrade"}


class PayloadTooLarge(VortexError):
    status = 413
    code = "payload_too_large"

    @classmethod
    def over_setting(cls, what: str, limit: int, setting: str, more: str = "") -> PayloadTooLarge:
        """Over a limit the operator sets: says it in units a person reads, and which setting
        raises it (also as ``limit_bytes`` and ``setting``, for programs)."""
        return cls(
            f"{what} is over the limit of {size_phrase(limit)}{more}; the server's operator "
            f"can raise it with {setting}",
            limit_bytes=limit,
            setting=setting,
        )


def size_phrase(size: int) -> str:
    """``1 MiB (1,048,576 bytes)``; ``512 bytes`` below a KiB."""
    exact = f"{size:,} bytes"
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift:
            whole = size % (1 << shift) == 0
            return f"{size / (1 << shift):.{0 if whole else 1}f} {unit} ({exact})"
    return exact


class AssetTooLarge(PayloadTooLarge):
    code = "asset_too_large"


class AssetsTooLarge(PayloadTooLarge):
    code = "assets_too_large"


class UnsupportedMediaType(VortexError):
    status = 415
    code = "unsupported_media_type"


class ListenerUnreachable(VortexError):
    """``POST /functions/{ref}/request`` could not get an answer from the functions listener."""

    status = 502
    code = "listener_unreachable"


class Unavailable(VortexError):
    status = 503
    code = "unavailable"


class StorageUnavailable(Unavailable):
    code = "storage_unavailable"


class CorruptRecord(StorageUnavailable):
    """A function's record is there but cannot be read: listings skip it (storage/base.py)."""


class PoolUnavailable(Unavailable):
    code = "pool_unavailable"


class HistoryUnavailable(Unavailable):
    code = "history_unavailable"


class SecretsUnavailable(Unavailable):
    """A function's secrets were sealed with a key this server does not hold."""

    code = "secrets_unavailable"


class InternalError(VortexError):
    status = 500
    code = "internal_error"
