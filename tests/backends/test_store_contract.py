"""The ``FunctionStore`` contract, for every store: local directory and S3."""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest

from tests.backends.conftest import MotoS3, s3_client
from vortex.errors import FunctionNotFound, StorageUnavailable
from vortex.functions import FunctionRegistry
from vortex.storage.base import FunctionRecord, FunctionStore, sha256_hex
from vortex.storage.local import LocalStore
from vortex.storage.names import NamePointer, VersionRef
from vortex.storage.s3 import S3Store, record_key


def record_for(code: bytes, function_id: str | None = None) -> FunctionRecord:
    return FunctionRecord(
        id=function_id or str(uuid.uuid4()),
        code_sha256=sha256_hex(code),
        size=len(code),
        created_at="2026-01-01T00:00:00.000Z",
    )


async def test_put_then_get_record_and_code(store: FunctionStore) -> None:
    code = b"Vortex.return({hello: 'world'});"
    record = record_for(code)
    await store.put(record, code)
    assert await store.get_record(record.id) == record
    assert await store.get_code(record.code_sha256) == code


async def test_unknown_function_is_not_found(store: FunctionStore) -> None:
    with pytest.raises(FunctionNotFound):
        await store.get_record(str(uuid.uuid4()))
    with pytest.raises(FunctionNotFound):
        await store.delete(str(uuid.uuid4()))


async def test_missing_code_is_a_storage_fault_not_a_missing_function(
    store: FunctionStore,
) -> None:
    with pytest.raises(StorageUnavailable):
        await store.get_code(sha256_hex(b"never stored"))


async def test_functions_sharing_code_share_one_copy(store: FunctionStore) -> None:
    code = b"console.log('same')"
    first, second = record_for(code), record_for(code)
    await asyncio.gather(store.put(first, code), store.put(second, code))
    assert {r.id for r in await store.list_records()} == {first.id, second.id}
    assert await store.get_code(first.code_sha256) == code


async def test_list_and_delete(store: FunctionStore) -> None:
    assert await store.list_records() == []
    records = [record_for(f"console.log({i})".encode()) for i in range(5)]
    for record in records:
        await store.put(record, f"console.log({records.index(record)})".encode())
    assert sorted(r.id for r in await store.list_records()) == sorted(r.id for r in records)
    await store.delete(records[0].id)
    with pytest.raises(FunctionNotFound):
        await store.get_record(records[0].id)
    assert len(await store.list_records()) == 4
    # The code of a deleted function may be shared: it stays readable.
    assert await store.get_code(records[0].code_sha256) == b"console.log(0)"


async def test_unicode_code_round_trips(store: FunctionStore) -> None:
    code = 'console.log("🚀 Function starting...")'.encode()
    record = record_for(code)
    await store.put(record, code)
    assert (await store.get_code(record.code_sha256)).decode() == code.decode()


async def test_health_is_ok(store: FunctionStore) -> None:
    health = await store.health()
    assert health.ok, health
    assert health.backend in ("local", "s3")
    assert health.to_json()["ok"] is True


async def test_registry_serves_warm_runs_from_memory(store: FunctionStore) -> None:
    """Deploy through one registry (node A), load through another (node B): B reads the store
    once, then never again for that function."""
    node_a, node_b = FunctionRegistry(store), FunctionRegistry(store)
    record = await node_a.deploy("Vortex.return(1)")
    calls: list[str] = []
    original_record, original_code = store.get_record, store.get_code

    async def counting_record(function_id: str) -> FunctionRecord:
        calls.append("record")
        return await original_record(function_id)

    async def counting_code(code_sha256: str) -> bytes:
        calls.append("code")
        return await original_code(code_sha256)

    store.get_record = counting_record  # type: ignore[method-assign]
    store.get_code = counting_code  # type: ignore[method-assign]
    for _ in range(5):
        loaded, code = await node_b.load(record.id)
        assert loaded == record and code == "Vortex.return(1)"
    assert calls == ["record", "code"]


