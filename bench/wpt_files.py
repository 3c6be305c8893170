"""Subtests of web-platform-tests passed, per directory: each ``*.any.js`` run as a function.

A measuring tool, not a test: it starts a private ``vortex serve`` with generous limits, deploys
every ``*.any.js`` under the given directories of ../shared/wpt (testharness.js, the
``// META: script=`` files the test names, then the test) as a script function, runs it once,
and prints the subtests passed per file and per directory.
Run: ``.venv/bin/python bench/wpt_files.py WebCryptoAPI [--wpt ../shared/wpt] [-v]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.server import start_server, stop_and_check

DEFAULT_WPT = Path(__file__).resolve().parents[2] / "shared" / "wpt"
SERVER_ENV = {
    "VORTEX_CPU_LIMIT_MS": "120000",
    "VORTEX_WALL_LIMIT_MS": "180000",
    "VORTEX_MAX_TIMERS": "100000",
    "VORTEX_MAX_LOG_LINES": "100000",
    "VORTEX_MAX_OUTPUT_BYTES": str(32 << 20),
    "VORTEX_MAX_CODE_BYTES": str(32 << 20),
}
SKIPPED = ("idlharness",)
"""Files that need what is not in the copy (WebIDL parser files)."""

PRELUDE = """
globalThis.self = globalThis;
globalThis.location = {};
globalThis.createBuffer = (type, length) => new globalThis[type](length);
"""
REPORT = """
add_completion_callback((tests, status) => {
  Vortex.return({
    harness: status.status,
    harnessMessage: status.message,
    tests: tests.map((t) => [String(t.name), t.status, t.message && String(t.message)]),
  });
});
"""
_META_SCRIPT = re.compile(r"^//\s*META:\s*script=(\S+)", re.MULTILINE)


def as_script(text: str) -> str:
    """The copy's testharness.js and common/ files are ES modules exporting a function of the
    global: run them as scripts."""
    for head in ("export default function (self)", "export default function ({})"):
        if head in text:
            text = text.replace(head, "const wptModule = function (self)", 1)
            return "{\n" + text + "\nwptModule(globalThis);\n}\n"
    return text


def harness_source(wpt: Path) -> str:
    return as_script((wpt / "resources" / "testharness.js").read_text(encoding="utf-8"))


def function_source(wpt: Path, test: Path) -> str:
    parts = [PRELUDE, harness_source(wpt), REPORT]
    source = test.read_text(encoding="utf-8")
    for name in _META_SCRIPT.findall(source):
        path = wpt / name.lstrip("/") if name.startswith("/") else test.parent / name
        if name.endswith("subset-tests-by-key.js"):
            parts.append("globalThis.subsetTestByKey = (key, fn, ...args) => fn(...args);")
            continue
        if name.endswith("/sab.js"):
            continue
        parts.append(as_script(path.read_text(encoding="utf-8")))
    parts.append(source)
    return "\n;\n".join(parts)


def post(url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def run_file(base: str, wpt: Path, test: Path) -> tuple[int, int, list[str]]:
    """(passed, total, the names and messages of the failures) of one file."""
    deployed = post(base + "/deploy", {"code": function_source(wpt, test)})
    if "function_id" not in deployed:
        return 0, 1, [f"deploy refused: {deployed}"]
    result = post(base + f"/execute/{deployed['function_id']}")
    output = result.get("output")
    if not isinstance(output, dict):
        return 0, 1, [f"run failed: {result.get('error')}"]
    tests = output["tests"]
    failures = [f"{name}: {message}" for name, status, message in tests if status != 0]
    if output["harness"] != 0:
        failures.append(f"harness status {output['harness']}: {output['harnessMessage']}")
    return sum(1 for _, status, _ in tests if status == 0), max(len(tests), 1), failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directories", nargs="+")
    parser.add_argument("--wpt", type=Path, default=DEFAULT_WPT)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failure")
    args = parser.parse_args()
    wpt: Path = args.wpt
    files = sorted(
        path
        for directory in args.directories
        for path in (
            [wpt / directory] if directory.endswith(".js") else (wpt / directory).rglob("*.any.js")
        )
        if not any(skip in path.name for skip in SKIPPED)
    )
    by_directory: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    with tempfile.TemporaryDirectory() as data:
        server = start_server(Path(data), SERVER_ENV)
        try:
            for test in files:
                passed, total, failures = run_file(server.url, wpt, test)
                relative = test.relative_to(wpt)
                print(f"{passed:5d}/{total:<5d} {relative}", flush=True)
                if args.verbose:
                    for failure in failures:
                        print(f"      ✗ {failure[:300]}")
                for key in {str(relative.parent), str(relative.parts[0])}:
                    by_directory[key][0] += passed
                    by_directory[key][1] += total
        finally:
            stop_and_check(server)
    print()
    for directory, (passed, total) in sorted(by_directory.items()):
        print(f"{directory:40s} {passed:6d}/{total:<6d} {100 * passed / total:5.1f}%")


if __name__ == "__main__":
    main()
