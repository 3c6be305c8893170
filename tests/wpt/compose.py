"""A unit as the one script a function runs: what a WPT page would load, in its order."""

from __future__ import annotations

import json
import posixpath
import re
from functools import cache
from pathlib import Path

from tests.wpt.catalog import OURS, UPSTREAM, Unit

TESTHARNESS = UPSTREAM / "resources" / "testharness.js"

# The harness and helpers in llrt's copy are ES modules wrapping the original script:
# `export default function (self) { ... }`, called with an object holding the globals. A
# script has no exports, so the wrapper becomes a function called with the run's global.
_WRAPPER = re.compile(r"^export default function \(([^)]*)\) \{", re.MULTILINE)
_EXPORT_NAME = re.compile(r"^export default \w+;$", re.MULTILINE)
# The data files a test fetches (url/ reads resources/urltestdata.json).
_FETCHED = re.compile(r"""fetch\(\s*["']([^"']+\.json)["']\s*\)""")


def script_text(path: Path) -> str:
    text = path.read_text()
    wrapper = _WRAPPER.search(text)
    if wrapper is not None:
        text = (
            f"{text[: wrapper.start()]}(function ({wrapper.group(1)}) {{"
            f"{text[wrapper.end() :]}\n)(globalThis);"
        )
    return _EXPORT_NAME.sub("", text)


@cache
def harness_text() -> str:
    """testharness.js, with the one string literal that holds "<!--" and "-->" written with an
    escape (the same value). SES refuses those sequences anywhere in a script's text, so the
    server would otherwise build every unit with esbuild to escape them (docs/http-functions.md,
    "What SES refuses in a source"): as plain scripts, deploys take half the time."""
    text = script_text(TESTHARNESS)
    literal = '"Comment node <!--" + truncate(val.data, 60) + "-->"'
    assert text.count("<!--") == text.count("-->") == 1 and literal in text, "harness changed"
    return text.replace(literal, literal.replace("!", "\\x21").replace("->", "-\\x3e"))


def fetched_data(unit: Unit) -> dict[str, str]:
    data = {}
    for name in _FETCHED.findall(unit.source.read_text()):
        path = UPSTREAM / posixpath.normpath(posixpath.join(unit.directory, name))
        if path.is_file():
            data[name] = path.read_text()
    return data


def compose(unit: Unit, timeout_ms: int) -> str:
    pathname = "/" + unit.path.removesuffix(".js") + ".worker.html"
    config = {
        "href": f"http://web-platform.test{pathname}{unit.variant}",
        "pathname": pathname,
        "search": unit.variant,
        "timeoutMs": timeout_ms,
        "data": fetched_data(unit),
    }
    parts = [
        ("unit", f"const WPT_UNIT = {json.dumps(config)};"),
        ("prelude", (OURS / "prelude.js").read_text()),
        ("resources/testharness.js", harness_text()),
        ("report", (OURS / "report.js").read_text()),
        *((_name(path), script_text(path)) for path in unit.scripts),
        (unit.path, unit.source.read_text()),
        ("end", (OURS / "end.js").read_text()),
    ]
    # A part may end without a semicolon and the next begin with "(": keep them apart.
    return "\n;\n".join(f"// ==== {name} ====\n{text}" for name, text in parts)


def _name(path: Path) -> str:
    if path.is_relative_to(UPSTREAM):
        return path.relative_to(UPSTREAM).as_posix()
    return f"(shim) {path.name}"
