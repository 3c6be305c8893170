"""The one place that chooses the storage and log bus backends from the settings."""

from __future__ import annotations

from vortex.config import Settings
from vortex.logbus.base import LogBus
from vortex.logbus.memory import MemoryLogBus
from vortex.storage.base import FunctionStore
from vortex.storage.local import LocalStore


def make_store(settings: Settings) -> FunctionStore:
    return LocalStore(settings.data_dir)


def make_logbus(settings: Settings) -> LogBus:
    return MemoryLogBus()
