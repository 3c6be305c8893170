"""R2 objects in every store (local directory, S3) through ``vortex.r2.service.R2``: the same
answers from both, keys of any text kept as hex names, per namespace and bucket, listings in
the byte order of the keys with prefixes, delimiters and cursors, long keys included."""

from __future__ import annotations

import pytest

from vortex.r2 import names
from vortex.r2.errors import R2InvalidArgument, R2InvalidKey, R2ObjectTooLarge
from vortex.r2.service import R2, R2Limits
from vortex.storage.base import FunctionStore

KEYS = [
    "a",
    "a/b",
    "a/c/d",
    "a\x00z",
    "../../etc/passwd",
    "é",
    "🚀",
    "k" * 1024,
    "k" * 500 + "a",
    "k" * 500 + "b",
    "k" * 399,
]


async def _all(r2: R2, ns: str, bucket: str, **options: object) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    prefixes: list[str] = []
    cursor = None
    while True:
        page = await r2.list(ns, bucket, {**options, **({"cursor": cursor} if cursor else {})})
        keys += [obj["key"] for obj in page["objects"]]
        prefixes += page["delimitedPrefixes"]
        if not page["truncated"]:
            return keys, prefixes
        cursor = page["cursor"]


async def test_objects_round_trip_and_list_in_key_order(store: FunctionStore) -> None:
    r2 = R2(store)
    for key in KEYS:
        head = await r2.put("team", "files", key, key.encode(), custom_metadata={"k": key[:8]})
        assert head is not None and head.key == key and head.size == len(key.encode())
    for key in KEYS:
        found = await r2.get("team", "files", key)
        assert found is not None and found.body == key.encode()
        assert found.head.custom_metadata == {"k": key[:8]}
    by_bytes = sorted(KEYS, key=lambda k: k.encode())
    short = [k for k in by_bytes if len(k.encode()) <= names.HEX_BYTES]
    listed, _ = await _all(r2, "team", "files")
    # Keys past 400 bytes that share their first 400 list by hash among themselves.
    assert [k for k in listed if len(k.encode()) <= names.HEX_BYTES] == short
    assert sorted(listed) == sorted(KEYS)
    for limit in (1, 2, 3):
        paged, _ = await _all(r2, "team", "files", limit=limit)
        assert paged == listed
    assert (await _all(r2, "team", "files", prefix="a/"))[0] == ["a/b", "a/c/d"]
    top, folders = await _all(r2, "team", "files", delimiter="/", limit=2)
    assert folders == ["../", "a/"] and "a/b" not in top and "a" in top
    # Their order is the hash's: the set is what a long prefix must give.
    assert set((await _all(r2, "team", "files", prefix="k" * 500))[0]) == {
        "k" * 1024,
        "k" * 500 + "a",
        "k" * 500 + "b",
    }


async def test_buckets_and_namespaces_are_apart(store: FunctionStore) -> None:
    r2 = R2(store)
    await r2.put("one", "shared", "x", b"one's")
    assert await r2.get("two", "shared", "x") is None
    assert await r2.get("one", "other", "x") is None
    assert (await r2.list("two", "shared", {}))["objects"] == []
    await r2.put("two", "shared", "x", b"two's")
    found = await r2.get("one", "shared", "x")
    assert found is not None and found.body == b"one's"
    await r2.delete("two", "shared", ["x"])
    assert await r2.head("one", "shared", "x") is not None


async def test_limits_and_deletes(store: FunctionStore) -> None:
    r2 = R2(store, R2Limits(max_object_bytes=10))
    with pytest.raises(R2ObjectTooLarge):
        await r2.put("ns", "b1", "k", b"x" * 11)
    with pytest.raises(R2InvalidKey):
        await r2.put("ns", "b1", "k" * 1025, b"x")
    with pytest.raises(R2InvalidKey):
        await r2.get("ns", "b1", "\ud800")
    with pytest.raises(R2InvalidArgument):
        await r2.list("ns", "b1", {"cursor": "bm90IGhleA"})
    await r2.put("ns", "b1", "k", b"0123456789")
    found = await r2.get("ns", "b1", "k", range_={"offset": 8})
    assert found is not None and found.body == b"89" and found.offset == 8 and found.ranged
    whole = await r2.get("ns", "b1", "k")
    assert whole is not None and not whole.ranged
    await r2.delete("ns", "b1", "k")
    await r2.delete("ns", "b1", "never-there")
    assert await r2.get("ns", "b1", "k") is None
