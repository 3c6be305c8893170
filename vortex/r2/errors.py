"""Errors of R2 bindings: stable codes for Vortex (``r2_*``), and R2's own number at the end of
the message where R2 has one, as Workers' R2 binding puts it (``put: ... (10012)``)."""

from __future__ import annotations

from vortex.errors import BadRequest, PayloadTooLarge, VortexError


class R2InvalidKey(BadRequest):
    """Not a string, empty, not valid Unicode, or over 1024 bytes of UTF-8 (R2's 10020)."""

    code = "r2_invalid_key"


class R2ObjectTooLarge(PayloadTooLarge):
    """Over ``VORTEX_R2_MAX_OBJECT_BYTES`` (R2's EntityTooLarge, 100100)."""

    code = "r2_object_too_large"


class R2MetadataTooLarge(PayloadTooLarge):
    """httpMetadata and customMetadata over R2's 8192 bytes together (R2's 10012)."""

    code = "r2_metadata_too_large"


class R2InvalidArgument(BadRequest):
    """An option of the wrong shape (R2 throws a TypeError for most: so does the harness)."""

    code = "r2_invalid_argument"


class R2InvalidRange(VortexError):
    status = 416
    code = "r2_invalid_range"


class R2NotSupported(BadRequest):
    """Multipart uploads and the other parts of R2's API Vortex leaves out."""

    code = "r2_not_supported"
