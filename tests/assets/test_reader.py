"""The supervisor's reads of asset bytes (vortex.assets.reader) and the byte caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from vortex.assets.bytecache import ByteCache
from vortex.assets.deploying import store_manifest
from vortex.assets.manifest import AssetConfig, AssetsUpload, sha256_hex
from vortex.assets.reader import AssetReader
from vortex.errors import AssetMissing, NotFound
from vortex.storage.local import LocalStore


async def test_a_host_gets_only_hashes_of_its_versions_manifest(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    mine, theirs = b"mine", b"theirs"
    for data in (mine, theirs):
        await store.put_asset("default", sha256_hex(data), data)
    reader = AssetReader(store)
    upload = AssetsUpload({"/a.txt": (sha256_hex(mine), 4)}, AssetConfig())
    ref = await store_manifest(store, reader, "default", upload)
    assert await reader.content_of("default", ref, sha256_hex(mine)) == mine
    # Content the store holds, in the same namespace, but of no file of this version.
    with pytest.raises(NotFound):
        await reader.content_of("default", ref, sha256_hex(theirs))
    # A node that never saw the deploy reads the manifest from the store.
    cold = AssetReader(store)
    assert (await cold.manifest("default", ref)).files == {"/a.txt": (sha256_hex(mine), 4)}
    assert await cold.content_of("default", ref, sha256_hex(mine)) == mine


async def test_a_manifest_naming_content_not_uploaded_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    await store.put_asset("team", sha256_hex(b"x"), b"x")
    upload = AssetsUpload({"/x": (sha256_hex(b"x"), 1)}, AssetConfig())
    # Uploaded in another namespace: not this one's.
    with pytest.raises(AssetMissing) as refused:
        await store_manifest(store, AssetReader(store), "default", upload)
    assert refused.value.details["missing"] == [sha256_hex(b"x")]


def test_the_byte_cache_is_bounded_by_bytes() -> None:
    cache = ByteCache(100)
    cache.put("big", b"x" * 26)  # over a quarter: not kept
    assert cache.get("big") is None
    for key in "abcde":
        cache.put(key, b"y" * 25)
    assert cache.size <= 100
    assert cache.get("a") is None
    assert cache.get("e") == b"y" * 25
