"""The supervisor's reads of static assets: manifests and bytes, from the store, cached.

Hosts never read the store: they run hostile code, and the store's credentials (an S3 key)
stay in the server process. A host asks the supervisor for an asset's bytes (an ``AssetRead``
frame, or ``env.ASSETS.fetch`` through the bindings), and the supervisor answers from this
cache or the store. The cache is bounded by bytes (``VORTEX_ASSETS_CACHE_BYTES``), so a site's
hot files cost one store read per node, and a large site cannot grow the server without bound.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from vortex.assets.bytecache import ByteCache
from vortex.assets.manifest import AssetsRef, Manifest, manifest_from_bytes
from vortex.cache import BoundedCache
from vortex.errors import NotFound, StorageUnavailable
from vortex.storage.base import FunctionStore

MANIFESTS = 256


@dataclass(frozen=True, slots=True)
class LoadedManifest:
    files: Manifest
    digests: frozenset[str]
    """Every hash the manifest names: the only content its function may read."""


class AssetReader:
    def __init__(self, store: FunctionStore, cache_bytes: int = 64 << 20) -> None:
        self.store = store
        self.bytes = ByteCache(cache_bytes)
        self._manifests: BoundedCache[str, LoadedManifest] = BoundedCache(MANIFESTS)
        self._loading: dict[str, asyncio.Future[LoadedManifest]] = {}

    def remember(self, namespace: str, ref: AssetsRef, files: Manifest) -> None:
        """A manifest just deployed: the first requests (and the warm push) need no read."""
        key = f"{namespace}/{ref.manifest_sha256}"
        self._manifests.put(key, LoadedManifest(files, frozenset(d for d, _ in files.values())))

    def cached(self, namespace: str, ref: AssetsRef) -> LoadedManifest | None:
        return self._manifests.get(f"{namespace}/{ref.manifest_sha256}")

    async def manifest(self, namespace: str, ref: AssetsRef) -> LoadedManifest:
        key = f"{namespace}/{ref.manifest_sha256}"
        found = self._manifests.get(key)
        if found is not None:
            return found
        data = await self.store.get_asset(namespace, ref.manifest_sha256)
        if data is None:
            raise StorageUnavailable(f"the asset manifest {ref.manifest_sha256} is missing")
        try:
            files = manifest_from_bytes(data)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise StorageUnavailable(f"the asset manifest {ref.manifest_sha256}: {exc}") from exc
        loaded = LoadedManifest(files, frozenset(d for d, _ in files.values()))
        self._manifests.put(key, loaded)
        return loaded

    async def content(self, namespace: str, digest: str) -> bytes:
        key = f"{namespace}/{digest}"
        found = self.bytes.get(key)
        if found is not None:
            return found
        data = await self.store.get_asset(namespace, digest)
        if data is None:
            raise StorageUnavailable(f"the asset {digest} is missing from the store")
        self.bytes.put(key, data)
        return data

    async def content_of(self, namespace: str, ref: AssetsRef, digest: str) -> bytes:
        """The bytes of ``digest`` for a host serving the version of ``ref``: only a hash of
        that version's own manifest. A host runs untrusted code; whatever it asks, it gets no
        content its function could not serve."""
        manifest = await self.manifest(namespace, ref)
        if digest not in manifest.digests:
            raise NotFound(f"the version has no asset {digest[:16]}")
        return await self.content(namespace, digest)
