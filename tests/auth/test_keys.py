"""Tokens, and the key stores (a file, a real Redis) through ``ApiKeys``."""

from __future__ import annotations

import asyncio
import hashlib
import stat
import sys
from pathlib import Path

import pytest

from tests.server import REPO
from vortex.auth import ApiKeys
from vortex.auth.errors import ApiKeyNotFound, AuthUnavailable, InvalidNamespace
from vortex.auth.local import FileKeyStore
from vortex.auth.tokens import check_namespace, looks_like_token, new_token, token_digest


def test_tokens() -> None:
    token = new_token("acme")
    assert token.startswith("vx_acme_") and len(token) == len("vx_acme_") + 43
    assert looks_like_token(token)
    assert new_token("acme") != token
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    for bad in ["", "Bearer", "vx_", "vx_a_" + "x" * 300, "vx_acme_ünïcode-ünïcode-ünïcode"]:
        assert not looks_like_token(bad)


@pytest.mark.parametrize("name", ["a", "acme", "team-42", "x" * 40])
def test_valid_namespaces(name: str) -> None:
    assert check_namespace(name) == name


@pytest.mark.parametrize("name", ["", "-a", "a-", "Acme", "a_b", "a.b", "x" * 41, "a b"])
def test_invalid_namespaces(name: str) -> None:
    with pytest.raises(InvalidNamespace) as caught:
        check_namespace(name)
    assert caught.value.code == "invalid_namespace"


async def test_create_find_list_revoke(api_keys: ApiKeys) -> None:
    assert not await api_keys.enabled()
    key, token = await api_keys.create("acme", note="ci")
    other, other_token = await api_keys.create("globex")
    metrics, metrics_token = await api_keys.create(None, scope="metrics")
    assert await api_keys.enabled()
    assert token.startswith("vx_acme_") and metrics_token.startswith("vx_metrics_")
    assert key.digest == token_digest(token) and token not in repr(key)
    assert await api_keys.authenticate(token) == key
    assert await api_keys.authenticate(other_token) == other
    assert (await api_keys.authenticate(metrics_token)) == metrics
    assert metrics.namespace is None and metrics.scope == "metrics"
    assert await api_keys.authenticate(token + "x") is None
    assert await api_keys.authenticate("not a token") is None
    assert {k.id for k in await api_keys.list()} == {key.id, other.id, metrics.id}
    assert "digest" not in key.public_json()
    assert (await api_keys.revoke(key.id)) == key
    assert await api_keys.authenticate(token) is None
    with pytest.raises(ApiKeyNotFound):
        await api_keys.revoke(key.id)
    await api_keys.revoke(other.id)
    await api_keys.revoke(metrics.id)
    assert not await api_keys.enabled()
    assert (await api_keys.health()).ok


async def test_the_store_never_holds_a_token(api_keys: ApiKeys, tmp_path: Path) -> None:
    _, token = await api_keys.create("acme")
    secret = token.removeprefix("vx_").split("_", 1)[1]  # the random part may hold "_"
    store = api_keys.store
    if isinstance(store, FileKeyStore):
        text = store.path.read_text()
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    else:
        client = store._redis  # type: ignore[attr-defined]
        text = repr(await client.hgetall("vortex:auth:keys"))
    assert secret not in text and token_digest(token) in text


async def test_checks_are_cached_for_a_while(tmp_path: Path) -> None:
    now = [100.0]
    keys = ApiKeys(FileKeyStore(tmp_path), cache_seconds=2, clock=lambda: now[0])
    writer = ApiKeys(FileKeyStore(tmp_path), cache_seconds=0)
    assert not await keys.enabled()
    key, token = await writer.create("acme")
    assert not await keys.enabled()  # cached "no keys"
    now[0] += 2
    assert await keys.enabled()
    assert await keys.authenticate(token) == key
    await writer.revoke(key.id)
    assert await keys.authenticate(token) == key  # cached, for up to 2 s
    now[0] += 2
    assert await keys.authenticate(token) is None


async def test_a_damaged_file_fails_closed(tmp_path: Path) -> None:
    keys = ApiKeys(FileKeyStore(tmp_path), cache_seconds=0)
    (tmp_path / "api-keys.json").write_text("{not json")
    with pytest.raises(AuthUnavailable) as caught:
        await keys.enabled()
    assert caught.value.status == 503 and caught.value.code == "auth_unavailable"
    assert not (await keys.health()).ok


async def test_redis_outage_fails_closed(redis_server: object) -> None:
    from tests.fixtures.redis import RedisServer
    from vortex.auth.redis import RedisKeyStore

    assert isinstance(redis_server, RedisServer)
    keys = ApiKeys(RedisKeyStore(redis_server.url), cache_seconds=0)
    try:
        _, token = await keys.create("acme")
        redis_server.stop()
        with pytest.raises(AuthUnavailable):
            await keys.enabled()
        with pytest.raises(AuthUnavailable):
            await keys.authenticate(token)
    finally:
        await keys.close()


CREATOR = """
import asyncio, sys
from pathlib import Path
from vortex.auth import ApiKeys
from vortex.auth.local import FileKeyStore

async def main():
    keys = ApiKeys(FileKeyStore(Path(sys.argv[1])), cache_seconds=0)
    for _ in range(15):
        await keys.create(sys.argv[2])

asyncio.run(main())
"""


async def test_concurrent_creators_lose_no_key(tmp_path: Path) -> None:
    creators = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", CREATOR, str(tmp_path), name, cwd=REPO
        )
        for name in ("one", "two", "three")
    ]
    async with asyncio.timeout(60):
        for creator in creators:
            assert await creator.wait() == 0
    found = await ApiKeys(FileKeyStore(tmp_path), cache_seconds=0).list()
    assert len(found) == 45
    assert {k.namespace for k in found} == {"one", "two", "three"}
