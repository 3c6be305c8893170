"""One database's file and connection (vortex/d1/database.py), without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from vortex.d1.database import D1Limits, Database, Statement
from vortex.d1.errors import D1Error, D1ResultTooLarge


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


def test_values_and_columns_are_limited_as_d1_limits_them(tmp_path: Path) -> None:
    database = Database(tmp_path / "db.sqlite3", D1Limits())
    with pytest.raises(D1Error, match="string or blob too big"):
        database.run([Statement("SELECT randomblob(2000001)")], False)
    assert database.run([Statement("SELECT length(randomblob(2000000)) AS n")], False)[0][
        "rows"
    ] == [[2_000_000]]
    columns = ", ".join(f"c{i}" for i in range(101))
    with pytest.raises(D1Error, match="too many columns"):
        database.run([Statement(f"CREATE TABLE wide ({columns})")], False)


def test_a_result_past_its_cap_is_refused_whole(tmp_path: Path) -> None:
    database = Database(tmp_path / "db.sqlite3", D1Limits(max_result_bytes=1 << 20))
    database.run([Statement("CREATE TABLE b (v)")], False)
    for _ in range(3):
        database.run([Statement("INSERT INTO b VALUES (randomblob(200000))")], False)
    one = database.run([Statement("SELECT v FROM b LIMIT 1", mode="first")], False)[0]
    assert len(one["rows"][0][0]) == 200_000
    with pytest.raises(D1ResultTooLarge, match="over 1048576 bytes"):
        database.run([Statement("SELECT v FROM b")], False)
