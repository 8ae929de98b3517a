"""`forensics sql ID --dialect athena --run` through pyathena against moto's real server (its
Athena backend records StartQueryExecution and serves results queued through its moto-api):
the statement sent is the one `sql` prints, string parameters go as Athena's execution
parameters (quoted, in order), and the rows come back typed, as `query --format json` writes
rows."""

from __future__ import annotations

import json

import boto3
import pytest
import requests
from typer.testing import CliRunner

from forensics.cli import app
from forensics.dialects import statement_for

REGION = "us-east-1"
QID = "access_key_first_seen"  # its access_key_id is a string in WHERE, twice


@pytest.fixture(scope="module")
def moto_url(monkeypatch_module):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",  # moto's dummy credentials: nothing leaves this process
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch_module.setenv(key, value)
    boto3.client("s3", region_name=REGION, endpoint_url=url).create_bucket(Bucket="results")
    yield url
    server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _queue(url: str, columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """Results moto's Athena serves for the next query (header row first, as Athena sends it)."""
    data = [{"Data": [{"VarCharValue": name} for name, _ in columns]}]
    data += [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]} for row in rows]
    info = [
        {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": n, "Label": n, "Type": t,
         "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": True}
        for n, t in columns
    ]  # fmt: skip
    body = {"region": REGION, "results": [{"rows": data, "column_info": info}]}
    response = requests.post(f"{url}/moto-api/static/athena/query-results", json=body, timeout=10)
    assert response.status_code == 201


def test_run_sends_the_printed_statement_with_quoted_parameters_and_prints_typed_rows(moto_url) -> None:
    key = "AKIAJNRSY47UUVASTROP"
    _queue(
        moto_url,
        [("access_key_id", "varchar"), ("first_seen", "timestamp"), ("events", "bigint"),
         ("read_only", "boolean")],
        [[key, "2026-11-16 02:51:43.000", "42", "true"], [key, None, "7", "false"]],
    )  # fmt: skip
    result = CliRunner().invoke(
        app,
        ["sql", QID, "--dialect", "athena", "--param", f"access_key_id={key}", "--run",
         "--workgroup", "primary", "--database", "org_trails", "--s3-output", "s3://results/athena/",
         "--region", REGION, "--endpoint-url", moto_url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows == [
        {"access_key_id": key, "first_seen": rows[0]["first_seen"], "events": 42, "read_only": True},
        {"access_key_id": key, "first_seen": None, "events": 7, "read_only": False},
    ]
    assert rows[0]["first_seen"].startswith("2026-11-16T02:51:43")  # typed as a time, written ISO
    athena = boto3.client("athena", region_name=REGION, endpoint_url=moto_url)
    [execution_id] = athena.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
    sent = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    text, order = statement_for(QID, "athena", {"access_key_id": key})
    assert sent["Query"] == text
    assert sent["QueryExecutionContext"]["Database"] == "org_trails"
    assert sent["ExecutionParameters"] == [f"'{key}'"] * len(order) and len(order) == 2
    assert sent["ResultConfiguration"]["OutputLocation"].startswith("s3://results/athena/")


def test_run_needs_athena_and_a_query() -> None:
    runner = CliRunner()
    wrong = runner.invoke(app, ["sql", QID, "--dialect", "trino", "--run"])
    assert wrong.exit_code == 2 and "Athena only" in wrong.output
    view = runner.invoke(app, ["sql", "--view", "cloudtrail_logs", "--run", "--dialect", "athena"])
    assert view.exit_code == 2


def test_a_quote_in_a_value_stays_inside_the_literal() -> None:
    from forensics.lake.athena import athena_string

    assert athena_string("x' OR '1'='1") == "'x'' OR ''1''=''1'"
