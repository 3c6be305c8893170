"""The R2 buckets a deploy binds: ``"r2_buckets": [{"binding": "BUCKET", "bucket_name":
"uploads"}]`` (wrangler's shape), kept as ``{binding: bucket_name}`` on the version's record."""

from __future__ import annotations

import re
from typing import Any

from vortex.errors import InvalidRequest
from vortex.r2.names import BUCKET_NAME

MAX_BUCKETS = 32
BINDING_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")
RESERVED = frozenset({"KV"})
"""``env.KV`` is the function's KV namespace (docs/kv.md)."""


def parse_r2_buckets(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise InvalidRequest('"r2_buckets" must be a list of {"binding", "bucket_name"}')
    if len(value) > MAX_BUCKETS:
        raise InvalidRequest(f'"r2_buckets" holds at most {MAX_BUCKETS} buckets')
    buckets: dict[str, str] = {}
    for entry in value:
        binding = entry.get("binding") if isinstance(entry, dict) else None
        bucket = entry.get("bucket_name") if isinstance(entry, dict) else None
        if not isinstance(binding, str) or not BINDING_NAME.fullmatch(binding):
            raise InvalidRequest(
                '"r2_buckets": each needs a "binding", a JavaScript name such as "BUCKET"'
            )
        if binding in RESERVED:
            raise InvalidRequest(f'"r2_buckets": env.{binding} is the function\'s KV namespace')
        if binding in buckets:
            raise InvalidRequest(f'"r2_buckets": env.{binding} is bound twice')
        if not isinstance(bucket, str) or not BUCKET_NAME.fullmatch(bucket):
            raise InvalidRequest(
                f'"r2_buckets": the "bucket_name" of env.{binding} must be 3 to 63 lowercase '
                "letters, digits and hyphens, starting and ending with a letter or digit"
            )
        buckets[binding] = bucket
    return buckets


def r2_buckets_json(buckets: dict[str, str]) -> list[dict[str, Any]]:
    """As deploys and wrangler give them."""
    return [{"binding": b, "bucket_name": name} for b, name in buckets.items()]


def r2_buckets_of(value: object) -> dict[str, str]:
    """A stored record's (written by this code: trusted, but older records have none)."""
    if not isinstance(value, list):
        return {}
    return {str(e["binding"]): str(e["bucket_name"]) for e in value if isinstance(e, dict)}
