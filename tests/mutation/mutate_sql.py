"""Mutation testing for the SQL: the vocabulary (forensics/vocabulary/*.sql) and the canned queries.

mutmut and cosmic-ray mutate Python only; the definitions are SQL. This script parses each
statement with sqlglot (DuckDB dialect), makes one small change at a time (a mutant), writes it
into a temporary COPY of the repository and runs the tests that should notice. A mutant the tests
still pass on ("survivor") is either equivalent to the original or a fact no test asserts.

    PYTHONPATH=$PWD /work/main/.venv/bin/python tests/mutation/mutate_sql.py            # vocabulary
    ... tests/mutation/mutate_sql.py queries/cloudtrail/privilege_escalation.sql         # one query
    ... --sample 40 --jobs 1 --limit N --only escalation.sql --list

See tests/mutation/README.md. Never edits the worktree: mutants live in a temp copy only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

REPO = Path(__file__).resolve().parents[2]
COPY = ("forensics", "queries", "tests", "sample_data", "pyproject.toml")
DIALECT = "duckdb"
HEADER = re.compile(r"^\s*/\*\s*---\s*\n.*?\n\s*---\s*\*/", re.S)
# The tests a vocabulary mutant runs against (tests/vocabulary is added when it exists).
VOCAB_TESTS = (
    "tests/vocabulary",
    "tests/queries/test_fixtures.py",
    "tests/investigate",
    "tests/queries/test_hunt_sample.py",
)
IMPOSSIBLE = "#mutant-never-matches#"
SEED = 20261204

# A mutant first has to install and bind: a fresh case with one record loaded through the real
# loader (outcome_of, read_only_of run at load), then every canned query (or the one mutated) on it.
PRECHECK = r"""
import json, sys, tempfile
from pathlib import Path
import forensics
from forensics import catalog
ids = sys.argv[1:] or sorted(catalog.catalog())
rec = {"eventVersion": "1.09", "eventTime": "2026-01-01T00:00:00Z", "eventSource": "iam.amazonaws.com",
       "eventName": "CreateAccessKey", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7",
       "userAgent": "aws-cli/2", "requestParameters": {"userName": "bob"}, "eventID": "e1",
       "errorCode": "AccessDenied", "errorMessage": "x",
       "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                        "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLE0000000001",
                        "userName": "alice"},
       "eventType": "AwsApiCall", "recipientAccountId": "111122223333"}
with tempfile.TemporaryDirectory() as d:
    f = Path(d) / "AWSLogs/111122223333/CloudTrail/us-east-1"
    f = f / "111122223333_CloudTrail_us-east-1_20260101T0000Z.json"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps({"Records": [rec]}))
    with forensics.Case(":memory:") as c:
        c.load([Path(d)], on_problem=lambda line: None)
        for qid in ids:
            c.query(qid)
"""


# -- statements ---------------------------------------------------------------------------------
@dataclass
class Statement:
    start: int  # span in the file's text (without the terminating semicolon)
    end: int
    tree: exp.Expression


def statements(text: str, offset: int = 0) -> list[Statement]:
    """Split on the tokenizer's semicolons (comments and strings are respected) and parse each."""
    tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text)
    cuts = [t.start for t in tokens if t.token_type == TokenType.SEMICOLON]
    out, begin = [], 0
    for cut in [*cuts, len(text)]:
        span = text[begin:cut]
        if span.strip() and sqlglot.Dialect.get_or_raise(DIALECT).tokenize(span):
            tree = sqlglot.parse_one(span, read=DIALECT)
            out.append(Statement(offset + begin, offset + cut, tree))
        begin = cut + 1
    return out


def render(tree: exp.Expression) -> str:
    return tree.sql(dialect=DIALECT, pretty=True)


# -- mutation operators -------------------------------------------------------------------------
FLIPS: dict[type, type] = {
    exp.EQ: exp.NEQ, exp.NEQ: exp.EQ, exp.LT: exp.LTE, exp.LTE: exp.LT, exp.GT: exp.GTE, exp.GTE: exp.GT,
}  # fmt: skip
PATTERNS = (exp.Like, exp.ILike, exp.StartsWith, exp.EndsWith, exp.Contains)


