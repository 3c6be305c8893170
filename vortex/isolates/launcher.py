"""Starting one host process: the files it boots from, the directory of the hosts' turn clocks,
and the memory cgroup it is put in.

The fleet (fleet.py) decides when a host is started; this module only knows how. The turn
clocks live in a directory of the server's own, named after its pid, so the directories of a
server that died without cleaning up (SIGKILL, power loss) are found and removed at the next
start.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from vortex.isolates.backstop import rss_bytes
from vortex.isolates.cgroups import HostCgroups
from vortex.isolates.datalimit import limit_data
from vortex.isolates.host_process import HostProcess, HostStartError
from vortex.isolates.jsbundles import stale_bundles
from vortex.isolates.pids import left_by_dead_process
from vortex.isolates.pressure import SHED_FROM
from vortex.isolates.runrequests import RunRequests

# The host's lines keep the logger name they had when this was part of pool.py: operators filter
# on it (docs/logging.md).
log = logging.getLogger("vortex.isolates.pool")

JS_DIR = Path(__file__).with_name("js")
WORKDIR_PREFIX = "vortex-hosts-"
MIN_CGROUP_BYTES = 64 << 20


def default_ses_path() -> Path:
    """SES as ``npm run build`` leaves it: ses.umd.js with Error.captureStackTrace added."""
    configured = os.environ.get("VORTEX_SES_PATH")
    if configured:
        return Path(configured)
    return JS_DIR / "dist" / "ses.js"


def default_webapi_path() -> Path:
    """The web APIs bundle that script/bootstrap builds with esbuild (``npm run build``)."""
    configured = os.environ.get("VORTEX_WEBAPI_PATH")
    if configured:
        return Path(configured)
    return JS_DIR / "dist" / "webapi.js"


def remove_stale_workdirs(root: Path | None = None) -> None:
    """Remove the host directories (turn clocks) of servers that died without cleaning up
    (SIGKILL, power loss): each is named after its server's pid, removed once that is gone."""
    root = root or Path(tempfile.gettempdir())
    for path in root.glob(f"{WORKDIR_PREFIX}*-*"):
        if left_by_dead_process(path.name, WORKDIR_PREFIX):
            shutil.rmtree(path, ignore_errors=True)


class HostLauncher:
    """Starts host processes that boot from ``ses_path`` and ``webapi_path`` and send what their
    runs ask of the supervisor (fetch, KV) to ``requests``."""

    def __init__(
        self,
        ses_path: Path,
        webapi_path: Path,
        requests: RunRequests,
        *,
        host_memory_bytes: int,
        cgroups: HostCgroups | None,
    ) -> None:
        self.ses_path = ses_path
        self.webapi_path = webapi_path
        self.requests = requests
        self.host_memory_bytes = host_memory_bytes
        self.cgroups = cgroups
        self._workdir: Path | None = None

    def open(self) -> None:
        """Before the first host: its files are there, and the turn clocks have a directory."""
        if not self.ses_path.is_file():
            raise HostStartError(
                f"SES was not found at {self.ses_path}: run script/bootstrap "
                "(it installs the JavaScript dependencies with npm)"
            )
        bundles = ("harness.js", "lol_html.wasm")
        for bundle in (self.webapi_path, *(self.webapi_path.with_name(name) for name in bundles)):
            if not bundle.is_file():
                raise HostStartError(
                    f"the JavaScript bundle {bundle} was not found: run script/bootstrap "
                    "(it builds the web APIs and the harness with npm run build)"
                )
        if self.webapi_path == JS_DIR / "dist" / "webapi.js":
            stale = stale_bundles(JS_DIR)
            if stale is not None:
                raise HostStartError(
                    f"{stale}: run script/bootstrap (or npm run build in {JS_DIR})"
                )
        remove_stale_workdirs()
        self._workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))

    def close(self) -> None:
        """Once every host has stopped: their turn clocks go."""
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    async def start(self) -> HostProcess:
        """A new host, booted and ready for frames."""
        assert self._workdir is not None
        host = await HostProcess.start(
            self.ses_path,
            self.webapi_path,
            self._workdir,
            self.requests.on_fetch,
            on_call=self.requests.on_call,
        )
        host.clock.set_memory_ceiling(int(self.host_memory_bytes * SHED_FROM))
        return host

    def limit_memory(self, host: HostProcess) -> None:
        """Cap a booted ``host``'s data a memory limit past its boot (datalimit.py), and put it
        in a memory cgroup of its own, when the server has cgroups."""
        limit_data(host.pid, self.host_memory_bytes)
        if self.cgroups is None:
            return
        # The cgroup counts what the host allocates from now on (its boot memory stays with the
        # server's cgroup): it stops the host at the same total as the watchdog would.
        allowance = max(self.host_memory_bytes - rss_bytes(host.pid), MIN_CGROUP_BYTES)
        cgroup = self.cgroups.create(allowance, self.host_memory_bytes)
        if cgroup is not None:
            try:
                cgroup.add(host.pid)
                host.cgroup = cgroup
            except OSError as exc:
                log.warning("could not put host %s in its memory cgroup: %s", host.pid, exc)
                cgroup.remove()