async def test_name_pointers_are_stored_replaced_and_deleted(store: FunctionStore) -> None:
    assert await store.get_pointer("default", "hello") is None
    first = VersionRef(1, str(uuid.uuid4()), "2026-01-01T00:00:00.000Z")
    pointer = NamePointer("default", "hello", 1, (first,))
    await store.put_pointer(pointer)
    assert await store.get_pointer("default", "hello") == pointer
    assert await store.get_pointer("acme", "hello") is None  # names are per namespace
    second = VersionRef(2, str(uuid.uuid4()), "2026-01-02T00:00:00.000Z")
    moved = pointer.with_version(second).activate(1)
    await store.put_pointer(moved)
    assert await store.get_pointer("default", "hello") == moved
    await store.delete_pointer("default", "hello")
    assert await store.get_pointer("default", "hello") is None
    await store.delete_pointer("default", "hello")  # deleting twice is fine


async def test_records_without_the_newer_fields_still_load() -> None:
    old = b'{"id": "a", "code_sha256": "b", "size": 1, "created_at": "2026-01-01T00:00:00.000Z"}'
    record = FunctionRecord.from_json(old)
    assert (record.namespace, record.name, record.version) == ("default", None, None)


async def test_named_deploys_make_versions_that_other_registries_see(
    store: FunctionStore,
) -> None:
    writer, reader = FunctionRegistry(store), FunctionRegistry(store)
    one = await writer.deploy("Vortex.return(1);", name="hello")
    two = await writer.deploy("Vortex.return(2);", name="hello")
    assert (one.version, two.version) == (1, 2)
    assert (await reader.resolve("hello", None)).id == two.id
    assert (await reader.resolve(one.id, None)).id == one.id  # a version by its own id
    await writer.rollback(two, None)
    assert (await reader.pointer("default", "hello", fresh=True)).active == 1
    listed = await reader.list()
    assert [r.id for r in listed if r.name == "hello"] == [one.id]
    deleted = await writer.delete(two)
    assert set(deleted.function_ids) == {one.id, two.id}
    # Another node's copy of the pointer may serve for up to POINTER_FRESH_FOR; then it is gone.
    for registry in (writer, FunctionRegistry(store)):
        with pytest.raises(FunctionNotFound):
            await registry.resolve("hello", None)
    with pytest.raises(FunctionNotFound):
        await store.get_record(one.id)


async def test_a_corrupt_record_is_skipped_and_reported(store: FunctionStore, moto: MotoS3) -> None:
    """One truncated record must not break the listing for everyone: it is skipped, logged,
    counted by ``health()``; reading it by id is a storage fault, not a crash."""
    code = b"Vortex.return(1)"
    good = record_for(code)
    await store.put(good, code)
    broken = record_for(code)
    await store.put(broken, code)
    truncated = orjson.dumps(broken.to_json())[:40]
    if isinstance(store, LocalStore):
        (store.functions_dir / f"{broken.id}.json").write_bytes(truncated)
    else:
        assert isinstance(store, S3Store)
        s3_client(moto).put_object(Bucket=store.bucket, Key=record_key(broken.id), Body=truncated)
    assert [r.id for r in await store.list_records()] == [good.id]
    assert [r.id for r in await FunctionRegistry(store).list()] == [good.id]
    with pytest.raises(StorageUnavailable):
        await store.get_record(broken.id)
    health = await store.health()
    assert health.details["corrupt_records"] == 1
    assert any(broken.id in path for path in health.details["corrupt_record_paths"])
    await store.delete(broken.id)
    assert "corrupt_records" not in (await store.health()).details


async def test_secrets_are_sealed_at_rest(store: FunctionStore, moto: MotoS3) -> None:
    secret = "v3ry-s3cret-" + uuid.uuid4().hex
    code = b"Vortex.return(Vortex.env.TOKEN)"
    record = FunctionRecord(
        id=str(uuid.uuid4()),
        code_sha256=sha256_hex(code),
        size=len(code),
        created_at="2026-01-01T00:00:00.000Z",
        secrets={"TOKEN": secret},
    )
    await store.put(record, code)
    if isinstance(store, LocalStore):
        stored = [p.read_bytes() for p in store.root.rglob("*") if p.is_file()]
    else:
        assert isinstance(store, S3Store)
        client = s3_client(moto)
        keys = [i["Key"] for i in client.list_objects_v2(Bucket=store.bucket)["Contents"]]
        assert not any("key" in k.rsplit("/", 1)[-1] for k in keys), keys  # the key is not there
        stored = [client.get_object(Bucket=store.bucket, Key=k)["Body"].read() for k in keys]
    assert stored and not any(secret.encode() in blob for blob in stored)
    assert (await store.get_record(record.id)).secrets == {"TOKEN": secret}
