"""The shared views kept in the case (forensics.derived): written by a load, refreshed by the next
one, never read once the evidence changed outside a load, and absent from a case written before."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

import forensics
from forensics import derived, vocabulary
from forensics.schema import create_tables


def _trail(folder: Path, name: str, keys: list[str]) -> Path:
    records = [
        {
            "eventVersion": "1.08",
            "eventTime": f"2026-11-0{i + 1}T10:00:00Z",
            "eventSource": "sts.amazonaws.com",
            "eventName": "GetCallerIdentity",
            "awsRegion": "us-east-1",
            "sourceIPAddress": f"198.51.100.{i + 1}",
            "userAgent": "aws-cli/2",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLE",
                "arn": "arn:aws:iam::111122223333:user/dev",
                "accountId": "111122223333",
                "accessKeyId": key,
                "userName": "dev",
            },
            "eventID": f"{name}-{i}",
            "readOnly": True,
            "eventType": "AwsApiCall",
            "recipientAccountId": "111122223333",
        }
        for i, key in enumerate(keys)
    ]
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"Records": records}))
    return path


def _reads_snapshot(case: forensics.Case, view: str) -> bool:
    sql = case.sql("SELECT sql FROM duckdb_views() WHERE temporary AND view_name = $v", v=view)["sql"][0]
    return f"{derived.SCHEMA}.{view}" in sql


def test_a_load_writes_the_snapshot_and_the_next_load_refreshes_it(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    with forensics.Case(path) as case:
        case.load(_trail(tmp_path, "one", ["AKIAAAAAAAAAAAAAAAA1"]), on_problem=lambda line: None)
        views = {r[0] for r in case.con.execute("SELECT view FROM derived.provenance").fetchall()}
        assert views == set(vocabulary.SHARED_VIEWS)
        assert _reads_snapshot(case, "key_first_seen")
        assert len(case.sql("SELECT * FROM key_first_seen")) == 1
        case.load(
            _trail(tmp_path, "two", ["AKIAAAAAAAAAAAAAAAA2", "AKIAAAAAAAAAAAAAAAA3"]),
            on_problem=lambda line: None,
        )
        assert _reads_snapshot(case, "key_first_seen")
        assert len(case.sql("SELECT * FROM key_first_seen")) == 3
    with forensics.Case(path, read_only=True) as case:
        assert _reads_snapshot(case, "identity_network")
        assert len(case.sql("SELECT * FROM key_first_seen")) == 3


def test_evidence_changed_outside_a_load_is_read_from_the_evidence(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    with forensics.Case(path) as case:
        case.load(_trail(tmp_path, "one", ["AKIAAAAAAAAAAAAAAAA1"]), on_problem=lambda line: None)
        case.con.execute(
            "INSERT INTO cloudtrail (event_id, event_time, access_key_id, account_id) "
            "VALUES ('added', TIMESTAMPTZ '2026-11-05 10:00:00+00', 'AKIAAAAAAAAAAAAAAAA9', '111122223333')"
        )
    with forensics.Case(path, read_only=True) as case:
        assert not _reads_snapshot(case, "key_first_seen")
        keys = case.sql("SELECT access_key_id FROM key_first_seen ORDER BY 1")["access_key_id"].to_list()
        assert keys == ["AKIAAAAAAAAAAAAAAAA1", "AKIAAAAAAAAAAAAAAAA9"]
    with forensics.Case(path) as case:  # a read-write open writes it again
        assert _reads_snapshot(case, "key_first_seen")
        assert len(case.sql("SELECT * FROM key_first_seen")) == 2


def test_a_case_without_a_snapshot_computes_the_views(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    with forensics.Case(path) as case:
        case.load(_trail(tmp_path, "one", ["AKIAAAAAAAAAAAAAAAA1"]), on_problem=lambda line: None)
        case.con.execute("DROP SCHEMA derived CASCADE")  # as a case written before
    with forensics.Case(path, read_only=True) as case:
        assert not _reads_snapshot(case, "key_first_seen")
        assert len(case.sql("SELECT * FROM key_first_seen")) == 1


def test_installing_again_gives_what_a_new_connection_holds(tmp_path: Path) -> None:
    """A second install on a connection re-makes only the shared views that read a snapshot or a
    cache (forensics.vocabulary.install): afterwards every view reads what it reads on a new
    connection, the evidence or the snapshot, and no cached table is left."""

    def views(con) -> dict[str, str]:
        rows = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE temporary").fetchall()
        return dict(rows)

    def cached(con) -> list[str]:
        rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        return sorted(r[0] for r in rows if r[0].startswith("vocab_cache_"))

    path = tmp_path / "case.duckdb"
    with forensics.Case(path) as case:
        case.load(_trail(tmp_path, "one", ["AKIAAAAAAAAAAAAAAAA1"]), on_problem=lambda line: None)
        con = case.con
        redirected = views(con)
        assert f"FROM {derived.SCHEMA}.key_first_seen" in redirected["key_first_seen"]
        vocabulary.install(con, derived=False)  # as a load does first: the evidence, not a snapshot
        plain = views(con)
        assert all(derived.SCHEMA + "." not in plain[v] for v in vocabulary.SHARED_VIEWS)
        vocabulary.cache_shared_views(con)
        assert len(cached(con)) == len(vocabulary.SHARED_VIEWS)
        vocabulary.install(con, derived=False)
        assert views(con) == plain and cached(con) == []
        vocabulary.install(con)
        assert views(con) == redirected
        fresh = forensics.connection.cursor(con)  # a new connection to the same case
        try:
            assert views(fresh) == redirected
            vocabulary.install(fresh, derived=False)
            assert views(fresh) == plain
        finally:
            fresh.close()


def test_shared_views_come_after_every_shared_view_they_read() -> None:
    # a load computes them in this order, each reading the tables of those before it
    con = duckdb.connect()
    create_tables(con)
    vocabulary.install(con, derived=False)
    text = dict(con.execute("SELECT view_name, sql FROM duckdb_views() WHERE temporary").fetchall())

    def reads(view: str, seen: frozenset[str] = frozenset()) -> set[str]:
        named = {v for v in text if v != view and re.search(rf"\b{v}\b", text[view])}
        return named.union(*(reads(v, seen | {view}) for v in named - seen))

    order = vocabulary.SHARED_VIEWS
    assert reads("key_first_use") >= {"identity_network", "key_first_seen", "region_use"}
    for i, view in enumerate(order):
        assert not reads(view) & set(order[i:]), view
