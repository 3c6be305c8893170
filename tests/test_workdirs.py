"""Host directories left by a server that died without cleaning up are removed by the next one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vortex.isolates.launcher import WORKDIR_PREFIX, remove_stale_workdirs


def test_directories_of_dead_servers_go_and_live_ones_stay(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    stale = tmp_path / f"{WORKDIR_PREFIX}{dead_pid}-abc"
    stale.mkdir()
    (stale / "clock-1-0").write_bytes(b"\0" * 24)
    mine = tmp_path / f"{WORKDIR_PREFIX}{os.getpid()}-def"
    mine.mkdir()
    unrelated = tmp_path / f"{WORKDIR_PREFIX}old-style"
    unrelated.mkdir()
    remove_stale_workdirs(tmp_path)
    assert not stale.exists()
    assert mine.exists() and unrelated.exists()
