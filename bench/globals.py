"""The global surface a Worker sees, on workerd and on Vortex, and what differs: the names of
``globalThis`` with their ``typeof``, and for each class or namespace its static members and its
prototype's (kind, function length), its name, length, parent class and toString tag; also the
request, ``request.cf``, ``env``, ``ctx`` and instances a worker makes (bench/globals/probe.js).
Not a test: a report to read. ``--write`` saves workerd's list of globals as the test data that
tests/test_webapi_workers_globals.py keeps Vortex in step with.
Run: ``.venv/bin/python bench/globals.py [--write] [--json OUT]`` (script/bench installs workerd).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.sidebyside import Case, Workerd, call, deploy
from bench.suite import PEERS
from tests.server import start_server, stop_and_check

PROBE = Path(__file__).resolve().parent / "globals" / "probe.js"
DATA = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "workerd_globals.json"
COMPATIBILITY_DATE = "2024-09-23"


def measure(date: str) -> tuple[dict[str, Any], dict[str, Any]]:
    case = Case("globals", PROBE.read_text())
    workerd = Workerd([case], date)
    server = start_server(Path(tempfile.mkdtemp(prefix="vortex-globals-")), {})
    try:
        refused = deploy(server, case)
        if refused is not None:
            raise SystemExit(f"Vortex refused the probe: {refused}")
        host = f"globals.localhost:{server.functions_port}"
        answers = [
            call(port, host, {}) for port in (workerd.ports["globals"], server.functions_port)
        ]
    finally:
        stop_and_check(server)
        workerd.close()
    parsed = []
    for answer in answers:
        if isinstance(answer, str) or answer[0] != 200:
            raise SystemExit(f"the probe failed: {answer!r}"[:2000])
        parsed.append(orjson.loads(answer[3]))
    return parsed[0], parsed[1]


def _diff_members(
    label: str, theirs: dict[str, str] | None, ours: dict[str, str] | None
) -> list[str]:
    if theirs is None or ours is None:
        return (
            []
            if theirs == ours
            else [f"{label}: workerd {theirs is not None}, vortex {ours is not None}"]
        )
    lines = []
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    if missing:
        lines.append(f"{label} missing: {', '.join(missing)}")
    if extra:
        lines.append(f"{label} extra: {', '.join(extra)}")
    for key in sorted(set(theirs) & set(ours)):
        if theirs[key] != ours[key]:
            lines.append(f"{label}.{key}: workerd {theirs[key]}, vortex {ours[key]}")
    return lines


def _diff_described(name: str, theirs: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    lines = []
    for field in ("typeof", "error", "name", "length", "tag", "extends", "class"):
        if theirs.get(field) != ours.get(field):
            lines.append(
                f"{name} {field}: workerd {theirs.get(field)!r}, vortex {ours.get(field)!r}"
            )
    for field in ("static", "prototype", "own", "classPrototype"):
        if field in theirs or field in ours:
            lines += _diff_members(f"{name} {field}", theirs.get(field), ours.get(field))
    return lines


def report(theirs: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    lines = []
    tg, og = theirs["globals"], ours["globals"]
    missing = sorted(set(tg) - set(og))
    extra = sorted(set(og) - set(tg))
    lines.append(f"globals: workerd {len(tg)}, vortex {len(og)}, in both {len(set(tg) & set(og))}")
    lines.append(
        f"missing in vortex ({len(missing)}): {', '.join(f'{n}:{tg[n]}' for n in missing)}"
    )
    lines.append(f"extra in vortex ({len(extra)}): {', '.join(f'{n}:{og[n]}' for n in extra)}")
    for name in sorted(set(tg) & set(og)):
        if tg[name] != og[name]:
            lines.append(f"{name} typeof: workerd {tg[name]}, vortex {og[name]}")
    for section in ("details", "instances"):
        for name in sorted(set(theirs[section]) & set(ours[section])):
            lines += _diff_described(name, theirs[section][name], ours[section][name])
    for name in sorted(theirs["tags"]):
        if theirs["tags"][name] != ours["tags"].get(name):
            lines.append(
                f"tag of {name}: workerd {theirs['tags'][name]}, vortex {ours['tags'].get(name)}"
            )
    return lines


def workerd_version() -> str:
    """The binary's own word and the npm package it came in."""
    done = subprocess.run(
        [str(PEERS / "node_modules" / ".bin" / "workerd"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    package = orjson.loads((PEERS / "node_modules" / "workerd" / "package.json").read_bytes())
    return f"{done.stdout.strip()} (npm workerd@{package['version']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"save workerd's globals to {DATA}")
    parser.add_argument("--json", type=Path, help="save both answers here")
    parser.add_argument("--date", default=COMPATIBILITY_DATE, help="workerd's compatibility date")
    args = parser.parse_args()
    theirs, ours = measure(args.date)
    if args.json:
        args.json.write_bytes(
            orjson.dumps({"workerd": theirs, "vortex": ours}, option=orjson.OPT_INDENT_2)
        )
    print("\n".join(report(theirs, ours)))
    if args.write:
        DATA.parent.mkdir(exist_ok=True)
        record = {
            "workerd": workerd_version(),
            "compatibilityDate": args.date,
            "made_by": "bench/globals.py --write",
            "globals": dict(sorted(theirs["globals"].items())),
        }
        DATA.write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
