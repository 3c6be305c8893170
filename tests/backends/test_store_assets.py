"""Static assets in every store (local directory, S3): kept per namespace, by content hash."""

from __future__ import annotations

from tests.backends.conftest import MotoS3, bucket_keys
from vortex.assets.manifest import sha256_hex
from vortex.storage.base import FunctionStore
from vortex.storage.s3 import S3Store


async def test_assets_are_kept_by_hash_per_namespace(store: FunctionStore) -> None:
    data = b"<h1>hello</h1>"
    digest = sha256_hex(data)
    assert not await store.has_asset("default", digest)
    assert await store.get_asset("default", digest) is None
    await store.put_asset("default", digest, data)
    await store.put_asset("default", digest, data)  # written once: a second put changes nothing
    assert await store.has_asset("default", digest)
    assert await store.get_asset("default", digest) == data
    # Another namespace neither sees nor reads it.
    assert not await store.has_asset("team", digest)
    assert await store.get_asset("team", digest) is None


async def test_s3_asset_keys(moto: MotoS3, bucket: str, store: FunctionStore) -> None:
    if not isinstance(store, S3Store):
        return
    digest = sha256_hex(b"x")
    await store.put_asset("team", digest, b"x")
    assert f"assets/team/{digest}" in bucket_keys(moto, bucket)
