"""What every KV backend does, run against SQLite and a real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from vortex.kv import KV, service
from vortex.kv.errors import KVInvalidKey, KVKeyTooLong, KVValueTooLarge

FN = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"


async def test_put_get_overwrite_delete(kv: KV) -> None:
    assert await kv.get(FN, "greeting") is None
    await kv.put(FN, "greeting", "hello")
    assert await kv.get(FN, "greeting") == "hello"
    await kv.put(FN, "greeting", '{"json": "is text here"}')
    assert await kv.get(FN, "greeting") == '{"json": "is text here"}'
    await kv.delete(FN, "greeting")
    assert await kv.get(FN, "greeting") is None
    await kv.delete(FN, "greeting")  # deleting an absent key is fine


async def test_a_bulk_get_answers_each_key_in_order(kv: KV) -> None:
    await kv.put(FN, "a", "apple", metadata={"n": 1})
    await kv.put(FN, "b", "")
    await kv.put(OTHER, "c", "not this function's")
    entries = await kv.get_entries(FN, ["b", "c", "a"])
    assert [None if e is None else (e.text(), e.metadata_value()) for e in entries] == [
        ("", None),
        None,
        ("apple", {"n": 1}),
    ]
    # Every key is checked before any is read; 1 to 100 keys.
    for keys in (["a", ""], [], ["k"] * 101, "a"):
        with pytest.raises(KVInvalidKey):
            await kv.get_entries(FN, keys)
    with pytest.raises(KVKeyTooLong):
        await kv.get_entries(FN, ["a", "k" * 513])


async def test_a_bulk_get_is_bounded_in_bytes(kv: KV, monkeypatch: pytest.MonkeyPatch) -> None:
    # What one answer may carry to a host: a value limit raised far enough would pass it.
    monkeypatch.setattr(service, "MAX_BULK_BYTES", 10)
    await kv.put(FN, "a", "12345")
    await kv.put(FN, "b", "123456")
    assert len(await kv.get_entries(FN, ["a", "a"])) == 2
    with pytest.raises(KVValueTooLarge):
        await kv.get_entries(FN, ["a", "b"])


async def test_unicode_and_empty_values(kv: KV) -> None:
    await kv.put(FN, "clé ☃", "välue 🚀")
    await kv.put(FN, "empty", "")
    assert await kv.get(FN, "clé ☃") == "välue 🚀"
    assert await kv.get(FN, "empty") == ""


async def test_functions_do_not_see_each_others_keys(kv: KV) -> None:
    await kv.put(FN, "shared-name", "mine")
    await kv.put(OTHER, "shared-name", "theirs")
    assert await kv.get(FN, "shared-name") == "mine"
    assert await kv.get(OTHER, "shared-name") == "theirs"
    assert [k.name for k in (await kv.list(OTHER)).keys] == ["shared-name"]
    await kv.delete(OTHER, "shared-name")
    assert await kv.get(FN, "shared-name") == "mine"


async def test_list_is_in_byte_order_with_prefix(kv: KV) -> None:
    names = ["b", "a", "a/2", "a/10", "a/1", "é", "z", "A", "a0"]
    for name in names:
        await kv.put(FN, name, name)
    listed = await kv.list(FN)
    assert [k.name for k in listed.keys] == sorted(names, key=str.encode)
    assert listed.list_complete and listed.cursor is None
    by_prefix = await kv.list(FN, prefix="a/")
    assert [k.name for k in by_prefix.keys] == ["a/1", "a/10", "a/2"]
    assert (await kv.list(FN, prefix="nothing")).to_json() == {
        "keys": [],
        "list_complete": True,
        "cursor": None,
    }


async def test_list_pages_with_a_cursor(kv: KV) -> None:
    names = [f"user:{i:03d}" for i in range(25)] + ["zzz"]
    for name in names:
        await kv.put(FN, name, "x")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await kv.list(FN, prefix="user:", limit=10, cursor=cursor)
        pages += 1
        seen += [k.name for k in page.keys]
        if page.list_complete:
            assert page.cursor is None
            break
        assert page.cursor is not None and len(page.keys) == 10
        cursor = page.cursor
    assert seen == names[:25]
    assert pages == 3
    # Exactly `limit` keys left: the page says it is complete, no empty page follows.
    exact = await kv.list(FN, prefix="user:", limit=25)
    assert exact.list_complete and len(exact.keys) == 25


async def test_ttl_expires_and_is_listed(kv: KV) -> None:
    before = time.time()
    await kv.put(FN, "session", "s", expiration_ttl=1)
    await kv.put(FN, "forever", "f")
    listed = {k.name: k.expiration for k in (await kv.list(FN)).keys}
    assert listed["forever"] is None
    expiration = listed["session"]
    assert expiration is not None and before - 1 <= expiration <= before + 2
    assert await kv.get(FN, "session") == "s"
    await asyncio.sleep(1.3)
    assert await kv.get(FN, "session") is None
    assert [k.name for k in (await kv.list(FN)).keys] == ["forever"]


async def test_put_without_ttl_clears_an_earlier_ttl(kv: KV) -> None:
    await kv.put(FN, "k", "1", expiration_ttl=1)
    await kv.put(FN, "k", "2")
    await asyncio.sleep(1.3)
    assert await kv.get(FN, "k") == "2"
    assert (await kv.list(FN)).keys[0].expiration is None


async def test_absolute_expiration(kv: KV) -> None:
    await kv.put(FN, "k", "v", expiration=time.time() + 100)
    expiration = (await kv.list(FN)).keys[0].expiration
    assert expiration is not None and abs(expiration - (time.time() + 100)) <= 2


async def test_delete_function_removes_only_its_keys(kv: KV) -> None:
    for i in range(30):
        await kv.put(FN, f"k{i}", "v", expiration_ttl=100 if i % 2 else None)
    await kv.put(OTHER, "k1", "v")
    assert await kv.delete_function(FN) == 30
    assert (await kv.list(FN)).keys == []
    assert await kv.get(FN, "k1") is None
    assert await kv.get(OTHER, "k1") == "v"


async def test_two_nodes_share_the_data(make_node_kv: Callable[[], KV]) -> None:
    a, b = make_node_kv(), make_node_kv()
    await a.put(FN, "counter", "1")
    assert await b.get(FN, "counter") == "1"
    await b.delete(FN, "counter")
    assert await a.get(FN, "counter") is None


async def test_concurrent_puts_all_land(kv: KV) -> None:
    await asyncio.gather(*(kv.put(FN, f"k{i:03d}", str(i)) for i in range(100)))
    page = await kv.list(FN)
    assert len(page.keys) == 100
    assert await kv.get(FN, "k042") == "42"


async def test_health(kv: KV) -> None:
    health = await kv.health()
    assert health.ok, health
    assert health.backend in ("sqlite", "redis")


@pytest.mark.parametrize("limit", [1, 2])
async def test_pages_of_one_or_two(kv: KV, limit: int) -> None:
    for name in "abcde":
        await kv.put(FN, name, name)
    seen = []
    cursor = None
    while True:
        page = await kv.list(FN, limit=limit, cursor=cursor)
        seen += [k.name for k in page.keys]
        if page.list_complete:
            break
        cursor = page.cursor
    assert seen == list("abcde")
