"""One database's file and connection (vortex/d1/database.py), without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from vortex.d1.database import D1Limits, Database, Statement
from vortex.d1.errors import D1Error


@pytest.mark.parametrize("sql", ["BEGIN IMMEDIATE", "COMMIT", "ROLLBACK", "PRAGMA page_size = 512"])
def test_the_text_of_the_databases_own_statements_is_refused_like_any_other(
    tmp_path: Path, sql: str
) -> None:
    """sqlite3 keeps prepared statements by their text and SQLite authorizes a statement only
    when it prepares it: a run that sent the text of one the database ran itself (a batch's
    BEGIN IMMEDIATE) got it back without the authorizer being asked."""
    database = Database(tmp_path / "db.sqlite3", D1Limits())
    database.run([Statement("CREATE TABLE t (a)"), Statement("INSERT INTO t VALUES (1)")], True)
    assert database.size() > 0  # the database's own PRAGMAs ran
    with pytest.raises(D1Error, match="not authorized"):
        database.run([Statement(sql)], False)
    assert not database.connection.in_transaction
