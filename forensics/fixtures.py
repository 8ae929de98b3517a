"""Query fixtures: raw evidence written from a compact YAML description, fed through the real loaders.

Each canned query `queries/<source>/<id>.sql` has a sibling `<id>.tests.yaml` with cases that must
fire and near misses that must stay silent. A case describes evidence, not table rows: CloudTrail
records (JSON objects with realistic defaults filled in for what the case does not care about),
VPC flow log text with its header, billing CSV rows, findings JSON. `run_case` writes them to a
folder, loads them with `Case.load` into an in-memory case (one per process, emptied to what a
new case holds before each fixture), runs the query and checks the facts.

A CloudTrail record in a fixture is a CloudTrail JSON object whose keys pass through unchanged,
plus a few shorthands:

    at: "2026-03-02 09:00:05" (or "09:00:05" on the file's `date`, or "+1d 09:00:05")
    api: iam:CreateUser          -> eventSource iam.amazonaws.com, eventName CreateUser
    actor: owner                 -> userIdentity from the file's `actors` (or an inline dict)
    ip, ua, region, key          -> sourceIPAddress, userAgent, awsRegion, accessKeyId
    params, response             -> requestParameters, responseElements
    denied: true | explicit      -> the service's denial code and IAM's message wording
    dry_run: true                -> Client.DryRunOperation
    error: Code | [Code, message]
    repeat: N, every: seconds    -> N copies, `every` seconds apart
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from . import derived, vocabulary
from .case import Case
from .output import iso_times
from .schema import create_tables, upgrade

ACCOUNT = "111122223333"
DEFAULT_DATE = "2026-03-02"
DEFAULT_IP = "203.0.113.10"
DEFAULT_UA = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off"
# Services whose JSON protocol answers a denial with AccessDeniedException.
_JSON_DENIAL = {
    "lambda",
    "kms",
    "ssm",
    "secretsmanager",
    "servicequotas",
    "logs",
    "dynamodb",
    "guardduty",
    "securityhub",
    "config",
    "organizations",
    "sso",
    "bedrock",
    "ecs",
    "ecr",
    "glue",
    "sagemaker",
    "codebuild",
    "cloudtrail",
    "events",
    "rolesanywhere",
    "route53resolver",
    "account",
    "ce",
}
_READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "Search", "Check", "BatchGet")
_SHORTHANDS = {
    "at",
    "api",
    "actor",
    "ip",
    "ua",
    "region",
    "key",
    "params",
    "response",
    "denied",
    "dry_run",
    "error",
    "repeat",
    "every",
}


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n].upper()


def parse_time(value: Any, base: str = DEFAULT_DATE) -> datetime:
    """A fixture time: ISO text, 'HH:MM:SS' on the base date, or '+Nd HH:MM:SS'."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int):  # YAML reads an unquoted 10:00:05 as sexagesimal seconds
        return datetime.fromisoformat(f"{base}T00:00:00+00:00") + timedelta(seconds=value)
    text = str(value).strip()
    m = re.fullmatch(r"(?:\+(\d+)d\s+)?(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)", text)
    if m:
        day = date.fromisoformat(str(base)) + timedelta(days=int(m.group(1) or 0))
        return datetime.fromisoformat(f"{day.isoformat()}T{m.group(2)}").replace(tzinfo=UTC)
    t = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_identity(spec: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    """A CloudTrail userIdentity from a short actor description."""
    account = str(spec.get("account", ACCOUNT))
    if "identity" in spec:  # verbatim
        return dict(spec["identity"])
    if spec.get("service"):
        return {"type": "AWSService", "invokedBy": spec["service"]}
    if spec.get("root"):
        ident = {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
            "accessKeyId": key or spec.get("key") or "AKIA" + _hex("root" + account, 16),
        }
    elif "role" in spec:
        role, session = spec["role"], str(spec.get("session", "session"))
        role_id = "AROA" + _hex("role" + role, 17)
        ident = {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
            "accountId": account,
            "accessKeyId": key or spec.get("key") or "ASIA" + _hex(f"{role}/{session}", 16),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": f"arn:aws:iam::{account}:role/{role}",
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {
                    "creationDate": "2026-03-01T00:00:00Z",
                    "mfaAuthenticated": str(bool(spec.get("mfa", False))).lower(),
                },
            },
        }
        if spec.get("delivery"):
            ident["sessionContext"]["ec2RoleDelivery"] = str(spec["delivery"])
    else:
        name = spec.get("user", "alice")
        ident = {
            "type": "IAMUser",
            "principalId": "AIDA" + _hex("user" + name, 17),
            "arn": f"arn:aws:iam::{account}:user/{name}",
            "accountId": account,
            "accessKeyId": key or spec.get("key") or "AKIA" + _hex("user" + name, 16),
            "userName": name,
        }
        if "mfa" in spec:
            ident["sessionContext"] = {
                "attributes": {
                    "creationDate": "2026-03-01T00:00:00Z",
                    "mfaAuthenticated": str(bool(spec["mfa"])).lower(),
                }
            }
    if spec.get("console"):
        ident.pop("accessKeyId", None)
    if spec.get("invoked_by"):
        ident["invokedBy"] = spec["invoked_by"]
    if "arn" in spec:
        ident["arn"] = spec["arn"]
    return ident


