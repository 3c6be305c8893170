"""What only the S3 store promises: its layout, atomic deploys, fast failure, integrity."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest

from tests.backends.conftest import (
    MotoS3,
    S3Request,
    blackhole,
    bucket_keys,
    free_port_no_listener,
    s3_client,
    s3_env,
)
from tests.backends.test_store_contract import record_for
from vortex.config import Settings
from vortex.errors import FunctionNotFound, StorageUnavailable
from vortex.storage.s3 import S3Store, code_key, record_key


@pytest.fixture
async def s3_store(moto: MotoS3, bucket: str) -> AsyncIterator[S3Store]:
    store = S3Store(Settings.from_env(s3_env(moto, bucket)))
    yield store
    await store.close()


async def test_layout_is_content_addressed_code_and_records(
    s3_store: S3Store, moto: MotoS3, bucket: str
) -> None:
    code = b"Vortex.return(42)"
    record = record_for(code)
    await s3_store.put(record, code)
    assert bucket_keys(moto, bucket) == [code_key(record.code_sha256), record_key(record.id)]
    assert code_key(record.code_sha256) == f"code/{record.code_sha256}.js"
    assert record_key(record.id) == f"functions/{record.id}.json"


async def test_bucket_is_created_when_missing_and_reused_when_present(
    moto: MotoS3, bucket: str
) -> None:
    client = s3_client(moto)
    assert bucket not in [b["Name"] for b in client.list_buckets()["Buckets"]]
    settings = Settings.from_env(s3_env(moto, bucket))
    for _ in range(2):  # the second node finds the bucket the first one made
        store = S3Store(settings)
        try:
            await store.put(record_for(b"1"), b"1")
        finally:
            await store.close()
    assert bucket in [b["Name"] for b in client.list_buckets()["Buckets"]]


async def test_code_is_written_once_then_only_records(
    s3_store: S3Store, moto: MotoS3, bucket: str
) -> None:
    code = b"console.log('shared')"
    await s3_store.put(record_for(code), code)
    before = len(moto.requests)
    await s3_store.put(record_for(code), code)
    puts = [r for r in moto.requests[before:] if r.method == "PUT"]
    assert [r.path.split("/")[2] for r in puts] == ["functions"]


async def test_failed_code_upload_leaves_no_record(
    s3_store: S3Store, moto: MotoS3, bucket: str
) -> None:
    def code_put(request: S3Request) -> bool:
        return request.method == "PUT" and "/code/" in request.path

    moto.fail = code_put
    code = b"Vortex.return('never')"
    record = record_for(code)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            await s3_store.put(record, code)
    finally:
        moto.fail = None
    assert raised.value.code == "storage_unavailable"
    assert bucket_keys(moto, bucket) == []
    with pytest.raises(FunctionNotFound):
        await s3_store.get_record(record.id)


async def test_failed_record_upload_leaves_only_unreferenced_code(
    s3_store: S3Store, moto: MotoS3, bucket: str
) -> None:
    def record_put(request: S3Request) -> bool:
        return request.method == "PUT" and "/functions/" in request.path

    moto.fail = record_put
    code = b"Vortex.return('half')"
    record = record_for(code)
    try:
        with pytest.raises(StorageUnavailable):
            await s3_store.put(record, code)
    finally:
        moto.fail = None
    # Nothing points at anything missing: the code is there, no record is.
    assert bucket_keys(moto, bucket) == [code_key(record.code_sha256)]
    with pytest.raises(FunctionNotFound):
        await s3_store.get_record(record.id)
    assert (await s3_store.health()).ok is True


async def test_code_that_does_not_match_its_hash_is_refused(
    s3_store: S3Store, moto: MotoS3, bucket: str
) -> None:
    code = b"Vortex.return('original')"
    record = record_for(code)
    await s3_store.put(record, code)
    s3_client(moto).put_object(
        Bucket=bucket, Key=code_key(record.code_sha256), Body=b"Vortex.return('tampered')"
    )
    with pytest.raises(StorageUnavailable, match="does not match its hash"):
        await s3_store.get_code(record.code_sha256)


async def test_stopped_server_fails_fast_as_storage_unavailable(
    moto_factory: Callable[[], MotoS3], bucket: str
) -> None:
    private = moto_factory()
    store = S3Store(Settings.from_env(s3_env(private, bucket)))
    try:
        await store.put(record_for(b"1"), b"1")
        private.stop()
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="unreachable"):
            await store.put(record_for(b"2"), b"2")
        assert time.monotonic() - started < 3
        health = await store.health()
        assert not health.ok and health.error and "unreachable" in health.error
    finally:
        await store.close()


@pytest.mark.parametrize("fault", ["refused", "blackhole"])
async def test_unreachable_endpoint_fails_within_the_timeouts(fault: str) -> None:
    """Connection refused, and a server that accepts nothing (a hung host): both answer
    StorageUnavailable within the configured timeouts, not botocore's minutes."""
    hole = None
    if fault == "blackhole":
        hole, port = blackhole()
    else:
        port = free_port_no_listener()
    env = {
        "VORTEX_S3_ENDPOINT": f"http://127.0.0.1:{port}",
        "VORTEX_S3_ACCESS_KEY": "x",
        "VORTEX_S3_SECRET_KEY": "y",
        "VORTEX_S3_CONNECT_TIMEOUT_MS": "300",
        "VORTEX_S3_READ_TIMEOUT_MS": "300",
        "VORTEX_S3_MAX_ATTEMPTS": "2",
    }
    store = S3Store(Settings.from_env(env))
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            await store.get_record("0b3e4a6f-1d51-4a43-9f0a-6a0f0c5f4f11")
        elapsed = time.monotonic() - started
        # Two attempts of at most 0.3 s each, plus botocore's backoff between them.
        assert elapsed < 3, elapsed
    finally:
        await store.close()
        if hole is not None:
            hole.close()
