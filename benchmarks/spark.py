"""The org-scale path, measured: export, lake build, the hunt on Spark against the hunt on DuckDB
over the same events (one run, so the ratio shares the machine's state), and pull.

    python benchmarks/spark.py                                  # 1M events (the bench sample)
    python benchmarks/spark.py --evidence DIR --case FILE --label 10M

Evidence and its loaded case are only read; everything written goes under --work (default a new
folder in /tmp). Spark runs `local[2]` in this process (one session for every Spark step; its
start is timed apart). The machine's load average is recorded before and after each step: on a
shared machine a step's time means little without it. Results go to
benchmarks/results/spark-<label>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = Path("/work/bench-data")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def step(results: dict, name: str, fn, **extra):
    before = _load()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    results["steps"][name] = {
        "seconds": round(seconds, 2),
        "load_before": before,
        "load_after": _load(),
        **extra,
    }
    print(f"{name}: {seconds:.1f} s (load {before} -> {_load()})", flush=True)
    return value


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
        "evidence": str(args.evidence),
        "case": str(args.case),
        "steps": {},
    }
    with forensics.Case(args.case, read_only=True) as case:
        results["events"] = case.con.execute("SELECT count(*) FROM cloudtrail").fetchone()[0]
        duck = step(results, "duckdb_hunt", lambda: run_hunt(case, on_problem=lambda line: None))
    lake = work / "lake"
    step(results, "export", lambda: export_case(args.case, lake))
    spark = step(results, "spark_session_start", lambda: spark_session(args.master, "forensics-bench"))
    sl = step(results, "spark_register_lake", lambda: SparkLake(spark, lake))
    problems: list[str] = []
    sp = step(results, "spark_hunt", lambda: run_hunt_spark(sl, on_problem=problems.append))
    results["spark_hunt_problems"] = problems
    results["findings"] = {"duckdb": len(duck), "spark": len(sp)}
    same = sorted(f["detection"] for f in duck) == sorted(f["detection"] for f in sp)
    results["findings"]["same_detections"] = same
    pulled = work / "pulled.duckdb"
    step(results, "pull", lambda: pull(lake, pulled, access_key=key), indicator=f"--access-key {key}")
    trail = trail_only(args.evidence, work)
    built = work / "built"
    report = step(results, "lake_build", lambda: build_lake(spark, str(trail), built))
    results["lake_build"] = report.to_dict()
    spark.stop()
    s = results["steps"]
    results["ratio_spark_to_duckdb_hunt"] = round(s["spark_hunt"]["seconds"] / s["duckdb_hunt"]["seconds"], 2)
    m = re.fullmatch(r"local\[(\d+)\]", args.master)
    cores = int(m.group(1)) if m else None
    if cores:
        results["cores"] = cores
        for name in ("spark_hunt", "lake_build"):
            results[f"{name}_events_per_core_s"] = round(results["events"] / s[name]["seconds"] / cores)
    out = HERE / "results" / f"spark-{args.label}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(json.dumps(results, indent=2, default=str))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