def _denial(service: str, name: str, arn: str, explicit: bool) -> tuple[str, str]:
    why = (
        "with an explicit deny in an identity-based policy"
        if explicit
        else f"because no identity-based policy allows the {service}:{name} action"
    )
    message = f"User: {arn} is not authorized to perform: {service}:{name} {why}"
    if service == "ec2":
        return "Client.UnauthorizedOperation", f"You are not authorized to perform this operation. {message}"
    return ("AccessDeniedException" if service in _JSON_DENIAL else "AccessDenied"), message


def cloudtrail_records(
    specs: list[dict[str, Any]],
    actors: dict[str, dict[str, Any]] | None = None,
    defaults: dict[str, Any] | None = None,
    seed: str = "",
) -> list[dict[str, Any]]:
    """Expand fixture record specs into complete CloudTrail records (repeat included)."""
    actors = actors or {}
    defaults = defaults or {}
    base = str(defaults.get("date", DEFAULT_DATE))
    out: list[dict[str, Any]] = []
    for i, spec in enumerate(specs):
        spec = {**{k: v for k, v in defaults.items() if k != "date"}, **spec}
        count = int(spec.get("repeat", 1))
        every = float(spec.get("every", 1))
        first = parse_time(spec.get("at", "09:00:00"), base)
        for j in range(count):
            out.append(_record(spec, actors, first + timedelta(seconds=every * j), f"{seed}/{i}/{j}"))
    return out


def _record(
    spec: dict[str, Any], actors: dict[str, dict[str, Any]], at: datetime, seed: str
) -> dict[str, Any]:
    actor = spec.get("actor", {})
    actor = dict(actors[actor]) if isinstance(actor, str) else dict(actor or {})
    service, _, name = str(spec.get("api", "sts:GetCallerIdentity")).partition(":")
    ident = user_identity(actor, spec.get("key"))
    account = str(actor.get("account", ACCOUNT))
    default_ip = actor.get("service") or actor.get("ip", DEFAULT_IP)
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": ident,
        "eventTime": iso(at),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": spec.get("region", actor.get("region", "us-east-1")),
        "sourceIPAddress": spec.get("ip", default_ip),
        "userAgent": spec.get("ua", actor.get("service") or actor.get("ua", DEFAULT_UA)),
        "requestParameters": spec.get("params"),
        "responseElements": spec.get("response"),
        "requestID": str(uuid.uuid5(uuid.NAMESPACE_URL, "req" + seed)),
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, "evt" + seed)),
        "readOnly": name.startswith(_READ_PREFIXES),
        "eventType": "AwsConsoleSignIn" if service == "signin" else "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if spec.get("denied"):
        arn = ident.get("arn", "")
        rec["errorCode"], rec["errorMessage"] = _denial(service, name, arn, spec["denied"] == "explicit")
    elif spec.get("dry_run"):
        rec["errorCode"] = "Client.DryRunOperation"
        rec["errorMessage"] = "Request would have succeeded, but DryRun flag is set."
    elif spec.get("error"):
        err = spec["error"]
        code, message = (err, f"{err} error") if isinstance(err, str) else (err[0], err[1])
        rec["errorCode"], rec["errorMessage"] = code, message
    for k, v in spec.items():  # anything else is a CloudTrail key, verbatim
        if k not in _SHORTHANDS:
            rec[k] = v
    return rec


