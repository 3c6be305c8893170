"""The npm project of tests/apps/ and those of tests/frameworks/, each installed once, and what
the tests of their apps share: a ``vortex deploy`` run in an app's folder, and calls of the
functions listener."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.server import ServerProcess

APPS = Path(__file__).resolve().parent / "apps"
FRAMEWORKS = Path(__file__).resolve().parent / "frameworks"
BUILT = (
    "node_modules",
    ".svelte-kit",
    ".wrangler",
    ".astro",
    ".react-router",
    ".nitro",
    ".output",
    "dist",
    "build",
)
PROJECT = pytest.StashKey[Path]()
ENTRIES = ("index.mjs", "index.jsx", "index.tsx")


def install_packages(cache_root: Path, project: Path = APPS) -> Path:
    """``node_modules`` with the packages of ``project``'s package-lock.json, installed once per
    lock."""
    manifests = [project / "package.json", project / "package-lock.json"]
    key = hashlib.sha256(b"".join(path.read_bytes() for path in manifests)).hexdigest()[:16]
    installed = cache_root / key
    if not (installed / "node_modules" / ".package-lock.json").exists():
        staging = cache_root / f"{key}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for path in manifests:
            shutil.copy(path, staging)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-update-notifier"],
            cwd=staging,
            check=True,
            capture_output=True,
            timeout=300,
        )
        shutil.rmtree(installed, ignore_errors=True)
        try:
            staging.rename(installed)
        except OSError:  # another session installed the same lock meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    return installed / "node_modules"


def apps_project(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> Path:
    """A project folder as npm leaves one: package.json, node_modules, and each app's folder."""
    project = request.config.stash.get(PROJECT, None)
    if project is not None:
        return project
    cache = getattr(request.config, "cache", None)
    cache_root = cache.mkdir("vortex-npm-apps") if cache else factory.mktemp("npm")
    node_modules = install_packages(Path(cache_root))
    project = factory.mktemp("apps")
    (project / "node_modules").symlink_to(node_modules, target_is_directory=True)
    shutil.copy(APPS / "package.json", project)
    for app in APPS.iterdir():
        if entry_of(app) is not None:
            shutil.copytree(app, project / app.name)
    request.config.stash[PROJECT] = project
    return project


def framework_app(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory, name: str
) -> Path:
    """A copy of the project tests/frameworks/NAME as npm leaves it: its own packages (a
    framework pins its own vite), installed once per lock, in its ``node_modules``."""
    source = FRAMEWORKS / name
    cache = getattr(request.config, "cache", None)
    cache_root = cache.mkdir("vortex-npm-apps") if cache else factory.mktemp("npm")
    node_modules = install_packages(Path(cache_root), source)
    folder = factory.mktemp(name) / name
    # what a build left in the source folder (one run by hand) is not the project's
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(*BUILT))
    (folder / "node_modules").symlink_to(node_modules, target_is_directory=True)
    return folder


def build_app(folder: Path, tool: str, *args: str) -> None:
    """The project's build as its docs show it (``vite build``, ``astro build``), run with the
    tool its ``node_modules`` has. In a process group of its own, ended with it: SvelteKit's
    adapter starts workerd through wrangler's platform proxy to prerender, and leaves it
    running after the build exits."""
    build = subprocess.Popen(
        [str(folder / "node_modules" / ".bin" / tool), *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = build.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
        build.wait()
    assert build.returncode == 0, output


def entry_of(app: Path) -> Path | None:
    """The app's entry: ``index.mjs``, or ``index.jsx`` or ``index.tsx`` for JSX."""
    return next((app / name for name in ENTRIES if (app / name).exists()), None)


def cli_deploy(server: ServerProcess, folder: Path, *args: str) -> dict[str, Any]:
    """``vortex deploy ARGS --json``, run in ``folder`` as a user would; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "vortex", "deploy", *args, "--json"],
        cwd=folder,
        env={**os.environ, "VORTEX_URL": server.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def deploy_app(server: ServerProcess, folder: Path, *args: str) -> Callable[[str], str]:
    """``cli_deploy`` of an app that ``args`` name with ``--name``; the URL of a path of it."""
    answer = cli_deploy(server, folder, *args)
    name = args[args.index("--name") + 1]
    assert answer.get("name") == name, answer
    return lambda path: server.fn_url(name, path)


class Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


async def call(client: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Answer:
    kwargs.setdefault("allow_redirects", False)
    async with client.request(method, url, **kwargs) as response:
        return Answer(response.status, response.headers, await response.read())


async def run_logs(server: ServerProcess, function: str, run_id: str) -> list[str]:
    """The console lines of one run (they may land a moment after the response)."""
    async with aiohttp.ClientSession(base_url=server.url) as http:
        for _ in range(50):
            async with http.get(f"/functions/{function}/runs/{run_id}") as response:
                if response.status == 200:
                    lines = [entry["message"] for entry in (await response.json())["logs"]]
                    if lines:
                        return lines
            await asyncio.sleep(0.1)
    return []
