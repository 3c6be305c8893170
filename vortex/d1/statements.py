"""A script of several statements (``exec``, the operator's ``--file``) split into statements.

Not at every ``;``: one may sit in a string, a comment or a trigger's body. SQLite's own
``complete_statement`` says whether the text up to a ``;`` is whole, so a ``;`` inside any of
those is passed over as SQLite itself would. Pieces holding only comments are no statements.
"""

from __future__ import annotations

import re
import sqlite3

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?(\*/|$)", re.DOTALL)


def _has_sql(piece: str) -> bool:
    # Cutting at a "--" inside a string leaves the text before it: never a false "empty".
    return bool(_COMMENTS.sub("", piece).strip(" \t\r\n;"))


def split_statements(script: str) -> list[str]:
    statements: list[str] = []
    start = 0
    at = script.find(";")
    while at != -1:
        piece = script[start : at + 1]
        if sqlite3.complete_statement(piece):
            if _has_sql(piece):
                statements.append(piece.strip())
            start = at + 1
        at = script.find(";", at + 1)
    rest = script[start:]
    if _has_sql(rest):
        statements.append(rest.strip())
    return statements
