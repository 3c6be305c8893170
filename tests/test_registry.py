"""FunctionRegistry: warm runs are served from memory, never from storage."""

from __future__ import annotations

from pathlib import Path

from vortex.functions import FunctionRegistry
from vortex.storage.base import FunctionRecord
from vortex.storage.local import LocalStore


class CountingStore(LocalStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads = 0

    async def get_record(self, function_id: str) -> FunctionRecord:
        self.reads += 1
        return await super().get_record(function_id)

    async def get_code(self, code_sha256: str) -> bytes:
        self.reads += 1
        return await super().get_code(code_sha256)


async def test_warm_loads_do_not_touch_storage(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    registry = FunctionRegistry(store)
    record = await registry.deploy("Vortex.return(1)")
    for _ in range(5):
        assert (await registry.load(record.id))[1] == "Vortex.return(1)"
    assert store.reads == 0


async def test_a_cold_node_reads_once_then_serves_from_memory(tmp_path: Path) -> None:
    record = await FunctionRegistry(LocalStore(tmp_path)).deploy("Vortex.return(2)")
    store = CountingStore(tmp_path)
    cold = FunctionRegistry(store)
    for _ in range(5):
        assert (await cold.load(record.id))[0] == record
    assert store.reads == 2


async def test_same_code_is_stored_once(tmp_path: Path) -> None:
    registry = FunctionRegistry(LocalStore(tmp_path))
    a = await registry.deploy("Vortex.return(3)")
    b = await registry.deploy("Vortex.return(3)")
    assert a.id != b.id and a.code_sha256 == b.code_sha256
    assert len(list((tmp_path / "code").rglob("*.js"))) == 1
    assert not list(tmp_path.rglob(".tmp-*"))
