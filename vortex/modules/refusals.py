"""What SES's source check refuses, said in the user's words and placed at its column.

SES reports a refusal as ``Possible direct eval expression rejected at <unknown>:2.
(SES_EVAL_REJECTED)``: the line of the evaluated script, no column, and its own vocabulary. The
deploy check maps that line back to the uploaded file (``vortex.modules.sourcemap``); the column
is found here, by the same test SES made (ses/src/transforms.js), on that line of the script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = re.compile(r"\(?\b(SES_[A-Z_]+_REJECTED)\)?")
_AT_UNKNOWN = re.compile(r"\s*\bat <unknown>:\d+\.?")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Refusal:
    message: str
    """The reason, for a person: what is refused and what to do instead."""
    where: re.Pattern[str]
    """Finds it on a line of the script; group 1 starts where the user would look."""


_REFUSALS = {
    "SES_EVAL_REJECTED": Refusal(
        "direct eval() is not allowed: a function cannot run code built from a string "
        "(parse data with JSON.parse)",
        re.compile(r"(?:^|[^.\w$])(eval)\s*\("),
    ),
    "SES_IMPORT_REJECTED": Refusal(
        "import() is not allowed: import modules statically at the top of a module file "
        "(import x from './x.js') and upload them with it",
        re.compile(r"(?:^|[^.\w$]|\.\.\.)(import)\s*(?:\(|/[/*])"),
    ),
    "SES_HTML_COMMENT_REJECTED": Refusal(
        "an HTML comment (<!-- or -->) is not allowed in code",
        re.compile(r"(<!--|-->)"),
    ),
}


def refusal_of(message: object) -> Refusal | None:
    """The refusal a check's message reports, or None for an ordinary syntax error."""
    found = _CODE.search(str(message))
    if found is None:
        return None
    known = _REFUSALS.get(found.group(1))
    if known is not None:
        return known
    # A refusal of a newer SES: its sentence without the code and the meaningless place.
    plain = _AT_UNKNOWN.sub("", _CODE.sub("", str(message))).strip().rstrip(".")
    return Refusal(plain or "this code is refused", re.compile(r"((?!))"))


def column_in(script: str, line: int, refusal: Refusal) -> int | None:
    """The 1-based column on ``line`` (1-based) of ``script`` where the refused text starts."""
    lines = _LINE_BREAK.split(script)
    if not 1 <= line <= len(lines):
        return None
    found = refusal.where.search(lines[line - 1])
    return None if found is None else found.start(1) + 1