def _flip(node: exp.Expression) -> Iterator[tuple[str, Callable[[exp.Expression], exp.Expression]]]:
    if type(node) in FLIPS:
        new = FLIPS[type(node)]
        yield (
            f"flip {node.key} -> {new.key}",
            lambda n: new(this=n.this.copy(), expression=n.expression.copy()),
        )


def _conjuncts(node: exp.Expression) -> Iterator[tuple[str, Callable]]:
    if isinstance(node, exp.And) and not isinstance(node.parent, exp.And):
        parts = list(node.flatten())
        for i in range(len(parts)):

            def drop(n: exp.Expression, i: int = i) -> exp.Expression:
                keep = [p.copy() for j, p in enumerate(n.flatten()) if j != i]
                return exp.and_(*keep, copy=False) if keep else exp.true()

            yield f"drop conjunct {i + 1}/{len(parts)}", drop


def _and_or(node: exp.Expression) -> Iterator[tuple[str, Callable]]:
    if isinstance(node, exp.And):
        yield "AND -> OR", lambda n: exp.Or(this=n.this.copy(), expression=n.expression.copy())
    elif isinstance(node, exp.Or):
        yield "OR -> AND", lambda n: exp.And(this=n.this.copy(), expression=n.expression.copy())


def _in_list(node: exp.Expression) -> Iterator[tuple[str, Callable]]:
    if isinstance(node, exp.In) and len(node.expressions) > 1:
        for i, item in enumerate(node.expressions):

            def drop(n: exp.Expression, i: int = i) -> exp.Expression:
                m = n.copy()
                m.set("expressions", [e for j, e in enumerate(m.expressions) if j != i])
                return m

            yield f"IN list without {item.sql(DIALECT)}", drop


def _values(node: exp.Expression) -> Iterator[tuple[str, Callable]]:
    if isinstance(node, exp.Values) and len(node.expressions) > 1:
        for i, row in enumerate(node.expressions):

            def drop(n: exp.Expression, i: int = i) -> exp.Expression:
                m = n.copy()
                m.set("expressions", [e for j, e in enumerate(m.expressions) if j != i])
                return m

            yield f"VALUES without row {row.sql(DIALECT)[:80]}", drop


def _not(node: exp.Expression) -> Iterator[tuple[str, Callable]]:
    if isinstance(node, exp.Not):
        yield "remove NOT", lambda n: n.this.copy()
    elif isinstance(node, exp.Like | exp.ILike) and node.args.get("negate"):

        def affirm(n: exp.Expression) -> exp.Expression:
            m = n.copy()
            m.set("negate", None)
            return m

        yield f"NOT {node.key.upper()} -> {node.key.upper()}", affirm


def _pattern(node: exp.Expression) -> Iterator[tuple[str, Callable]]:
    """The string a LIKE/ILIKE/starts_with/ends_with/contains tests for, made impossible."""
    if isinstance(node, PATTERNS) and isinstance(node.expression, exp.Literal) and node.expression.is_string:

        def impossible(n: exp.Expression) -> exp.Expression:
            m = n.copy()
            m.set("expression", exp.Literal.string(IMPOSSIBLE))
            return m

        yield f"{node.key} {node.expression.sql(DIALECT)} never matches", impossible


def _case(node: exp.Expression) -> Iterator[tuple[str, Callable]]:
    """Swap the results of two neighbouring CASE branches (the ELSE counts as the last)."""
    if not isinstance(node, exp.Case):
        return
    results = [i.args.get("true") for i in node.args.get("ifs") or []]
    if node.args.get("default") is not None:
        results.append(node.args["default"])
    for i in range(len(results) - 1):
        if results[i].sql(DIALECT) == results[i + 1].sql(DIALECT):
            continue

        def swap(n: exp.Expression, i: int = i) -> exp.Expression:
            m = n.copy()
            slots = [(b, "true") for b in m.args.get("ifs") or []]
            if m.args.get("default") is not None:
                slots.append((m, "default"))
            (a, ka), (b, kb) = slots[i], slots[i + 1]
            ra, rb = a.args[ka], b.args[kb]
            a.set(ka, rb.copy())
            b.set(kb, ra.copy())
            return m

        yield f"CASE results {i + 1} <-> {i + 2} swapped", swap


