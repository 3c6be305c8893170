"""``env.ASSETS`` of a run (its name is the deploy's ``binding``): a Fetcher whose ``fetch``
answers a request or URL with the version's asset, as Workers' assets binding does: the same
``html_handling`` and ``not_found_handling`` as the listener, a 404 when nothing matches, 405
for a method other than GET and HEAD.

The harness (``js/src/harness/assets.js``) sends ``{url, method, if_none_match}`` and makes a
``Response`` of the answer: ``{status, headers}`` and the body as bytes. Only the version's own
manifest is looked in, so a function reads its own assets and no one else's.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from vortex.assets.manifest import AssetsRef
from vortex.assets.reader import AssetReader
from vortex.assets.respond import answer
from vortex.assets.routing import decide, not_found, request_path
from vortex.errors import VortexError
from vortex.isolates.bindings import Binding, BindingError, WithBytes

ASSETS_BINDING = "assets"
"""The binding's key among a run's bindings (its name in ``env`` is the deploy's)."""


@functools.lru_cache(maxsize=1024)
def assets_binding(reader: AssetReader, namespace: str, ref: AssetsRef) -> Binding:
    """One per version, as ``kv_binding``: it holds nothing of a run."""
    config = ref.config

    async def call(op: str, args: Mapping[str, Any], body: bytes | None) -> Any:
        if op != "fetch":
            raise BindingError("assets_invalid_operation", f"ASSETS has no operation {op!r}")
        url, method = str(args.get("url", "")), str(args.get("method", "GET")).upper()
        if method not in ("GET", "HEAD"):
            return WithBytes({"status": 405, "headers": [["allow", "GET, HEAD"]]}, b"")
        target = url.split("://", 1)[1] if "://" in url else url
        target = "/" + target.split("/", 1)[1] if "/" in target else "/"
        path = request_path(target)
        try:
            manifest = await reader.manifest(namespace, ref)
            decision = None
            if path is not None:
                query = target.split("?", 1)[1] if "?" in target else ""
                decision = decide(config, manifest.files, path, query)
                if decision is None:
                    decision = not_found(manifest.files, config.not_found_handling, path)
            shaped = answer(
                decision, method, args.get("if_none_match"), config.header_rules, path or "/"
            )
            content = b""
            if shaped.body_of is not None:
                content = await reader.content(namespace, shaped.body_of.digest)
        except VortexError as exc:
            raise BindingError(exc.code, exc.message) from None
        headers = [[name, value] for name, value in shaped.headers]
        return WithBytes({"status": shaped.status, "headers": headers}, content)

    return Binding(call, {"name": config.binding})
