"""Errors of D1 bindings: codes for Vortex (``d1_*``) and D1's own message shapes, which apps
match on (``D1_ERROR: no such table: users: SQLITE_ERROR``, ``D1_TYPE_ERROR: ...``)."""

from __future__ import annotations

from vortex.errors import BadRequest, PayloadTooLarge, VortexError


class D1Error(BadRequest):
    """SQLite refused or failed a statement; the message is D1's, ``D1_ERROR: ...``."""

    code = "d1_error"


class D1TypeError(BadRequest):
    """A bound value D1 cannot store (``undefined``, an object)."""

    code = "d1_type_error"


class D1ResultTooLarge(PayloadTooLarge):
    """Rows over ``VORTEX_D1_MAX_RESULT_BYTES``: a result crosses the host pipe whole."""

    code = "d1_result_too_large"


class D1Unavailable(VortexError):
    """D1 on a server whose nodes share a store: a node-local file would split the data."""

    status = 409
    code = "d1_unavailable"