def write_evidence(folder: Path, case: dict[str, Any], suite: dict[str, Any], seed: str = "") -> None:
    """Write a case's evidence as the raw files the loaders read."""
    folder.mkdir(parents=True, exist_ok=True)
    if case.get("cloudtrail"):
        defaults = {**(suite.get("defaults") or {}), **(case.get("defaults") or {})}
        actors = {**(suite.get("actors") or {}), **(case.get("actors") or {})}
        records = cloudtrail_records(case["cloudtrail"], actors, defaults, seed)
        (folder / "cloudtrail.json").write_text(json.dumps({"Records": records}), encoding="utf-8")
    if case.get("vpcflow"):
        base = str(
            {**(suite.get("defaults") or {}), **(case.get("defaults") or {})}.get("date", DEFAULT_DATE)
        )
        (folder / "flows.log").write_text(flow_lines(case["vpcflow"], base), encoding="utf-8")
    if case.get("billing"):
        base = str(
            {**(suite.get("defaults") or {}), **(case.get("defaults") or {})}.get("date", DEFAULT_DATE)
        )
        (folder / "cur.csv").write_text(flow_lines(case["billing"], base), encoding="utf-8")
    findings = case.get("findings")
    if findings:
        text = findings if isinstance(findings, str) else json.dumps(findings)
        (folder / "findings.json").write_text(text, encoding="utf-8")
    for name, content in (case.get("files") or {}).items():
        (folder / name).write_text(
            content if isinstance(content, str) else json.dumps(content), encoding="utf-8"
        )


def flow_lines(spec: Any, base: str = DEFAULT_DATE) -> str:
    """Flow log or billing text: verbatim lines, or `{row: "...", at, repeat, every}` entries, one
    line per `every` seconds; `{start}`/`{end}` become Unix seconds, `{start_iso}`/`{end_iso}` ISO
    times, `{n}` the repetition number (a steady stream, an hourly bill)."""
    if isinstance(spec, str):
        return spec
    out: list[str] = []
    for entry in spec:
        if isinstance(entry, str):
            out.append(entry)
            continue
        first = parse_time(entry.get("at", "00:00:00"), base)
        every = int(entry.get("every", 300))
        for j in range(int(entry.get("repeat", 1))):
            start = int(first.timestamp()) + j * every
            end = start + int(entry.get("duration", every))
            out.append(
                str(entry["row"]).format(
                    start=start,
                    end=end,
                    start_iso=iso(datetime.fromtimestamp(start, UTC)),
                    end_iso=iso(datetime.fromtimestamp(end, UTC)),
                    n=j,
                )
            )
    return "\n".join(out) + "\n"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "\n".join(value) + "\n"


def load_suite(sql_path: str | Path) -> dict[str, Any]:
    """The `<id>.tests.yaml` beside a query file (empty when missing); for a rule
    (`queries/rules/<family>.yaml#<id>`) its own `tests:` with the family's actors and defaults."""
    if "#" in str(sql_path):
        from .rules import suite

        return suite(str(sql_path).rsplit("#", 1)[1])
    path = Path(sql_path).with_suffix(".tests.yaml")
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


class _EmptyCase:
    """One in-memory case per process, emptied between fixture cases: opening a case (its tables,
    comments and vocabulary) costs more than loading and querying a fixture, and an emptied case
    holds exactly what a new one holds (every table's rows, the load-id sequence, `case_meta`,
    and no staging table a load left behind)."""

    _case: Case | None = None
    _temp: frozenset[str] = frozenset()
    loaded: tuple[str, tuple[str, ...]] | None = None  # the fixture it holds, and its problems

    @classmethod
    def get(cls, keep: bool = False) -> Case:
        if keep and cls._case is not None:
            return cls._case
        cls.loaded = None
        if cls._case is None:
            c = Case(":memory:")
            c._write_snapshot = False  # noqa: SLF001 (queried once, then emptied: the views compute)
            cls._case, cls._temp = c, _temp_tables(c)
            return c
        c = cls._case
        c._forget_analysis(keep=True)  # noqa: SLF001 (its cursor as a new case's: nothing cached)
        con = c.con
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND NOT list_contains($keep, table_name)",
            {"keep": sorted(cls._temp)},
        ).fetchall():
            con.execute(f'DROP TABLE temp.main."{name}"')
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary"
        ).fetchall():
            con.execute(f'DELETE FROM main."{name}"')
        con.execute("DROP SEQUENCE load_id_seq")
        # a new case has no snapshot of the shared views (forensics.derived): its views compute
        con.execute(f"DROP SCHEMA IF EXISTS {derived.SCHEMA} CASCADE")
        # as Case() opens a new one (tables, upgrades, the vocabulary reading the evidence)
        create_tables(con)
        upgrade(con)
        vocabulary.install(con, derived=False)
        return c

    @classmethod
    def discard(cls) -> None:
        if cls._case is not None:
            with contextlib.suppress(Exception):
                cls._case.close()
        cls._case = None
        cls.loaded = None


