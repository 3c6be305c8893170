"""``vortex serve`` refuses to listen beyond loopback with no API keys, unless told to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.server import REPO, free_port
from vortex.auth import ApiKeys
from vortex.auth.exposure import ExposureRefused, is_loopback, startup_notice
from vortex.auth.local import FileKeyStore
from vortex.config import Settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.20", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


async def test_notices(tmp_path: Path) -> None:
    keys = ApiKeys(FileKeyStore(tmp_path), cache_seconds=0)
    loopback = Settings(host="127.0.0.1")
    public = Settings(host="0.0.0.0")
    assert "loopback only" in await startup_notice(loopback, keys)
    with pytest.raises(ExposureRefused, match="--allow-unauthenticated"):
        await startup_notice(public, keys)
    allowed = Settings(host="0.0.0.0", allow_unauthenticated=True)
    assert (await startup_notice(allowed, keys)).startswith("WARNING")
    await keys.create("acme")
    await keys.create("globex")
    notice = await startup_notice(public, keys)
    assert "2 API key(s)" in notice and "acme, globex" in notice


def test_serve_refuses_a_public_address_without_keys(tmp_path: Path) -> None:
    env = {"VORTEX_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "vortex", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "refusing to listen on 0.0.0.0" in result.stderr
    assert "--allow-unauthenticated" in result.stderr


def test_allow_unauthenticated_is_a_setting() -> None:
    assert Settings.from_env({"VORTEX_ALLOW_UNAUTHENTICATED": "1"}).allow_unauthenticated
    assert not Settings.from_env({}).allow_unauthenticated
