"""``vortex dev``: a real CLI process against a real server, edited as a person would edit.

Each test waits for what the command prints and for what the function answers, never for a
fixed time: a save is seen when the new version answers on the functions listener.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from watchfiles import Change

from tests.server import ServerProcess
from vortex.cli.dev import changed_files, dev_name

DEADLINE = 30.0


class Dev:
    """``vortex dev`` running, its stdout and stderr read line by line as they come."""

    def __init__(self, args: list[str], cwd: Path, server: ServerProcess) -> None:
        self.server = server
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        env = {**os.environ, "VORTEX_URL": server.url, "NO_COLOR": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vortex", "dev", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + DEADLINE
        for line in self.seen:
            if found := re.search(pattern, line):
                self.seen.remove(line)
                return found
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no line matching {pattern!r}; seen: {self.seen}"
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if found := re.search(pattern, line):
                return found
            self.seen.append(line)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


@pytest.fixture
def start_dev(server: ServerProcess) -> Iterator[object]:
    started: list[Dev] = []

    def start(*args: str, cwd: Path) -> Dev:
        made = Dev(list(args), cwd, server)
        started.append(made)
        return made

    yield start
    for made in started:
        made.stop()


def answer(server: ServerProcess, url: str, path: str = "/") -> str:
    """The body at the function's URL (``http://name.localhost:PORT``), sent to 127.0.0.1."""
    host = url.removeprefix("http://")
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.functions_port}{path}", headers={"Host": host}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode())


def answers(server: ServerProcess, url: str, expected: str) -> None:
    """Until the function's URL answers ``expected`` (a redeploy is on its way)."""
    deadline = time.monotonic() + DEADLINE
    while (got := answer(server, url)) != expected:
        assert time.monotonic() < deadline, f"still {got!r}, not {expected!r}"
        time.sleep(0.05)


def module(version: str) -> str:
    return (
        "export default { fetch(request) {"
        f" console.log('served by {version}'); return new Response('{version}'); }} }};\n"
    )


def test_dev_redeploys_on_save_and_tails_the_logs(
    server: ServerProcess, start_dev: object, tmp_path: Path
) -> None:
    folder = tmp_path / f"app-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    entry = folder / "index.mjs"
    entry.write_text(module("v1"))
    dev: Dev = start_dev("index.mjs", cwd=folder)  # type: ignore[operator]
    name = dev.wait_for(r"✓ Deployed (\S+) v1 in \d+ ms$")[1]
    assert name == folder.name == dev_name(entry)
    url = dev.wait_for(r"^  URL: (http://\S+)$")[1]
    assert url == f"http://{name}.localhost:{server.functions_port}"
    dev.wait_for(r"Watching .* for changes")
    assert answer(server, url) == "v1"
    dev.wait_for(r"\[log\] served by v1$")  # the tail

    entry.write_text(module("v2"))
    dev.wait_for(rf"✓ Redeployed {name} v2 in \d+ ms \(index\.mjs changed\)$")
    answers(server, url, "v2")
    dev.wait_for(r"\[log\] served by v2$")

    # A syntax error is shown, and the version before goes on serving.
    entry.write_text("export default { fetch(request) { return new Response('v3' } };\n")
    dev.wait_for(r"syntax error in index\.mjs:1:")
    dev.wait_for(r"Still serving the version before")
    assert answer(server, url) == "v2"

    entry.write_text(module("v3"))
    dev.wait_for(rf"✓ Redeployed {name} v3 ")
    answers(server, url, "v3")
    assert dev.stop() == 0
    leftover = dev.seen + list(iter_queue(dev.lines))
    assert not any("Traceback" in line for line in leftover), leftover


def iter_queue(lines: queue.Queue[str]) -> Iterator[str]:
    while True:
        try:
            yield lines.get_nowait()
        except queue.Empty:
            return


def test_dev_of_a_wrangler_project_rebundles_an_imported_file(
    server: ServerProcess, start_dev: object, tmp_path: Path
) -> None:
    name = f"proj-{uuid.uuid4().hex[:8]}"
    (tmp_path / "src").mkdir()
    (tmp_path / "wrangler.toml").write_text(
        f'name = "{name}"\nmain = "src/index.ts"\n[vars]\nGREETING = "hi"\n'
        '[[queues.producers]]\nbinding = "Q"\n'
    )
    (tmp_path / "src" / "index.ts").write_text(
        "import { word } from './word';\n"
        "export default { fetch(request: Request, env: { GREETING: string }) {"
        " return new Response(`${env.GREETING} ${word}`); } };\n"
    )
    word = tmp_path / "src" / "word.ts"
    word.write_text("export const word: string = 'one';\n")
    dev: Dev = start_dev(cwd=tmp_path)  # type: ignore[operator]
    dev.wait_for(rf"✓ Deployed {name} v1 ")
    url = dev.wait_for(r"^  URL: (http://\S+)$")[1]
    dev.wait_for(r"Watching .* for changes")
    assert answer(server, url) == "hi one"
    word.write_text("export const word: string = 'two';\n")
    dev.wait_for(rf"✓ Redeployed {name} v2 .*\(src/word\.ts changed\)$")
    answers(server, url, "hi two")
    # Saving a file the bundle does not change (a note) deploys nothing.
    (tmp_path / "NOTES.md").write_text("nothing to deploy\n")
    word.write_text("export const word: string = 'three';\n")
    dev.wait_for(rf"✓ Redeployed {name} v3 ")
    answers(server, url, "hi three")
    assert dev.stop() == 0
    # The configuration's warning is said once, not at every save.
    lines = dev.seen + list(iter_queue(dev.lines))
    assert sum("not used by Vortex: queues" in line for line in lines) == 1, lines


