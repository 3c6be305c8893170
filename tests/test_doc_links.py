"""Every relative link of README.md and docs/*.md names a file of the repository: a clone has
nothing else (README.md once linked ``../shared/DESIGN.md``, beside the checkout, not in it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.server import REPO

DOCUMENTS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")
INLINE = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def links_of(text: str) -> list[str]:
    """Link targets as written, outside code blocks and code spans."""
    text = CODE.sub("", FENCE.sub("", text))
    return INLINE.findall(text) + REFERENCE.findall(text)


def tracked_files() -> set[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return {REPO / name for name in listed.split("\0") if name}


def test_links_are_found_outside_code() -> None:
    text = (
        'See [the CLI](docs/cli.md#serve), ![plot](a.png "title") and [x][ref].\n'
        "`[not](a/link.md)`\n```\n[nor](this.md)\n```\n[ref]: <other.md>\n"
    )
    assert links_of(text) == ["docs/cli.md#serve", "a.png", "other.md"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_names_a_file_of_the_repository(document: Path) -> None:
    files = tracked_files()
    folders = {parent for path in files for parent in path.parents}
    broken = []
    for target in links_of(document.read_text(encoding="utf-8")):
        if SCHEME.match(target) or target.startswith(("#", "//")):
            continue  # a web address, mailto:, or a heading of the same page
        path = target.split("#", 1)[0].split("?", 1)[0]
        if not path:
            continue
        resolved = (document.parent / path).resolve()
        if resolved not in files and resolved not in folders:
            broken.append(target)
    assert not broken, f"{document.relative_to(REPO)} links to what a clone does not have: {broken}"
