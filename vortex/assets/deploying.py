"""A deploy's assets made part of its version: every file uploaded, the manifest stored."""

from __future__ import annotations

import asyncio

from vortex.assets.manifest import AssetsRef, AssetsUpload, manifest_bytes, sha256_hex
from vortex.assets.reader import AssetReader
from vortex.errors import AssetMissing
from vortex.storage.base import FunctionStore

LOOKUPS_AT_ONCE = 16
"""Store look-ups in flight (S3 HEAD requests) while a manifest's files are checked."""
MISSING_SHOWN = 100


async def missing_assets(store: FunctionStore, namespace: str, digests: set[str]) -> list[str]:
    """The hashes of ``digests`` the namespace's assets do not hold, sorted."""
    limit = asyncio.Semaphore(LOOKUPS_AT_ONCE)

    async def held(digest: str) -> bool:
        async with limit:
            return await store.has_asset(namespace, digest)

    ordered = sorted(digests)
    found = await asyncio.gather(*(held(digest) for digest in ordered))
    return [digest for digest, there in zip(ordered, found, strict=True) if not there]


async def store_manifest(
    store: FunctionStore, reader: AssetReader, namespace: str, upload: AssetsUpload
) -> AssetsRef:
    """Checks every file is uploaded (``asset_missing`` lists those that are not), stores the
    manifest, and gives what the version's record keeps."""
    missing = await missing_assets(store, namespace, {d for d, _ in upload.manifest.values()})
    if missing:
        raise AssetMissing(
            f"{len(missing)} asset(s) of the manifest were not uploaded: PUT /assets/{{hash}} "
            "each (POST /assets/missing lists them) before the deploy",
            missing=missing[:MISSING_SHOWN],
        )
    data = manifest_bytes(upload.manifest)
    digest = sha256_hex(data)
    await store.put_asset(namespace, digest, data)
    ref = AssetsRef(digest, len(upload.manifest), upload.total, upload.config)
    reader.remember(namespace, ref, upload.manifest)
    return ref
