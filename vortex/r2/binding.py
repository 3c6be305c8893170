"""``env.<BINDING>`` of a run for an R2 bucket its deploy declared (docs/r2.md).

The server makes one per declared bucket, scoped to the function's namespace and that bucket's
name: a run names keys, never a bucket or a namespace, so it reaches no other tenant's objects
and none of its own buckets it did not declare. What crosses (harness: ``js/src/harness/r2.js``):
``put`` sends the object's bytes as the call's body and is answered the new object's head (or
``null`` when ``onlyIf`` failed); ``get`` is answered ``null``, or the head with the bytes as the
answer's body (``body: false`` when ``onlyIf`` failed: R2 gives the object without a body);
``head`` the head or ``null``; ``delete`` nothing; ``list`` the page. Errors keep their ``r2_*``
codes, and their messages begin with the operation, as R2's do (``put: ... (10012)``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from vortex.errors import VortexError
from vortex.isolates.bindings import Binding, BindingError, WithBytes
from vortex.r2.errors import R2NotSupported
from vortex.r2.service import R2, Found

log = logging.getLogger(__name__)
BINDING_PREFIX = "r2:"
"""A run's bindings are keyed by kind: ``r2:<NAME>`` is the bucket bound as ``env.<NAME>``."""


def _found(found: Found | None) -> Any:
    if found is None:
        return None
    head = found.head.to_json()
    if found.body is None:
        return {"object": head, "body": False}
    result: dict[str, Any] = {"object": head, "body": True}
    if found.ranged:
        result["range"] = {"offset": found.offset, "length": len(found.body)}
    return WithBytes(result, found.body)


async def _answer(
    r2: R2, namespace: str, bucket: str, op: str, args: Mapping[str, Any], body: bytes | None
) -> Any:
    if op == "get":
        found = await r2.get(
            namespace, bucket, args.get("key"), args.get("onlyIf"), args.get("range")
        )
        return _found(found)
    if op == "head":
        head = await r2.head(namespace, bucket, args.get("key"))
        return None if head is None else head.to_json()
    if op == "put":
        put = await r2.put(
            namespace,
            bucket,
            args.get("key"),
            body if body is not None else str(args.get("value") or "").encode(),
            http_metadata=args.get("httpMetadata"),
            custom_metadata=args.get("customMetadata"),
            only_if=args.get("onlyIf"),
            md5=args.get("md5"),
        )
        return None if put is None else put.to_json()
    if op == "delete":
        await r2.delete(namespace, bucket, args.get("keys"))
        return None
    if op == "list":
        return await r2.list(namespace, bucket, args.get("options") or {})
    if op == "createMultipartUpload":
        raise R2NotSupported("multipart uploads are not supported by Vortex's R2: use put")
    raise R2NotSupported(f"R2 has no operation {op!r} here")


@functools.lru_cache(maxsize=1024)
def r2_binding(r2: R2, namespace: str, bucket: str) -> Binding:
    """One per (namespace, bucket), as ``kv_binding``: it holds nothing of a run."""

    async def call(op: str, args: Mapping[str, Any], body: bytes | None) -> Any:
        try:
            return await _answer(r2, namespace, bucket, op, args, body)
        except VortexError as exc:
            if exc.status >= 500:
                # Where the store is (a path, an S3 endpoint) is the operator's business.
                log.warning("R2 %s of %s/%s failed: %s", op, namespace, bucket, exc)
                raise BindingError(exc.code, f"{op}: the bucket is unavailable right now") from None
            raise BindingError(exc.code, f"{op}: {exc}") from None

    return Binding(
        call,
        describe={
            "max_object_bytes": r2.limits.max_object_bytes,
            "max_key_bytes": r2.limits.max_key_bytes,
            "bucket_name": bucket,
        },
    )