def test_dev_sends_the_projects_dev_vars_as_secrets(
    server: ServerProcess, start_dev: object, tmp_path: Path
) -> None:
    # wrangler dev's place for local secrets: env.TOKEN was silently undefined.
    name = f"vars-{uuid.uuid4().hex[:8]}"
    (tmp_path / "wrangler.toml").write_text(f'name = "{name}"\nmain = "index.mjs"\n')
    (tmp_path / ".dev.vars").write_text('TOKEN="s3cret"\n')
    (tmp_path / "index.mjs").write_text(
        "export default { fetch(request, env) { return new Response(env.TOKEN); } };\n"
    )
    dev: Dev = start_dev(cwd=tmp_path)  # type: ignore[operator]
    dev.wait_for(r"Secrets from \.dev\.vars: TOKEN$")
    url = dev.wait_for(r"^  URL: (http://\S+)$")[1]
    assert answer(server, url) == "s3cret"
    assert dev.stop() == 0


def test_dev_names() -> None:
    assert dev_name(Path("/x/api.ts")) == "api"
    assert dev_name(Path("/work/My App/index.js")) == "my-app"
    assert dev_name(Path("/work/shop/src/index.ts")) == "shop"
    assert dev_name(Path("/work/__/main.js")) == "dev"


def test_a_tools_temporary_file_is_not_named_as_changed(tmp_path: Path) -> None:
    # `sed -i` writes sedXXXXXX beside the file and renames it over the file.
    temp, entry = str(tmp_path / "sedOKRk7C"), str(tmp_path / "index.mjs")
    changes = {(Change.added, temp), (Change.deleted, temp), (Change.added, entry)}
    assert changed_files(changes, tmp_path) == "index.mjs changed"
    assert changed_files({(Change.deleted, entry)}, tmp_path) == "index.mjs changed"
    assert changed_files({(Change.added, temp), (Change.deleted, temp)}, tmp_path) == (
        "files changed"
    )


def test_a_first_deploy_that_fails_is_reported_once(
    server: ServerProcess, start_dev: object, tmp_path: Path
) -> None:
    # The catch-up deploy after the watch starts sent the same upload again: two errors.
    (tmp_path / "index.mjs").write_text(
        "export default { fetch() { return new Response('v1' } };\n"
    )
    dev: Dev = start_dev("index.mjs", "--name", f"once-{uuid.uuid4().hex[:8]}", cwd=tmp_path)  # type: ignore[operator]
    dev.wait_for(r"Watching .* for changes")
    time.sleep(0.5)
    assert dev.stop() == 0
    lines = dev.seen + list(iter_queue(dev.lines))
    assert sum("syntax error in index.mjs" in line for line in lines) == 1, lines


def test_dev_of_a_missing_file_is_a_usage_error(server: ServerProcess, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vortex", "dev", "nope.js", "--url", server.url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done
    assert "nope.js: no such file" in done.stderr and "Traceback" not in done.stderr


def test_dev_uploads_assets_and_redeploys_when_one_changes(
    server: ServerProcess, start_dev: object, tmp_path: Path
) -> None:
    name = f"site-{uuid.uuid4().hex[:8]}"
    (tmp_path / "wrangler.toml").write_text(f'name = "{name}"\n[assets]\ndirectory = "./public"\n')
    page = tmp_path / "public" / "index.html"
    page.parent.mkdir()
    page.write_text(f"{name} one")
    dev: Dev = start_dev(cwd=tmp_path)  # type: ignore[operator]
    dev.wait_for(rf"✓ Deployed {name} v1 ")
    url = dev.wait_for(r"^  URL: (http://\S+)$")[1]
    dev.wait_for(r"Watching .* for changes")
    assert answer(server, url) == f"{name} one"
    page.write_text(f"{name} two")
    dev.wait_for(rf"✓ Redeployed {name} v2 .*\(public/index\.html changed\)$")
    answers(server, url, f"{name} two")


def test_dev_binds_the_r2_buckets_of_the_config(
    server: ServerProcess, start_dev: object, tmp_path: Path
) -> None:
    # wrangler dev's loop with an R2 binding: env.FILES was undefined before.
    name = f"dev-r2-{uuid.uuid4().hex[:8]}"
    (tmp_path / "wrangler.toml").write_text(
        f'name = "{name}"\nmain = "index.mjs"\n\n'
        f'[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "dev-{uuid.uuid4().hex[:8]}"\n'
    )
    (tmp_path / "index.mjs").write_text(
        "export default { async fetch(request, env) {\n"
        "  await env.FILES.put('k', 'from r2');\n"
        "  return new Response(await (await env.FILES.get('k')).text()); } };\n"
    )
    dev: Dev = start_dev(cwd=tmp_path)  # type: ignore[operator]
    url = dev.wait_for(r"^  URL: (http://\S+)$")[1]
    assert answer(server, url) == "from r2"
    assert dev.stop() == 0
