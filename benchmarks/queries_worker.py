"""Time every canned query on a case: median and max of five runs each, in milliseconds."""

from __future__ import annotations

import json
import statistics
import sys
import time

import forensics

case = forensics.Case(sys.argv[1], read_only=True)
out = {}
for qid in sorted(case.queries()):
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        case.query(qid)
        runs.append((time.perf_counter() - t) * 1000)
    out[qid] = {"median_ms": round(statistics.median(runs), 1), "max_ms": round(max(runs), 1)}
print(json.dumps(out))
