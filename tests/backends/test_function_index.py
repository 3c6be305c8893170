"""The function index on every store (local directory, S3): pages, cursors, prefixes, the
schedule index, and rebuilds from the records."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from vortex.errors import InvalidCursor
from vortex.functions import FunctionRegistry
from vortex.storage.base import FunctionRecord, FunctionStore
from vortex.storage.index import READY, ROOT, FunctionIndex

CODE = "Vortex.return(1)"


async def everything(
    registry: FunctionRegistry, limit: int, namespace: str | None = None, prefix: str = ""
) -> list[FunctionRecord]:
    found: list[FunctionRecord] = []
    cursor: str | None = None
    while True:
        page, cursor = await registry.page(namespace, limit, cursor, prefix)
        assert len(page) <= limit
        found.extend(page)
        if cursor is None:
            return found


async def deploy(registry: FunctionRegistry, code: str = CODE, **options: Any) -> FunctionRecord:
    """Apart by more than the millisecond that orders the list (ties are ordered by id)."""
    await asyncio.sleep(0.002)
    return await registry.deploy(code, **options)


def slot(record: FunctionRecord) -> str:
    return record.name or record.id


async def test_cursors_lose_and_repeat_nothing_while_functions_come_and_go(
    store: FunctionStore,
) -> None:
    registry = FunctionRegistry(store)
    shuffle = random.Random(18)
    stable: list[FunctionRecord] = []
    doomed: list[FunctionRecord] = []
    for i in range(24):
        name = f"fn-{i}" if i % 3 == 0 else None
        record = await deploy(registry, CODE, name=name)
        (doomed if i % 4 == 1 else stable).append(record)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = await registry.page(limit=5, cursor=cursor)
        seen.extend(slot(r) for r in page)
        pages += 1
        # Between pages: new functions, new versions and rollbacks of names not shown yet (they
        # keep their place), and deletions of some not shown yet.
        await deploy(registry)
        await deploy(registry, CODE, name=f"new-{pages}")
        unseen_names = [r for r in stable if r.name and r.name not in seen]
        if unseen_names:
            newer = await deploy(registry, "Vortex.return(2)", name=unseen_names[0].name)
            if pages % 2:
                await registry.rollback(newer, None)
        if doomed:
            await registry.delete(doomed.pop(shuffle.randrange(len(doomed))))
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a function was listed twice"
    assert {slot(r) for r in stable} <= set(seen), "a function was lost"
    # Newest first: what existed throughout comes in the reverse order of its deploys.
    order = [s for s in seen if s in {slot(r) for r in stable}]
    assert order == [slot(r) for r in reversed(stable)]


async def test_limits_and_the_end_of_the_list(store: FunctionStore) -> None:
    registry = FunctionRegistry(store)
    assert await registry.page() == ([], None)
    deployed = [await deploy(registry) for _ in range(7)]
    page, cursor = await registry.page(limit=7)
    assert [r.id for r in page] == [r.id for r in reversed(deployed)] and cursor is None
    page, cursor = await registry.page(limit=3)
    assert len(page) == 3 and cursor is not None
    assert [r.id for r in await everything(registry, 2)] == [r.id for r in reversed(deployed)]
    with pytest.raises(InvalidCursor):
        await registry.page(cursor="not-a-cursor")


async def test_prefix_matches_names_and_ids_newest_first(store: FunctionStore) -> None:
    registry = FunctionRegistry(store)
    alpha = [await deploy(registry, CODE, name=f"alpha-{i}") for i in range(5)]
    await deploy(registry, CODE, name="beta")
    unnamed = await deploy(registry)
    found = await everything(registry, 2, prefix="alpha")
    assert [r.name for r in found] == [r.name for r in reversed(alpha)]
    assert [r.id for r in await everything(registry, 2, prefix=unnamed.id[:8])] == [unnamed.id]
    assert await everything(registry, 2, prefix="gamma") == []
    # A new version keeps the name's place, and shows the active version.
    newer = await deploy(registry, "Vortex.return(2)", name="alpha-0")
    found = await everything(registry, 10, prefix="alpha")
    assert found[-1].id == newer.id and found[-1].version == 2


async def test_namespaces_see_their_own_and_the_operator_sees_all(store: FunctionStore) -> None:
    registry = FunctionRegistry(store)
    ours = await deploy(registry, CODE, namespace="ours", name="same")
    theirs = await deploy(registry, CODE, namespace="theirs", name="same")
    assert [r.id for r in await everything(registry, 1, "ours")] == [ours.id]
    assert [r.id for r in await everything(registry, 1, None)] == [theirs.id, ours.id]
    _, cursor = await registry.page("ours", 1)
    assert cursor is None
    _, cursor = await registry.page(None, 1)
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        await registry.page("ours", 1, cursor)


async def test_the_schedule_index_follows_deploys_rollbacks_and_deletes(
    store: FunctionStore,
) -> None:
    registry = FunctionRegistry(store)
    index = registry.index
    plain = await deploy(registry, CODE, schedule="*/5 * * * *")
    await deploy(registry)
    first = await deploy(registry, CODE, name="ticker", schedule="0 * * * *")
    assert await index.schedules() == {
        plain.id: ("*/5 * * * *",),
        "name:default:ticker": ("0 * * * *",),
    }
    # A new version keeps the schedule unless it clears it (docs/versions.md).
    kept = await deploy(registry, CODE, name="ticker")
    assert (await index.schedules())["name:default:ticker"] == ("0 * * * *",)
    second = await deploy(registry, CODE, name="ticker", schedule=None)
    assert await index.schedules() == {plain.id: ("*/5 * * * *",)}
    await registry.rollback(second, kept.version)
    assert (await index.schedules())["name:default:ticker"] == ("0 * * * *",)
    await registry.delete(first)
    await registry.delete(plain)
    assert await index.schedules() == {}


async def test_the_route_index_follows_deploys_rollbacks_deletes_and_rebuilds(
    store: FunctionStore,
) -> None:
    registry = FunctionRegistry(store)
    index = registry.index
    first = await deploy(registry, CODE, name="api", routes=["api.example.com/*"])
    await deploy(registry, CODE, name="v2", routes=["api.example.com/v2/*", "*.example.org/*"])
    assert sorted(await index.routes()) == [
        ("*.example.org/*", "default", "v2"),
        ("api.example.com/*", "default", "api"),
        ("api.example.com/v2/*", "default", "v2"),
    ]
    matched = await registry.routes.match("api.example.com", "/v2/x?y=1")
    assert (matched.claim.name, matched.paths) == ("v2", ("/v2/*", "/*"))
    # Kept by a version that does not set them, cleared by one that does, back by a rollback.
    kept = await deploy(registry, CODE, name="api")
    assert kept.routes == ("api.example.com/*",)
    cleared = await deploy(registry, CODE, name="api", routes=())
    assert ("api.example.com/*", "default", "api") not in await index.routes()
    await registry.rollback(cleared, kept.version)
    assert ("api.example.com/*", "default", "api") in await index.routes()

    # A lost index is made again with the active versions' routes.
    everything_before = sorted(await store.index.keys(ROOT))
    await store.index.remove(everything_before)
    rebuilt = await FunctionIndex(store.index, store).rebuild()
    assert rebuilt.routes == 3
    assert set(await store.index.keys(ROOT)) - {READY} == set(everything_before) - {READY}
    await registry.delete(first)
    assert [name for _, _, name in await index.routes()] == ["v2", "v2"]


async def test_a_lost_index_is_rebuilt_from_the_records(store: FunctionStore) -> None:
    registry = FunctionRegistry(store)
    unnamed = await deploy(registry, CODE, schedule="1 * * * *")
    await deploy(registry, CODE, name="named", schedule="2 * * * *")
    named = await deploy(registry, CODE, name="named")
    await registry.rollback(named, 1)
    listed = [r.id for r in await everything(registry, 10)]
    before = await store.index.keys(ROOT)
    assert READY in before

    await store.index.remove(before)
    # A server that starts finds no index, and rebuilds it before its first listing.
    fresh = FunctionRegistry(store)
    assert [r.id for r in await everything(fresh, 10)] == listed
    assert await store.index.keys(ROOT) == before
    assert await fresh.index.schedules() == {
        unnamed.id: ("1 * * * *",),
        "name:default:named": ("2 * * * *",),
    }


async def test_a_wrong_index_is_repaired_by_a_rebuild(store: FunctionStore) -> None:
    registry = FunctionRegistry(store)
    kept = await deploy(registry)
    gone = await deploy(registry, CODE, schedule="3 * * * *")
    right = await store.index.keys(ROOT)
    # A failure left a deleted function's entries behind, and lost another's.
    await store.delete(gone.id)
    lost = [k for k in right if kept.id in k]
    await store.index.remove(lost)
    index = FunctionIndex(store.index, store)
    rebuilt = await index.rebuild()
    assert (rebuilt.functions, rebuilt.schedules) == (1, 0)
    assert rebuilt.added == len(lost) and rebuilt.removed == len(right) - len(lost)
    assert await store.index.keys(READY) == [READY]
    assert [r.id for r in await everything(FunctionRegistry(store), 10)] == [kept.id]


async def test_a_listing_drops_entries_of_functions_gone_since(store: FunctionStore) -> None:
    registry = FunctionRegistry(store)
    kept = await deploy(registry)
    gone = await deploy(registry)
    await store.delete(gone.id)  # behind the registry's back: its entries stay
    fresh = FunctionRegistry(store)
    page, cursor = await fresh.page(limit=1)
    assert [r.id for r in page] == [kept.id] and cursor is None
    assert not [k for k in await store.index.keys(ROOT) if gone.id in k]
