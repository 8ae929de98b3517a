"""Time every canned query on a case: median and max of five runs each, in milliseconds.

Detections run over the whole case, as the hunt runs them; timelines run scoped to the
indicator (their use in an investigation), and once unscoped as a whole-case export.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import forensics
import forensics.rules

case = forensics.Case(sys.argv[1], read_only=True)
access_key = sys.argv[2] if len(sys.argv) > 2 else None


def timed(qid: str, **params) -> dict:
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        case.query(qid, **params)
        runs.append((time.perf_counter() - t) * 1000)
    return {"median_ms": round(statistics.median(runs), 1), "max_ms": round(max(runs), 1)}


out = {}
for qid, q in sorted(case.queries().items()):
    if q.meta.get("rule"):
        continue  # single-event rules run together, as one scan (below)
    if q.kind == "timeline" and access_key:
        out[qid] = timed(qid, access_key_id=access_key)
        out[f"{qid} (unscoped export)"] = timed(qid)
    else:
        out[qid] = timed(qid)

# Every single-event rule in one scan (forensics.rules), as the hunt runs it: after the shared
# vocabulary views are cached (the hunt caches them once for all detections).
rules_sql = forensics.rules.combined_sql()
n_rules = len(forensics.rules.load_rules())
case.cache_shared_views()
runs = []
for _ in range(5):
    t = time.perf_counter()
    case.sql(rules_sql, from_time=None, to_time=None)
    runs.append((time.perf_counter() - t) * 1000)
out[f"rules: one scan of all {n_rules}"] = {
    "median_ms": round(statistics.median(runs), 1),
    "max_ms": round(max(runs), 1),
}
print(json.dumps(out))
