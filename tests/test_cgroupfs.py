"""Finding the server's memory cgroup (v1, v2, hybrid, containers) and making host cgroups in
v2, against /proc files and cgroup trees written by the tests: the machine the suite runs on has
one layout only (tests/hardening/test_cgroups.py covers the real one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vortex.isolates.cgroupfs import V1, V2, memory_cgroup_dir, read_mounts
from vortex.isolates.cgroups import HostCgroup, HostCgroups

V1_MEMORY_MOUNT = "35 31 0:32 {root} {point} rw,relatime - cgroup cgroup rw,memory"
V2_MOUNT = "41 31 0:38 {root} {point} rw,relatime - cgroup2 cgroup2 rw,nsdelegate"


def fake_proc(tmp_path: Path, cgroup_lines: list[str], mount_lines: list[str]) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text("\n".join(cgroup_lines) + "\n")
    (proc / "mountinfo").write_text("\n".join(mount_lines) + "\n")
    return proc


def cgroup_dir(path: Path, *, controllers: str = "", procs: str = "") -> Path:
    path.mkdir(parents=True)
    (path / "cgroup.controllers").write_text(controllers + "\n")
    (path / "cgroup.subtree_control").write_text("\n")
    (path / "cgroup.procs").write_text(procs)
    return path


def test_v1_memory_cgroup_is_found_through_the_mount(tmp_path: Path) -> None:
    mount = tmp_path / "memory"
    own = cgroup_dir(mount / "process_api" / "abc")
    proc = fake_proc(
        tmp_path,
        ["4:memory:/process_api/abc", "1:cpu:/"],
        [V1_MEMORY_MOUNT.format(root="/", point=mount)],
    )
    assert memory_cgroup_dir(proc) == (V1, own)


def test_a_hybrid_machine_uses_v1_for_memory(tmp_path: Path) -> None:
    v1, v2 = tmp_path / "memory", tmp_path / "unified"
    cgroup_dir(v1 / "svc")
    cgroup_dir(v2 / "svc", controllers="hugetlb")
    proc = fake_proc(
        tmp_path,
        ["4:memory:/svc", "0::/svc"],
        [V1_MEMORY_MOUNT.format(root="/", point=v1), V2_MOUNT.format(root="/", point=v2)],
    )
    assert memory_cgroup_dir(proc) == (V1, v1 / "svc")


def test_v2_needs_the_memory_controller(tmp_path: Path) -> None:
    mount = tmp_path / "cg"
    own = cgroup_dir(mount / "system.slice" / "vortex.service", controllers="cpu io memory pids")
    proc = fake_proc(
        tmp_path, ["0::/system.slice/vortex.service"], [V2_MOUNT.format(root="/", point=mount)]
    )
    assert memory_cgroup_dir(proc) == (V2, own)
    (own / "cgroup.controllers").write_text("cpu pids\n")
    assert memory_cgroup_dir(proc) is None


def test_a_container_sees_its_subtree_as_the_root(tmp_path: Path) -> None:
    """The mount shows /docker/abc as its root; the process's own path is given in full."""
    mount = tmp_path / "cg"
    own = cgroup_dir(mount / "app", controllers="memory")
    proc = fake_proc(
        tmp_path, ["0::/docker/abc/app"], [V2_MOUNT.format(root="/docker/abc", point=mount)]
    )
    assert memory_cgroup_dir(proc) == (V2, own)
    outside = fake_proc(
        tmp_path / "other", ["0::/elsewhere"], [V2_MOUNT.format(root="/docker/abc", point=mount)]
    )
    assert memory_cgroup_dir(outside) is None


def test_no_cgroup_files_means_no_cgroup(tmp_path: Path) -> None:
    assert memory_cgroup_dir(tmp_path / "nothing") is None
    proc = fake_proc(tmp_path, ["garbage", "0::/x"], ["not a mount line"])
    assert memory_cgroup_dir(proc) is None


def test_mount_points_with_spaces_are_unescaped(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, [], [V2_MOUNT.format(root="/", point="/sys/fs/my\\040cgroups")])
    assert read_mounts(proc)[0].point == Path("/sys/fs/my cgroups")


@pytest.fixture
def v2_service(tmp_path: Path) -> tuple[Path, Path]:
    """A v2 service cgroup holding only this process, as systemd's Delegate=yes gives one."""
    mount = tmp_path / "cg"
    own = cgroup_dir(
        mount / "vortex.service", controllers="cpu memory pids", procs=f"{os.getpid()}\n"
    )
    proc = fake_proc(tmp_path, ["0::/vortex.service"], [V2_MOUNT.format(root="/", point=mount)])
    return proc, own


def test_v2_server_alone_moves_into_a_leaf_and_hands_memory_down(
    v2_service: tuple[Path, Path],
) -> None:
    proc, own = v2_service
    cgroups = HostCgroups.detect(proc)
    assert cgroups is not None and cgroups.version is V2 and cgroups.parent == own
    leaf = own / f"vortex-{os.getpid()}-server"
    assert (leaf / "cgroup.procs").read_text() == str(os.getpid())
    assert (own / "cgroup.subtree_control").read_text() == "+memory"

    host = cgroups.create(200 << 20, 256 << 20)
    assert host is not None and host.path.parent == own
    assert (host.path / "memory.max").read_text() == str(200 << 20)
    assert (host.path / "memory.swap.max").read_text() == "0"
    host.add(12345)
    assert (host.path / "cgroup.procs").read_text() == "12345"

    assert not host.oom_killed()
    (host.path / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 1\noom_kill 0\n")
    assert not host.oom_killed()
    (host.path / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n")
    assert host.oom_killed()


def test_v2_cgroup_shared_with_other_processes_is_left_alone(
    v2_service: tuple[Path, Path],
) -> None:
    proc, own = v2_service
    (own / "cgroup.procs").write_text(f"{os.getpid()}\n1\n")
    assert HostCgroups.detect(proc) is None
    assert not list(own.glob("vortex-*"))
    assert (own / "cgroup.subtree_control").read_text() == "\n"


def test_v2_memory_already_handed_down_is_used_as_it_is(v2_service: tuple[Path, Path]) -> None:
    proc, own = v2_service
    (own / "cgroup.subtree_control").write_text("memory pids\n")
    (own / "cgroup.procs").write_text("")
    cgroups = HostCgroups.detect(proc)
    assert cgroups is not None and cgroups.parent == own
    assert not (own / f"vortex-{os.getpid()}-server").exists()


def test_stale_cgroups_of_dead_servers_are_removed(v2_service: tuple[Path, Path]) -> None:
    proc, own = v2_service
    dead = 2**22 + 17  # above any pid_max: no such process
    for name in (f"vortex-{dead}-0", f"vortex-{dead}-server", f"vortex-{os.getpid()}-7"):
        (own / name).mkdir()
    HostCgroups.detect(proc)
    assert not (own / f"vortex-{dead}-0").exists()
    assert not (own / f"vortex-{dead}-server").exists()
    assert (own / f"vortex-{os.getpid()}-7").exists()


def test_v1_kills_are_read_from_oom_control(tmp_path: Path) -> None:
    host = HostCgroup(tmp_path, V1)
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert host.oom_killed()
