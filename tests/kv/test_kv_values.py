"""Byte values and metadata, as every KV backend keeps them (SQLite and a real Redis)."""

from __future__ import annotations

import asyncio

from vortex.kv import KV, KVEntry

FN = "11111111-1111-4111-8111-111111111111"
EVERY_BYTE = bytes(range(256))


async def test_every_byte_value_round_trips(kv: KV) -> None:
    await kv.put(FN, "bin", EVERY_BYTE * 3)
    await kv.put(FN, "nul", b"a\x00b")
    await kv.put(FN, "empty", b"")
    assert await kv.get_entry(FN, "bin") == KVEntry(EVERY_BYTE * 3, None)
    assert await kv.get_entry(FN, "nul") == KVEntry(b"a\x00b", None)
    assert await kv.get_entry(FN, "empty") == KVEntry(b"", None)
    # Read as text, bytes that are not UTF-8 become U+FFFD, as Workers KV's TextDecoder does.
    assert await kv.get(FN, "bin") == (EVERY_BYTE * 3).decode("utf-8", "replace")
    assert await kv.get(FN, "nul") == "a\x00b"


async def test_text_and_bytes_are_the_same_value(kv: KV) -> None:
    await kv.put(FN, "t", "héllo 🚀")
    assert await kv.get_entry(FN, "t") == KVEntry("héllo 🚀".encode(), None)
    await kv.put(FN, "b", "héllo 🚀".encode())
    assert await kv.get(FN, "b") == "héllo 🚀"
    await kv.put(FN, "view", memoryview(b"xyz")[1:])
    assert await kv.get(FN, "view") == "yz"


async def test_metadata_round_trips_and_a_put_without_it_drops_it(kv: KV) -> None:
    metadata = {"owner": "Ada", "tags": ["a", "ü"], "n": 4.5, "ok": True, "none": None}
    await kv.put(FN, "k", EVERY_BYTE, metadata=metadata)
    entry = await kv.get_entry(FN, "k")
    assert entry is not None and entry.value == EVERY_BYTE
    assert entry.metadata_value() == metadata
    for scalar in ("just text", 0, [1, 2], False):
        await kv.put(FN, "scalar", "v", metadata=scalar)
        assert (await kv.get_entry(FN, "scalar")).metadata_value() == scalar  # type: ignore[union-attr]
    await kv.put(FN, "k", "replaced")
    assert await kv.get_entry(FN, "k") == KVEntry(b"replaced", None)


async def test_delete_removes_the_metadata(kv: KV) -> None:
    await kv.put(FN, "k", "v", metadata={"m": 1})
    await kv.delete(FN, "k")
    assert await kv.get_entry(FN, "k") is None
    await kv.put(FN, "k", "again")
    assert await kv.get_entry(FN, "k") == KVEntry(b"again", None)
    assert (await kv.list(FN)).to_json()["keys"] == [{"name": "k"}]


async def test_list_reports_metadata_and_expiration_per_key(kv: KV) -> None:
    await kv.put(FN, "a", "1", metadata={"kind": "first"})
    await kv.put(FN, "b", b"\xff", metadata="second", expiration_ttl=100)
    await kv.put(FN, "c", "3")
    keys = (await kv.list(FN)).to_json()["keys"]
    assert keys[0] == {"name": "a", "metadata": {"kind": "first"}}
    assert keys[1]["metadata"] == "second" and isinstance(keys[1]["expiration"], int)
    assert keys[2] == {"name": "c"}


async def test_metadata_expires_with_its_value(kv: KV) -> None:
    await kv.put(FN, "k", "v", metadata={"m": 1}, expiration_ttl=1)
    await asyncio.sleep(1.3)
    assert await kv.get_entry(FN, "k") is None
    assert (await kv.list(FN)).keys == []
    await kv.put(FN, "k", "new")
    assert await kv.get_entry(FN, "k") == KVEntry(b"new", None)


async def test_deleting_a_function_removes_its_metadata_too(kv: KV) -> None:
    await kv.put(FN, "k", b"\x00\xff", metadata={"m": 1})
    assert await kv.delete_function(FN) == 1
    await kv.put(FN, "k", "plain")
    assert await kv.get_entry(FN, "k") == KVEntry(b"plain", None)
