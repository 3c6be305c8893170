"""The documented limits and their error codes, checked once for every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from vortex.errors import VortexError
from vortex.kv import KV, KVEntry, KVLimits
from vortex.kv.service import encode_cursor
from vortex.kv.sqlite import SqliteKVStore

FN = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
async def kv(tmp_path: Path) -> AsyncIterator[KV]:
    store = KV(SqliteKVStore(tmp_path), KVLimits(max_key_bytes=8, max_value_bytes=16))
    yield store
    await store.close()


async def code_of(call: object) -> tuple[int, str]:
    with pytest.raises(VortexError) as caught:
        await call  # type: ignore[misc]
    return caught.value.status, caught.value.code


async def test_key_limits(kv: KV) -> None:
    await kv.put(FN, "12345678", "ok")  # exactly the limit
    assert await code_of(kv.put(FN, "123456789", "v")) == (414, "kv_key_too_long")
    assert await code_of(kv.put(FN, "ééééé", "v")) == (414, "kv_key_too_long")  # bytes count
    assert await code_of(kv.get(FN, "123456789")) == (414, "kv_key_too_long")
    assert await code_of(kv.put(FN, "", "v")) == (400, "kv_invalid_key")
    assert await code_of(kv.get(FN, "\ud800")) == (400, "kv_invalid_key")
    assert await code_of(kv.delete(FN, 5)) == (400, "kv_invalid_key")  # type: ignore[arg-type]


async def test_value_limits(kv: KV) -> None:
    await kv.put(FN, "k", "x" * 16)
    assert await code_of(kv.put(FN, "k", "x" * 17)) == (413, "kv_value_too_large")
    assert await code_of(kv.put(FN, "k", "é" * 9)) == (413, "kv_value_too_large")
    assert await code_of(kv.put(FN, "k", {"a": 1})) == (400, "kv_invalid_value")  # type: ignore[arg-type]
    assert await kv.get(FN, "k") == "x" * 16


async def test_the_value_limit_counts_bytes_too(kv: KV) -> None:
    await kv.put(FN, "k", bytes(range(16)))
    assert await code_of(kv.put(FN, "k", bytes(17))) == (413, "kv_value_too_large")
    assert await code_of(kv.put(FN, "k", bytearray(17))) == (413, "kv_value_too_large")
    assert await kv.get_entry(FN, "k") == KVEntry(bytes(range(16)), None)


async def test_metadata_limits(kv: KV) -> None:
    # 1024 bytes of JSON exactly: the string's 1022 characters and its two quotes.
    await kv.put(FN, "k", "v", metadata="m" * 1022)
    assert await code_of(kv.put(FN, "k", "v", metadata="m" * 1023)) == (
        413,
        "kv_metadata_too_large",
    )
    # Bytes of UTF-8 are counted, not characters.
    assert await code_of(kv.put(FN, "k", "v", metadata={"é": "é" * 510})) == (
        413,
        "kv_metadata_too_large",
    )
    assert await code_of(kv.put(FN, "k", "v", metadata={1: "not a string key"})) == (
        400,
        "kv_invalid_metadata",
    )
    assert await code_of(kv.put(FN, "k", "v", metadata=1 << 70)) == (400, "kv_invalid_metadata")
    entry = await kv.get_entry(FN, "k")
    assert entry is not None and entry.metadata_value() == "m" * 1022


@pytest.mark.parametrize(
    "options",
    [
        {"expiration_ttl": 0},
        {"expiration_ttl": -5},
        {"expiration_ttl": float("nan")},
        {"expiration_ttl": "60"},
        {"expiration_ttl": True},
        {"expiration_ttl": 10 * 366 * 24 * 3600},
        {"expiration": 1000},
        {"expiration_ttl": 60, "expiration": 2_000_000_000},
    ],
)
async def test_invalid_expirations(kv: KV, options: dict[str, object]) -> None:
    assert await code_of(kv.put(FN, "k", "v", **options)) == (400, "kv_invalid_expiration")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": 2.5},
        {"limit": True},
        {"prefix": 3},
        {"cursor": "garbage"},
        {"cursor": "k1.!!!"},
        {"cursor": encode_cursor("other/x"), "prefix": "mine/"},
    ],
)
async def test_invalid_list_options(kv: KV, options: dict[str, object]) -> None:
    assert await code_of(kv.list(FN, **options)) == (400, "kv_invalid_list_option")  # type: ignore[arg-type]


def test_limits_come_from_the_settings() -> None:
    from vortex.config import Settings

    settings = Settings.from_env(
        {
            "VORTEX_KV_MAX_KEY_BYTES": "64",
            "VORTEX_KV_MAX_VALUE_BYTES": "1024",
            "VORTEX_KV_MAX_LIST": "50",
        }
    )
    assert KVLimits.from_settings(settings) == KVLimits(64, 1024, 50)
    assert KVLimits.from_settings(Settings()) == KVLimits(512, 128 << 10, 1000, 1024)
