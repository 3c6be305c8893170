"""Static assets in a host: which requests an asset answers, and its bytes.

A route of a function with assets carries its manifest and settings (``HostAssets``); the
listener (``httpserve``) asks ``plan`` before it starts a run, and a request that names an
asset is answered without running the code (Workers' default). The bytes come from this host's
cache, bounded by ``VORTEX_ASSETS_CACHE_BYTES`` / 4, or are asked of the supervisor with an
``AssetRead`` frame (``AssetFetcher``), which reads and caches them for every host: a host
holds no store credentials. A function without assets has ``route.assets`` None: one attribute
test on its requests' path, nothing more.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from vortex.assets.bytecache import ByteCache
from vortex.assets.manifest import AssetConfig, HtmlHandling, Manifest, NotFoundHandling
from vortex.assets.respond import Answer, answer
from vortex.assets.routing import decide, not_found, request_path, worker_first
from vortex.isolates.protocol import AssetData, AssetRead, AssetSpec, Frame

MAX_PENDING = 4096


@dataclass(frozen=True, slots=True)
class HostAssets:
    config: AssetConfig
    files: Manifest


def host_assets(spec: AssetSpec, stale: HostAssets | None) -> HostAssets | None:
    """The assets of a route's spec; its manifest is the stale route's when the supervisor
    left it out (the host had this version), None if neither has one."""
    files = spec.files
    if files is None:
        if stale is None:
            return None
        files = stale.files
    first = spec.run_worker_first
    not_found: NotFoundHandling = spec.not_found_handling  # type: ignore[assignment]
    html: HtmlHandling = spec.html_handling  # type: ignore[assignment]
    config = AssetConfig(
        spec.binding,
        not_found,
        html,
        first if isinstance(first, bool) else tuple(first),
        spec.headers,
        spec.redirects,
    )
    return HostAssets(config, {path: (entry[0], entry[1]) for path, entry in files.items()})


def plan(
    assets: HostAssets, method: str, target: str, navigate: bool, if_none_match: str | None
) -> Answer | None:
    """The listener's answer to a request from the assets, or None: the code runs."""
    if method not in ("GET", "HEAD"):
        return None
    path = request_path(target)
    if path is None:
        return None
    config = assets.config
    if worker_first(config, path):
        return None
    query = target.split("?", 1)[1] if "?" in target else ""
    decision = decide(config, assets.files, path, query)
    if decision is None and navigate and config.not_found_handling == "single-page-application":
        # Navigations (a browser's page loads) that match no asset get the app's shell; other
        # requests (fetch() from the page, curl) reach the code, as on Workers.
        decision = not_found(assets.files, config.not_found_handling, path)
    if decision is None:
        return None
    return answer(decision, method, if_none_match, config.header_rules, path)


class AssetFetcher:
    """The host's side of ``AssetRead``: one question per hash in flight, answers cached."""

    def __init__(self, send: Callable[[Frame], None], cache_bytes: int = 16 << 20) -> None:
        self._send = send
        self.cache = ByteCache(cache_bytes)
        self._ids = itertools.count(1)
        self._asked: dict[tuple[str, str], asyncio.Future[bytes]] = {}
        self._by_id: dict[int, tuple[str, str]] = {}

    def cached(self, function_id: str, digest: str) -> bytes | None:
        # Keyed by hash alone would let one function's route name another's content in this
        # host's memory; by (function, hash) each route reads what its supervisor allowed.
        return self.cache.get(f"{function_id}/{digest}")

    def read(self, function_id: str, digest: str) -> asyncio.Future[bytes]:
        key = (function_id, digest)
        asked = self._asked.get(key)
        if asked is not None:
            return asked
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        if len(self._by_id) >= MAX_PENDING:
            future.set_exception(AssetUnavailable("too many asset reads in flight"))
            future.exception()
            return future
        rid = next(self._ids)
        self._asked[key] = future
        self._by_id[rid] = key
        self._send(AssetRead(rid, function_id, digest))
        return future

    def answered(self, frame: AssetData) -> None:
        key = self._by_id.pop(frame.rid, None)
        if key is None:
            return
        future = self._asked.pop(key)
        if frame.body is None:
            message = frame.error.message if frame.error else "the asset could not be read"
            future.set_exception(AssetUnavailable(message))
            future.exception()  # nobody may be waiting (the client left)
            return
        self.cache.put(f"{key[0]}/{key[1]}", frame.body)
        future.set_result(frame.body)

    def orphan(self) -> None:
        """The supervisor will answer no more: every read in flight fails."""
        for rid in list(self._by_id):
            key = self._by_id.pop(rid)
            future = self._asked.pop(key, None)
            if future is not None and not future.done():
                future.set_exception(AssetUnavailable("this host is stopping"))
                future.exception()


class AssetUnavailable(Exception):
    pass