OPERATORS = (_flip, _conjuncts, _and_or, _in_list, _values, _not, _pattern, _case)


# -- mutants ------------------------------------------------------------------------------------
@dataclass
class Mutant:
    file: str  # repository-relative path
    number: int
    operator: str
    line: int  # line in the file of the mutated statement's start
    text: str  # the whole mutated file
    diff: list[str] = field(default_factory=list)
    status: str = ""  # killed | survived | error | timeout
    seconds: float = 0.0
    detail: str = ""


def mutants_of(rel: str) -> list[Mutant]:
    text = (REPO / rel).read_text(encoding="utf-8")
    body_from = 0
    if m := HEADER.match(text):
        body_from = m.end()
    out: list[Mutant] = []
    for st in statements(text[body_from:], offset=body_from):
        before = render(st.tree)
        nodes = list(st.tree.walk())
        for index, node in enumerate(nodes):
            for op in OPERATORS:
                for label, apply in op(node):
                    tree = st.tree.copy()
                    target = list(tree.walk())[index]
                    new = apply(target)
                    if target is tree:
                        tree = new
                    else:
                        target.replace(new)
                    after = render(tree)
                    if after == before:
                        continue
                    diff = [
                        d
                        for d in difflib.unified_diff(
                            before.splitlines(), after.splitlines(), lineterm="", n=0
                        )
                        if d[:1] in "+-" and not d.startswith(("+++", "---"))
                    ]
                    mutated = text[: st.start] + "\n" + after + "\n" + text[st.end :]
                    line = _first_line(text, st)
                    out.append(Mutant(rel, len(out) + 1, label, line, mutated, diff))
    return out


