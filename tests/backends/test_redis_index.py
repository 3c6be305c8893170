"""The function index in Redis (S3 store + Redis), and an index that a failed write of this
node's own leaves wrong: both rebuilt from the records (issue 18), custom-domain routes
included."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable

import pytest
from click.testing import CliRunner

from tests.backends.conftest import MotoS3, RedisServer, bucket_keys, s3_env
from tests.backends.test_function_index import CODE, deploy, everything
from vortex.backends import make_store
from vortex.cli.main import cli
from vortex.config import Settings
from vortex.errors import StorageUnavailable
from vortex.functions import FunctionRegistry
from vortex.storage import index as index_module
from vortex.storage.base import FunctionRecord, FunctionStore
from vortex.storage.index import READY, ROOT, ROUTE, FunctionIndex
from vortex.storage.keyindex import KeyIndex
from vortex.storage.redis_index import PREFIX, RedisKeyIndex
from vortex.storage.s3 import S3Store


@pytest.fixture
async def redis_store(
    moto: MotoS3, bucket: str, redis_server: RedisServer
) -> AsyncIterator[S3Store]:
    store = make_store(Settings.from_env(s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)))
    assert isinstance(store, S3Store) and isinstance(store.index, RedisKeyIndex)
    yield store
    await store.close()


async def test_with_redis_a_deploy_writes_only_code_and_record_to_s3(
    redis_store: S3Store, moto: MotoS3, redis_server: RedisServer, bucket: str
) -> None:
    registry = FunctionRegistry(redis_store)
    await registry.index.ensure()
    before = len(moto.requests)
    plain = await deploy(registry, CODE, schedule="*/5 * * * *")
    assert [(r.method, r.path.split("/")[2]) for r in moto.requests[before:]] == [
        ("PUT", "code"),
        ("PUT", "functions"),
    ]
    before = len(moto.requests)
    await deploy(registry, "Vortex.return(2)", name="named", schedule="0 * * * *")
    newer = await deploy(registry, "Vortex.return(3)", name="named")
    requests = moto.requests[before:]
    # No LIST (a GET of the bucket) and nothing under index/: the pointer's GET and the PUTs.
    assert [r for r in requests if "/index/" in r.path or r.path.rstrip("/").count("/") < 2] == []
    assert sorted(r.method for r in requests) == ["GET", "GET", *["PUT"] * 6]
    members = {m.decode() for m in redis_server.client().zrange(f"{PREFIX}{bucket}", 0, -1)}
    assert READY in members and any(plain.id in m for m in members)
    assert [r.id for r in await everything(registry, 1)] == [newer.id, plain.id]
    assert await registry.index.schedules() == {
        plain.id: ("*/5 * * * *",),
        "name:default:named": ("0 * * * *",),
    }
    assert registry._name_locks == {}, "a name's lock outlived its deploys"


async def test_index_keys_lost_from_redis_are_rebuilt_from_the_s3_records(
    redis_store: S3Store,
    redis_server: RedisServer,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(index_module, "RECHECK_EVERY", 0.0)
    registry = FunctionRegistry(redis_store)
    unnamed = await deploy(registry, CODE, schedule="1 * * * *")
    await deploy(registry, CODE, name="named", schedule="2 * * * *")
    await deploy(registry, CODE, name="named")
    listed = [r.id for r in await everything(registry, 2)]
    keys = await redis_store.index.keys(ROOT)
    # Redis restarted without persistence, or was flushed, under a running node.
    redis_server.client().flushall()
    assert [r.id for r in await everything(registry, 2)] == listed
    assert await redis_store.index.keys(ROOT) == keys
    assert await registry.index.schedules() == {
        unnamed.id: ("1 * * * *",),
        "name:default:named": ("2 * * * *",),
    }


async def test_a_deploy_while_redis_is_down_is_listed_once_it_is_back(
    moto: MotoS3, bucket: str, redis_factory: Callable[[], RedisServer]
) -> None:
    server = redis_factory()
    store = make_store(Settings.from_env(s3_env(moto, bucket, REDIS_ADDR=server.addr)))
    try:
        registry = FunctionRegistry(store)
        first = await deploy(registry)
        server.stop()
        # The function is stored in S3 and runs; only its index entry could not be written.
        second = await deploy(registry, CODE, name="while-down")
        assert (await registry.resolve("while-down", None)).id == second.id
        with pytest.raises(StorageUnavailable):
            await registry.page()
        server.start()  # empty: no persistence
        assert [r.id for r in await everything(registry, 10)] == [second.id, first.id]
    finally:
        await store.close()


class FailingOnce:
    """The store's own index, whose next ``add`` fails as an unreachable backend does."""

    def __init__(self, keys: KeyIndex) -> None:
        self.inner = keys
        self.volatile = keys.volatile
        self.fail_next_add = True

    async def add(self, keys: Iterable[str]) -> None:
        if self.fail_next_add:
            self.fail_next_add = False
            raise StorageUnavailable("injected by the test")
        await self.inner.add(keys)

    async def remove(self, keys: Iterable[str]) -> None:
        await self.inner.remove(keys)

    async def keys(
        self, prefix: str, after: str | None = None, limit: int | None = None
    ) -> list[str]:
        return await self.inner.keys(prefix, after, limit)

    async def close(self) -> None:
        await self.inner.close()


