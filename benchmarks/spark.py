"""The org-scale path, measured: export, lake build, the hunt on Spark against the hunt on DuckDB
over the same events (one run, so the ratio shares the machine's state), and pull.

    python benchmarks/spark.py                                  # 1M events (the bench sample)
    python benchmarks/spark.py --evidence DIR --case FILE --label 10M

Evidence and its loaded case are only read; everything written goes under --work (default a new
folder in /tmp). Spark runs `local[2]` in this process (one session for every Spark step; its
start is timed apart). The machine's load average is recorded before and after each step: on a
shared machine a step's time means little without it. Results go to
benchmarks/results/spark-<label>.json, rewritten after every step: a step that fails is recorded
with its error (and the steps that needed it as skipped), and the run goes on to the next.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = Path("/work/bench-data")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process and its live children (the Spark
    JVM): on a shared machine, events per CPU-second is the throughput the load does not skew."""
    tick = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    total = sum(os.times()[:2])
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:  # ppid (field 4 of stat; 2 after the command's closing paren)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Skipped(Exception):
    """A step that needed the result of one that failed."""


FAILED = object()


def step(results: dict, out: Path, name: str, fn, *needs, **extra):
    """Run one step, record its time and the load around it (or its error), write the results."""
    before = _load()
    start, cpu = time.perf_counter(), _cpu_seconds()
    try:
        if any(n is FAILED for n in needs):
            raise Skipped("a step it needs failed")
        value = fn()
        record = {"seconds": round(time.perf_counter() - start, 2), "cpu_s": round(_cpu_seconds() - cpu, 1)}
    except Skipped as exc:
        value, record = FAILED, {"skipped": str(exc)}
    except Exception as exc:  # noqa: BLE001 - any failure is a result to record
        value = FAILED
        record = {
            "failed_after_s": round(time.perf_counter() - start, 2),
            "error": f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
            "traceback_tail": traceback.format_exc().strip().splitlines()[-6:],
        }
    results["steps"][name] = {**record, "load_before": before, "load_after": _load(), **extra}
    print(f"{name}: {record} (load {before} -> {_load()})", flush=True)
    write(results, out)
    return value


def write(results: dict, out: Path) -> None:
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")


def trail_only(evidence: Path, work: Path) -> Path:
    """The evidence's CloudTrail tree, linked (not copied) under work: lake build reads trail files."""
    root = work / "trail"
    for src in evidence.rglob("*"):
        if src.is_file() and "/CloudTrail/" in src.as_posix():
            dst = root / src.relative_to(evidence)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(src, dst)
    return root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evidence", type=Path, default=BENCH / "scale-166" / "evidence")
    ap.add_argument("--case", type=Path, default=BENCH / "work" / "case.duckdb", help="the evidence, loaded")
    ap.add_argument("--label", default="1M")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--spark-memory", default="2g", help="the Spark driver's heap (local mode: every task)")
    ap.add_argument("--skip", action="append", default=[], help="a step not to run (repeatable)")
    ap.add_argument("--access-key", default=None, help="indicator to pull (default: the ground truth's key)")
    args = ap.parse_args()

    import forensics
    from forensics.engines.spark import SparkLake, run_hunt_spark, spark_session
    from forensics.hunt import run_hunt
    from forensics.lake import export_case
    from forensics.lake.build import build_lake
    from forensics.lake.pull import pull

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    truth = args.evidence.parent / "ground_truth.json"
    key = args.access_key or json.loads(truth.read_text())["leaked_access_key"]
    results: dict = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "label": args.label,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, shared with other jobs",
        "master": args.master,
        "spark_memory": args.spark_memory,
        "evidence": str(args.evidence),
        "case": str(args.case),
        "steps": {},
    }
    out = HERE / "results" / f"spark-{args.label}.json"
    with forensics.Case(args.case, read_only=True) as case:
        results["events"] = case.con.execute("SELECT count(*) FROM cloudtrail").fetchone()[0]
        duck = step(results, out, "duckdb_hunt", lambda: run_hunt(case, on_problem=lambda line: None))
    lake = work / "lake"
    exported = step(results, out, "export", lambda: export_case(args.case, lake))
    spark = step(
        results,
        out,
        "spark_session_start",
        lambda: spark_session(args.master, "forensics-bench", memory=args.spark_memory),
    )
    sl = step(results, out, "spark_register_lake", lambda: SparkLake(spark, lake), spark, exported)
    problems: list[str] = []
    per_query: dict[str, float] = {}
    sp = step(
        results,
        out,
        "spark_hunt",
        lambda: run_hunt_spark(sl, on_problem=problems.append, timings=per_query),
        sl,
    )
    results["spark_hunt_problems"] = problems
    results["spark_hunt_per_query_s"] = dict(sorted(per_query.items(), key=lambda kv: -kv[1]))
    if duck is not FAILED and sp is not FAILED:
        results["findings"] = {"duckdb": len(duck), "spark": len(sp)}
        same = sorted(f["detection"] for f in duck) == sorted(f["detection"] for f in sp)
        results["findings"]["same_detections"] = same
    pulled = work / "pulled.duckdb"
    step(
        results,
        out,
        "pull",
        lambda: pull(lake, pulled, access_key=key),
        exported,
        indicator=f"--access-key {key}",
    )
    if "lake_build" not in args.skip:
        trail = trail_only(args.evidence, work)
        built = work / "built"
        report = step(results, out, "lake_build", lambda: build_lake(spark, str(trail), built), spark)
        if report is not FAILED:
            results["lake_build"] = report.to_dict()
    if spark is not FAILED:
        with contextlib.suppress(Exception):  # a JVM that died cannot be stopped
            spark.stop()
    s = results["steps"]
    m = re.fullmatch(r"local\[(\d+)\]", args.master)
    cores = int(m.group(1)) if m else None
    if "seconds" in s.get("spark_hunt", {}) and "seconds" in s.get("duckdb_hunt", {}):
        results["ratio_spark_to_duckdb_hunt"] = round(
            s["spark_hunt"]["seconds"] / s["duckdb_hunt"]["seconds"], 2
        )
    if cores:
        results["cores"] = cores
        for name in ("spark_hunt", "lake_build"):
            if "seconds" in s.get(name, {}):
                results[f"{name}_events_per_core_s"] = round(results["events"] / s[name]["seconds"] / cores)
                if s[name].get("cpu_s"):
                    results[f"{name}_events_per_cpu_s"] = round(results["events"] / s[name]["cpu_s"])
    write(results, out)
    print(json.dumps(results, indent=2, default=str))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