def _first_line(text: str, st: Statement) -> int:
    """Line of the statement's first keyword (after its leading comments)."""
    span = text[st.start : st.end]
    body = re.sub(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*\s*", "", span, flags=re.S)
    return text.count("\n", 0, st.start + len(span) - len(body)) + 1


def roundtrip(rel: str) -> str:
    """The file with every statement replaced by sqlglot's rendering of it (the baseline run)."""
    text = (REPO / rel).read_text(encoding="utf-8")
    body_from = m.end() if (m := HEADER.match(text)) else 0
    for st in reversed(statements(text[body_from:], offset=body_from)):
        text = text[: st.start] + "\n" + render(st.tree) + "\n" + text[st.end :]
    return text


# -- running ------------------------------------------------------------------------------------
def query_id(rel: str) -> str | None:
    return Path(rel).stem if rel.startswith("queries/") else None


def tests_for(rel: str, vocab_tests: list[str]) -> list[str]:
    qid = query_id(rel)
    if qid is None:
        return [t for t in vocab_tests if (REPO / t).exists()]
    chosen = ["tests/queries/test_fixtures.py", "tests/queries/test_time_window.py", "-k", qid]
    others = sorted(
        str(p.relative_to(REPO))
        for p in (REPO / "tests").rglob("test_*.py")
        if p.name != "test_fixtures.py" and qid in p.read_text(encoding="utf-8")
    )
    if others:  # -k applies to every selected file: run the mentioning files in a second pass
        return [*chosen, "--", *others]
    return chosen


def make_copy() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mutate-sql-"))
    for name in COPY:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        elif src.exists():
            shutil.copy2(src, root / name)
    return root


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_tests(root: Path, tests: list[str], timeout: float) -> tuple[int, str]:
    """pytest in the copy; with a `--` in `tests`, two passes (fixtures by -k, then the rest)."""
    passes = [tests]
    if "--" in tests:
        cut = tests.index("--")
        passes = [tests[:cut], tests[cut + 1 :]]
    for args in passes:
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            *args,
            "-x",
            "-q",
            "-rfE",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
        ]
        proc = subprocess.run(cmd, cwd=root, env=_env(root), capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            tail = [ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
            last = proc.stdout.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            return proc.returncode, (tail or last)[0]
    return 0, ""


def precheck(root: Path, rel: str) -> str:
    """'' when the mutated SQL installs and binds; else DuckDB's complaint (killed by error)."""
    qid = query_id(rel)
    cmd = [sys.executable, "-c", PRECHECK, *([qid] if qid else [])]
    proc = subprocess.run(cmd, cwd=root, env=_env(root), capture_output=True, text=True, timeout=300)
    if proc.returncode == 0:
        return ""
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else f"exit {proc.returncode}"


def judge(m: Mutant, root: Path, tests: list[str], timeout: float) -> Mutant:
    original = (root / m.file).read_text(encoding="utf-8")
    started = time.monotonic()
    try:
        (root / m.file).write_text(m.text, encoding="utf-8")
        try:
            sqlglot.parse(
                m.text[HEADER.match(m.text).end() :] if HEADER.match(m.text) else m.text, read=DIALECT
            )
        except sqlglot.errors.ParseError as exc:
            m.status, m.detail = "error", f"does not parse: {str(exc)[:150]}"
            return m
        if err := precheck(root, m.file):
            m.status, m.detail = "error", err
            return m
        try:
            code, first = run_tests(root, tests, timeout)
        except subprocess.TimeoutExpired:
            m.status, m.detail = "timeout", f"tests ran over {timeout:.0f} s"
            return m
        m.status, m.detail = ("killed", first) if code else ("survived", "")
        return m
    finally:
        (root / m.file).write_text(original, encoding="utf-8")
        m.seconds = time.monotonic() - started


def baseline(root: Path, rel: str, tests: list[str], timeout: float) -> tuple[bool, float, str]:
    """The tests must pass on sqlglot's rendering of the unmutated file, or its mutants mean nothing."""
    m = Mutant(rel, 0, "baseline (sqlglot round trip)", 0, roundtrip(rel))
    judge(m, root, tests, timeout)
    return m.status == "survived", m.seconds, m.detail


# -- report -------------------------------------------------------------------------------------
APPENDED = "\n<!-- appended run -->\n\n"


def write_report(
    path: Path, results: dict[str, list[Mutant]], notes: list[str], argv: list[str], append: bool = False
) -> None:
    lines = [
        "# SQL mutation run",
        "",
        f"Command: `python tests/mutation/mutate_sql.py {' '.join(argv)}`  ",
        f"When: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, sqlglot {sqlglot.__version__}",
        "",
        *[f"- {n}" for n in notes],
        "",
        "| file | mutants run | killed | killed by error | survived | timeout | minutes |",
        "|---|---|---|---|---|---|---|",
    ]
    for rel, ms in results.items():
        count = {s: sum(m.status == s for m in ms) for s in ("killed", "error", "survived", "timeout")}
        minutes = sum(m.seconds for m in ms) / 60
        lines.append(
            f"| {rel} | {len(ms)} | {count['killed']} | {count['error']} | {count['survived']} "
            f"| {count['timeout']} | {minutes:.1f} |"
        )
    for rel, ms in results.items():
        survivors = [m for m in ms if m.status in ("survived", "timeout")]
        if not survivors:
            continue
        lines += ["", f"## Survivors in {rel}", ""]
        for m in survivors:
            lines.append(f"- #{m.number} ({m.status}), statement at line {m.line}: {m.operator}")
            lines += [f"  `{d.strip()[:160]}`" for d in m.diff[:4]]
    text = "\n".join(lines) + "\n"
    if append and path.exists():
        text = path.read_text(encoding="utf-8").split(APPENDED)[0] + APPENDED + text
    path.write_text(text, encoding="utf-8")


def stopped(plan: dict[str, list[Mutant]], results: dict[str, list[Mutant]]) -> str:
    ran = sum(len(v) for v in results.values())
    planned = sum(len(v) for v in plan.values())
    return f"mutants run: {ran} of {planned} planned" + ("" if ran == planned else " (run stopped early)")


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so the temporary copies are removed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", help="SQL files or folders (default: forensics/vocabulary)")
    p.add_argument(
        "--jobs", type=int, default=1, help="mutants run at once (default 1: the machine is shared)"
    )
    p.add_argument("--limit", type=int, help="run at most N mutants per file (after --sample)")
    p.add_argument("--only", help="only files whose path ends with this")
    p.add_argument("--sample", type=int, help="a random sample of K mutants per file (fixed seed)")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument(
        "--mutants",
        help="only these mutant numbers, as --list shows them: 3,17 or record.sql:3,events.sql:17",
    )
    p.add_argument("--tests", nargs="+", default=list(VOCAB_TESTS), help="tests for vocabulary mutants")
    p.add_argument("--timeout", type=float, default=600, help="seconds per test run before 'timeout'")
    p.add_argument("--report", default=str(REPO / "tests/mutation/last-run.md"))
    p.add_argument("--append", action="store_true", help="add this run below the report's first run")
    p.add_argument("--list", action="store_true", help="print the mutants and stop")
    p.add_argument("--no-baseline", action="store_true", help="skip the unmutated round-trip run")
    args = p.parse_args(argv)

    files: list[str] = []
    for raw in args.paths or ["forensics/vocabulary"]:
        path = (REPO / raw).resolve() if not Path(raw).is_absolute() else Path(raw)
        found = sorted(path.glob("*.sql")) if path.is_dir() else [path]
        files += [str(f.relative_to(REPO)) for f in found]
    if args.only:
        files = [f for f in files if f.endswith(args.only)]
    if not files:
        p.error("no SQL file selected")

    plan: dict[str, list[Mutant]] = {}
    rng = random.Random(args.seed)
    for rel in files:
        ms = mutants_of(rel)
        total = len(ms)
        if args.mutants:  # "12,40" for every file, "escalation.sql:12" for one
            wanted = {
                int(n.rpartition(":")[2])
                for n in args.mutants.split(",")
                if ":" not in n or rel.endswith(n.rpartition(":")[0])
            }
            ms = [m for m in ms if m.number in wanted]
        if args.sample and args.sample < len(ms):
            ms = sorted(rng.sample(ms, args.sample), key=lambda m: m.number)
        if args.limit is not None:
            ms = ms[: args.limit]
        plan[rel] = ms
        print(f"{rel}: {total} mutants, running {len(ms)}", flush=True)
        if args.list:
            for m in ms:
                print(f"  #{m.number} line {m.line}: {m.operator}")
                for d in m.diff[:4]:
                    print(f"      {d.strip()[:150]}")
    if args.list:
        return 0

    signal.signal(signal.SIGTERM, _terminate)
    copies: queue.Queue[Path] = queue.Queue()
    roots = [make_copy() for _ in range(max(1, args.jobs))]
    for r in roots:
        copies.put(r)
    notes = [
        f"jobs: {args.jobs}; sample: {args.sample or 'all'} per file (seed {args.seed}); limit: {args.limit}"
    ]
    results: dict[str, list[Mutant]] = {}
    try:
        for rel, ms in plan.items():
            tests = tests_for(rel, args.tests)
            notes.append(f"{rel}: tests `{' '.join(tests)}`")
            if not args.no_baseline:
                ok, secs, why = baseline(roots[0], rel, tests, args.timeout)
                verdict = "ok" if ok else "FAILED"
                notes.append(f"{rel}: baseline (round trip, all tests pass) {verdict} in {secs:.0f} s {why}")
                print(notes[-1], flush=True)
                if not ok:
                    results[rel] = []
                    continue

            def one(m: Mutant, tests: list[str] = tests) -> Mutant:
                root = copies.get()
                try:
                    return judge(m, root, tests, args.timeout)
                finally:
                    copies.put(root)

            done: list[Mutant] = []
            results[rel] = done
            with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                for m in pool.map(one, ms):
                    done.append(m)
                    # after every mutant, so a run stopped early still leaves what it measured
                    write_report(
                        Path(args.report), results, [*notes, stopped(plan, results)], argv, args.append
                    )
                    print(
                        f"  #{m.number} {m.status:8} {m.seconds:5.0f} s  {m.operator}  {m.detail[:90]}",
                        flush=True,
                    )
    finally:
        for r in roots:
            shutil.rmtree(r, ignore_errors=True)
    write_report(Path(args.report), results, [*notes, stopped(plan, results)], argv, args.append)
    survivors = sum(m.status == "survived" for ms in results.values() for m in ms)
    print(f"report: {args.report}; survivors: {survivors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