async def test_an_index_write_that_failed_makes_it_rebuild(store: FunctionStore) -> None:
    registry = FunctionRegistry(store)
    kept = await deploy(registry)
    registry.index.keys = FailingOnce(store.index)
    # The deploy is stored: it succeeds, and the index it could not update is marked lost, on
    # this node and (its ready key gone) for every other.
    missed = await deploy(registry, CODE, schedule="4 * * * *")
    assert await store.index.keys(READY) == []
    assert [r.id for r in await everything(registry, 10)] == [missed.id, kept.id]
    assert await registry.index.schedules() == {missed.id: ("4 * * * *",)}
    assert await store.index.keys(READY) == [READY]


async def test_a_rebuild_keeps_what_is_deployed_while_it_reads_the_records(
    store: FunctionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = FunctionRegistry(store)
    first = await deploy(registry)
    await registry.index.ensure()
    listed = store.list_records
    late: list[FunctionRecord] = []

    async def list_then_deploy() -> list[FunctionRecord]:
        records = await listed()
        # Stored and indexed after the rebuild's listing, before it writes the index.
        late.append(await deploy(registry))
        return records

    monkeypatch.setattr(store, "list_records", list_then_deploy)
    await FunctionIndex(store.index, store).rebuild()
    assert [r.id for r in await everything(FunctionRegistry(store), 10)] == [late[0].id, first.id]


async def test_routes_in_the_redis_index_are_served_and_rebuilt(
    redis_store: S3Store,
    redis_server: RedisServer,
    moto: MotoS3,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(index_module, "RECHECK_EVERY", 0.0)
    registry = FunctionRegistry(redis_store)
    await deploy(registry, CODE, name="api", routes=["api.example.com/*"])
    await deploy(registry, CODE, name="v2", routes=["api.example.com/v2/*", "*.example.org/*"])
    members = {m.decode() for m in redis_server.client().zrange(f"{PREFIX}{bucket}", 0, -1)}
    routes = sorted(m for m in members if m.startswith(ROUTE))
    assert len(routes) == 3
    assert [k for k in bucket_keys(moto, bucket) if k.startswith(ROOT)] == []
    # Redis lost the set under a running node: the next read of the claims rebuilds it first.
    redis_server.client().flushall()
    registry.routes.stale()
    matched = await registry.routes.match("api.example.com", "/v2/x")
    assert (matched.claim.name, matched.paths) == ("v2", ("/v2/*", "/*"))
    assert await redis_store.index.keys(ROUTE) == routes
    # The operator's command finds the index where a server would (S3 + Redis), routes included.
    await redis_store.index.remove(routes)
    env = s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["index", "rebuild", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["routes"] == 3
    assert await redis_store.index.keys(ROUTE) == routes


async def test_a_route_claim_that_missed_the_index_is_served_after_a_rebuild(
    store: FunctionStore,
) -> None:
    registry = FunctionRegistry(store)
    await deploy(registry, CODE, name="api", routes=["api.example.com/*"])
    registry.index.keys = FailingOnce(store.index)
    # The new version is stored and active; only its claim's write failed.
    await deploy(registry, CODE, name="api", routes=["api.example.com/v2/*"])
    assert await store.index.keys(READY) == []
    matched = await registry.routes.match("api.example.com", "/v2/x")
    assert (matched.claim.name, matched.paths) == ("api", ("/v2/*",))
    assert await registry.index.routes() == [("api.example.com/v2/*", "default", "api")]
    assert await store.index.keys(READY) == [READY]
