"""The KV namespace of one function as a run sees it: ``env.KV`` / ``Vortex.kv`` (docs/kv.md).

The server scopes the binding when it starts a run, by the function's history key (a named
function's versions share one namespace, so its data survives a new deploy and a rollback);
user code names keys, never the namespace. Errors keep their stable KV codes, and the JavaScript
side throws them as an Error with that ``code``.

What crosses (harness: ``js/src/harness/bindings.js``): ``put`` sends a text value in its JSON
arguments, or bytes (an ArrayBuffer, a view, a stream read whole) as the call's body. ``get``
asks ``as`` ``"text"`` or ``"bytes"`` and is answered ``null`` when the key is absent, else
``{value?, metadata?}``: text in ``value`` (decoded here, once, as Workers KV decodes it), bytes
as the answer's body; ``metadata`` only when the key has some. ``getMany`` (a bulk get, text only
as in Workers) takes ``keys``, up to 100, and is answered a list of what ``get`` answers, one per
key in their order: one call, so one operation against the run's limit, as a bulk read is one
in Workers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from vortex.errors import VortexError
from vortex.isolates.bindings import Binding, BindingError, WithBytes
from vortex.kv.base import KVEntry
from vortex.kv.service import KV

log = logging.getLogger(__name__)


def _answer(entry: KVEntry | None, as_bytes: bool) -> Any:
    if entry is None:
        return None
    result: dict[str, Any] = {}
    if entry.metadata is not None:
        result["metadata"] = entry.metadata_value()
    if as_bytes:
        return WithBytes(result, entry.value)
    result["value"] = entry.text()
    return result


@functools.lru_cache(maxsize=1024)
def kv_binding(kv: KV, namespace: str) -> Binding:
    """The same binding for every run of a function (it holds no state of a run): made once,
    not once per run, which was ~1% of the server's time under /fn/ load."""

    async def call(op: str, args: Mapping[str, Any], body: bytes | None) -> Any:
        try:
            if op == "get":
                entry = await kv.get_entry(namespace, args.get("key"))  # type: ignore[arg-type]
                return _answer(entry, args.get("as") == "bytes")
            if op == "getMany":
                entries = await kv.get_entries(namespace, args.get("keys"))
                return [_answer(entry, False) for entry in entries]
            if op == "put":
                await kv.put(
                    namespace,
                    args.get("key"),  # type: ignore[arg-type]
                    args.get("value") if body is None else body,  # type: ignore[arg-type]
                    metadata=args.get("metadata"),
                    expiration_ttl=args.get("expirationTtl"),
                    expiration=args.get("expiration"),
                )
                return None
            if op == "delete":
                await kv.delete(namespace, args.get("key"))  # type: ignore[arg-type]
                return None
            if op == "list":
                page = await kv.list(
                    namespace,
                    prefix=args.get("prefix", ""),
                    limit=args.get("limit"),
                    cursor=args.get("cursor"),
                )
                return page.to_json()
        except VortexError as exc:
            if exc.status >= 500:
                # The details (a Redis address, a file path) are the operator's, not the tenant's.
                log.warning("KV %s failed: %s", op, exc)
                raise BindingError(exc.code, "the KV store is unavailable right now") from None
            raise BindingError(exc.code, str(exc)) from None
        raise BindingError("kv_invalid_operation", f"KV has no operation {op!r}")

    return Binding(
        call,
        describe={
            "max_key_bytes": kv.limits.max_key_bytes,
            "max_value_bytes": kv.limits.max_value_bytes,
            "max_metadata_bytes": kv.limits.max_metadata_bytes,
        },
    )
