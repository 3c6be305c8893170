"""Object keys as storage names: safe as file names and S3 keys, sorted as the keys are.

A key is any text of up to 1024 bytes of UTF-8 (``/``, ``..``, NUL and all): it never becomes
a path as it is. Its storage name is the hex of its UTF-8, which sorts as the bytes do (so a
listing of names is a listing of keys in R2's order) and keeps a key prefix a name prefix.
S3 keys stop at 1024 bytes, so a key over ``HEX_BYTES`` keeps the hex of its first
``HEX_BYTES`` bytes followed by ``~`` and the SHA-256 of the whole key: such keys sort among
themselves by that hash (their true key is in the object's header), after every key that is
their first ``HEX_BYTES`` bytes alone, which is where they belong.
"""

from __future__ import annotations

import hashlib
import re

from vortex.r2.errors import R2InvalidArgument

HEX_BYTES = 400
"""Bytes of a key written out in its name: 800 characters, with room under S3's 1024."""
LONG_MARK = "~"
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
"""R2's rule for bucket names: 3 to 63 lowercase letters, digits and hyphens."""
_NAME = re.compile(r"(?:[0-9a-f]{2})+(?:~[0-9a-f]{64})?|~[0-9a-f]{64}")


def storage_name(key: str) -> str:
    data = key.encode()
    if len(data) <= HEX_BYTES:
        return data.hex()
    return data[:HEX_BYTES].hex() + LONG_MARK + hashlib.sha256(data).hexdigest()


def name_prefix(prefix: str) -> str:
    """The names of every key that starts with ``prefix`` start with this (and a few others,
    for a long prefix: their keys are checked against the prefix after reading)."""
    return prefix.encode()[:HEX_BYTES].hex()


def key_of(name: str) -> str | None:
    """The key a name spells out, or ``None`` for a long key's name (read its header)."""
    if LONG_MARK in name:
        return None
    return bytes.fromhex(name).decode()


def is_storage_name(name: str) -> bool:
    """What a backend's listing may hand back: anything else in the folder is not an object."""
    return _NAME.fullmatch(name) is not None


def check_bucket(bucket: object) -> str:
    if not isinstance(bucket, str) or not BUCKET_NAME.fullmatch(bucket):
        raise R2InvalidArgument(
            "an R2 bucket_name is 3 to 63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return bucket
