"""Errors of the per-function KV store, with the stable codes clients branch on (docs/kv.md)."""

from __future__ import annotations

from vortex.errors import BadRequest, NotFound, PayloadTooLarge, Unavailable


class KVInvalidKey(BadRequest):
    """Empty, or not valid Unicode text (a lone surrogate cannot be stored as UTF-8)."""

    code = "kv_invalid_key"


class KVKeyTooLong(PayloadTooLarge):
    # 414 as Workers KV answers it: the key, not the body, is what is too long.
    status = 414
    code = "kv_key_too_long"


class KVValueTooLarge(PayloadTooLarge):
    code = "kv_value_too_large"


class KVInvalidValue(BadRequest):
    code = "kv_invalid_value"


class KVInvalidMetadata(BadRequest):
    """Metadata that JSON cannot carry (a key that is not a string, a number out of range)."""

    code = "kv_invalid_metadata"


class KVMetadataTooLarge(PayloadTooLarge):
    """Over 1024 bytes of serialized JSON, Workers KV's own limit."""

    code = "kv_metadata_too_large"


class KVInvalidExpiration(BadRequest):
    code = "kv_invalid_expiration"


class KVInvalidListOption(BadRequest):
    """A ``limit`` out of range, a ``prefix`` that is not text, a cursor this store never gave."""

    code = "kv_invalid_list_option"


class KVKeyNotFound(NotFound):
    """Only the HTTP API says so; in a run, ``get`` of a missing key is ``null``."""

    code = "kv_key_not_found"


class KVUnavailable(Unavailable):
    code = "kv_unavailable"
