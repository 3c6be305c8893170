"""Configuration: one frozen dataclass, read from the environment in one place.

Nothing set means the embedded defaults: a local data directory and an in-process log bus.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from vortex.isolates.limits import Limits


class ConfigError(ValueError):
    """A variable of the environment has a value Vortex cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".vortex")
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    """Host processes serving invocations (the pool's ``max_workers``)."""
    spare_workers: int = 1
    """Hosts started and locked down ahead of need, to replace a killed one at once."""
    host_memory_mb: int = 1024
    """Resident memory a host may reach before it is replaced."""
    max_code_bytes: int = 1 << 20
    max_body_bytes: int = 2 << 20
    limits: Limits = field(default_factory=Limits)
    code_cache_entries: int = 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        limits = Limits(
            cpu_ms=_int(env, "VORTEX_CPU_LIMIT_MS", defaults.limits.cpu_ms, 1),
            wall_ms=_int(env, "VORTEX_WALL_LIMIT_MS", defaults.limits.wall_ms, 1),
            output_bytes=_int(env, "VORTEX_MAX_OUTPUT_BYTES", defaults.limits.output_bytes, 1),
            log_bytes=_int(env, "VORTEX_MAX_LOG_BYTES", defaults.limits.log_bytes, 1),
            log_lines=_int(env, "VORTEX_MAX_LOG_LINES", defaults.limits.log_lines, 1),
            timers=_int(env, "VORTEX_MAX_TIMERS", defaults.limits.timers, 1),
        )
        settings = cls(
            host=env.get("VORTEX_HOST", defaults.host),
            port=_int(env, "VORTEX_PORT", defaults.port),
            data_dir=Path(env.get("VORTEX_DATA_DIR") or defaults.data_dir),
            workers=_int(env, "VORTEX_WORKERS", defaults.workers, 1),
            spare_workers=_int(env, "VORTEX_SPARE_WORKERS", defaults.spare_workers),
            host_memory_mb=_int(env, "VORTEX_HOST_MEMORY_MB", defaults.host_memory_mb, 64),
            max_code_bytes=_int(env, "VORTEX_MAX_CODE_BYTES", defaults.max_code_bytes, 1),
            max_body_bytes=_int(env, "VORTEX_MAX_BODY_BYTES", defaults.max_body_bytes, 1),
            limits=limits,
        )
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return replace(settings, **overrides)
