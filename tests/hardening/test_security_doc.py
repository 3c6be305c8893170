"""SECURITY.md names, for every promise, the test that proves it: those tests must exist."""

from __future__ import annotations

import re

from tests.server import REPO

REFERENCE = re.compile(r"(tests/[\w/]+\.py)?::(test_\w+)(?:\[([^\]]+)\])?")


def test_every_test_named_in_security_md_exists() -> None:
    text = (REPO / "SECURITY.md").read_text()
    current: str | None = None
    checked = 0
    missing = []
    for path, name, param in REFERENCE.findall(text):
        current = path or current
        assert current is not None, f"::{name} follows no file"
        source = (REPO / current).read_text()
        if not re.search(rf"^(async )?def {name}\(", source, re.MULTILINE):
            missing.append(f"{current}::{name}")
        if param and f'"{param}"' not in source:
            missing.append(f"{current}::{name}[{param}]")
        checked += 1
    assert missing == []
    assert checked > 40
