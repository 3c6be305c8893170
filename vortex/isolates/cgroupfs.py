"""Where this process's memory cgroup is: in which hierarchy (v1 or v2) and at which directory.

Read from ``/proc/self/cgroup`` (the cgroup of each hierarchy, relative to its root) and
``/proc/self/mountinfo`` (where each hierarchy is mounted, and which part of it: a container
often sees only its own subtree, mounted as if it were the root). Both paths can be given, so
the parsing is tested against files written by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PROC_SELF = Path("/proc/self")


@dataclass(frozen=True, slots=True)
class MemoryCgroupVersion:
    name: str
    limit_file: str
    events_file: str
    """The file whose ``oom_kill N`` line counts the kernel's kills for the memory limit."""


V1 = MemoryCgroupVersion("v1", "memory.limit_in_bytes", "memory.oom_control")
V2 = MemoryCgroupVersion("v2", "memory.max", "memory.events")


@dataclass(frozen=True, slots=True)
class Mount:
    root: str
    """The part of the hierarchy this mount shows."""
    point: Path
    fstype: str
    options: frozenset[str]


def read_mounts(proc: Path = PROC_SELF) -> list[Mount]:
    mounts = []
    try:
        text = (proc / "mountinfo").read_text()
    except OSError:
        return []
    for line in text.splitlines():
        # "36 35 98:0 /root /mount/point rw,opts - fstype source super,options"
        before, sep, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not sep or len(fields) < 5 or len(tail) < 3:
            continue
        mounts.append(
            Mount(
                root=_unescape(fields[3]),
                point=Path(_unescape(fields[4])),
                fstype=tail[0],
                options=frozenset(tail[2].split(",")),
            )
        )
    return mounts


def own_cgroups(proc: Path = PROC_SELF) -> dict[str, str]:
    """This process's cgroup per hierarchy: ``"memory"`` for v1's memory one, ``""`` for v2."""
    try:
        lines = (proc / "cgroup").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            found[""] = path
        elif "memory" in controllers.split(","):
            found["memory"] = path
    return found


def memory_cgroup_dir(proc: Path = PROC_SELF) -> tuple[MemoryCgroupVersion, Path] | None:
    """The directory of this process's memory cgroup, v1 first (a hybrid machine's v2 tree has
    no memory controller: v1 holds it)."""
    own, mounts = own_cgroups(proc), read_mounts(proc)
    if "memory" in own:
        for mount in mounts:
            if mount.fstype == "cgroup" and "memory" in mount.options:
                where = _inside(mount, own["memory"])
                if where is not None:
                    return V1, where
    if "" in own:
        for mount in mounts:
            if mount.fstype == "cgroup2":
                where = _inside(mount, own[""])
                if where is not None and "memory" in read_words(where / "cgroup.controllers"):
                    return V2, where
    return None


def _inside(mount: Mount, cgroup: str) -> Path | None:
    try:
        relative = PurePosixPath(cgroup).relative_to(mount.root)
    except ValueError:
        return None  # this process's cgroup is outside what the mount shows
    where = mount.point / relative
    return where if where.is_dir() else None


def read_words(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _unescape(field: str) -> str:
    # mountinfo writes a space, tab, newline and backslash in paths as octal escapes.
    for escaped, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(escaped, char)
    return field