def _temp_tables(c: Case) -> frozenset[str]:
    rows = c.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    return frozenset(r[0] for r in rows)


def empty_case() -> Case:
    """The process's in-memory fixture case, emptied: as a new `Case(":memory:")` is (not to be
    closed by the caller; the next call empties it again)."""
    return _EmptyCase.get()


def run_case(
    query_id: str, case: dict[str, Any], suite: dict[str, Any], sql: str | None = None
) -> tuple[pl.DataFrame, list[str]]:
    """Load the case's evidence into an empty case, run the query (or `sql` in its place, with
    the query's parameters bound); its rows and load problems. The same evidence asked for
    twice in a row (a rule alone, then the one scan of every rule) is loaded once: queries only
    read the case (`sql` must not write to it)."""
    key = json.dumps([query_id, case, suite], sort_keys=True, default=str)
    try:
        if _EmptyCase.loaded is not None and _EmptyCase.loaded[0] == key:
            c = _EmptyCase.get(keep=True)
            problems = list(_EmptyCase.loaded[1])
        else:
            c, problems = _load(query_id, case, suite)
            _EmptyCase.loaded = (key, tuple(problems))
        params = case.get("params") or {}
        if sql is None:
            df = c.query(query_id, **params)
        else:
            q = c.queries()[query_id]
            df = c.sql(sql, **q.bind(params))
    except BaseException:
        _EmptyCase.discard()  # a load or query that failed half-way: start the next one anew
        raise
    return df, problems


def _load(query_id: str, case: dict[str, Any], suite: dict[str, Any]) -> tuple[Case, list[str]]:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fx-") as tmp:
        folder = Path(tmp) / "evidence"
        write_evidence(folder, case, suite, seed=f"{query_id}/{case.get('name', '')}")
        c = _EmptyCase.get()
        report = c.load([folder], on_problem=problems.append)
        if report.rejected or report.rejected_files:
            problems.append(f"{report.rejected} records / {report.rejected_files} files rejected")
    return c, problems


def check(df: pl.DataFrame, case: dict[str, Any]) -> list[str]:
    """What the rows get wrong against the case's expectations (empty when all hold)."""
    expect = dict(case.get("expect") or {})
    fails: list[str] = []
    if not case.get("fires", True):
        expect.setdefault("rows", 0)
    rows = iso_times(df).to_dicts()
    if "rows" in expect and len(rows) != expect["rows"]:
        fails.append(f"expected {expect['rows']} rows, got {len(rows)}: {_brief(rows)}")
    if case.get("fires", True) and not rows:
        fails.append("expected the query to fire, it returned nothing")
    for col, want in (expect.get("each") or {}).items():
        bad = [r.get(col) for r in rows if not _same(r.get(col), want)]
        if bad:
            fails.append(f"column {col}: every row should be {want!r}, got {bad[:5]!r}")
    for want in expect.get("contains") or []:
        if not any(all(_same(r.get(k), v) for k, v in want.items()) for r in rows):
            fails.append(f"no row matches {want!r}; rows: {_brief(rows)}")
    for col, values in (expect.get("values") or {}).items():
        got = sorted({str(r.get(col)) for r in rows})
        if got != sorted(str(v) for v in values):
            fails.append(f"column {col}: distinct values should be {sorted(map(str, values))}, got {got}")
    return fails


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) or isinstance(got, float):
        try:
            return math.isclose(float(got), float(want), rel_tol=1e-6, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    if isinstance(want, list):
        return isinstance(got, list) and sorted(map(str, got)) == sorted(map(str, want))
    if isinstance(want, datetime):
        want = iso(want)
    return got == want or (got is not None and want is not None and str(got) == str(want))


def _brief(rows: list[dict[str, Any]]) -> str:
    keep = ("event_time", "principal_arn", "source_ip", "region", "resource", "severity")
    return json.dumps([{k: r.get(k) for k in keep if k in r} for r in rows[:6]], default=str)
