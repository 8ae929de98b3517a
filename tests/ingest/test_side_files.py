"""Side files in an evidence folder (issue 17): documentation, a dataset's labels, checksum lists
and digests of an unknown kind are skipped with the reason, not rejected, and listed; evidence
that merely looks like them (a flow log named .txt, CloudTrail named README.json) still loads,
and a JSON document of no known kind is still rejected. Through the CLI."""

from __future__ import annotations

import json

from .fixtures_evidence import flow, flow_text
from .test_cloudtrail_shapes import event
from .test_evidence_faults import digests, load, rows, run


def test_side_files_are_skipped_with_the_reason_and_listed(tmp_path):
    ev = tmp_path / "ev"
    (ev / "Tests" / "Sessions" / "abc").mkdir(parents=True)
    (ev / "README.md").write_text("# Dataset\n\nCloudTrail from a simulated intrusion.\n")
    (ev / "LICENSE").write_text(
        "MIT License\n\nPermission is hereby granted, free of charge, to any person\n"
    )
    (ev / "notes.txt").write_text("Collected by the responder on the morning of the incident.\n")
    labels = {
        "c1d79ae6": {
            "EventCount": 2,
            "Label": "EC2_Instances_InstanceTypes",
            "CorrelationId": "c1d79ae6",
            "AllEventIdArr": "c1d79ae6,db5d37cd",
        }
    }
    (ev / "Tests" / "Sessions" / "abc" / "ExpectedSignals.json").write_text(json.dumps(labels, indent=2))
    (ev / "SHA256SUMS").write_text("ab" * 32 + "  trail.json\n" + "cd" * 32 + "  flows.txt\n")
    (ev / "evidence-digest.json").write_text(json.dumps({"sha256Digest": "ef" * 32, "signedBy": "ir-team"}))
    (ev / "Tests" / "Sessions" / "abc" / "InputEvents.json").write_text(json.dumps([event(1), event(2)]))
    (ev / "README.json").write_text(json.dumps({"Records": [event(3)]}))  # evidence whatever its name
    (ev / "flows.txt").write_text(flow_text([flow(i) for i in range(4)], list(flow(0))))
    (ev / "other.json").write_text(json.dumps({"name": "not evidence", "values": [1, 2]}))
    before = digests(ev)

    report, stderr = load(tmp_path / "c.duckdb", ev)

    assert (report["read"], report["loaded"], report["duplicates"], report["rejected"]) == (7, 7, 0, 0)
    assert report["skipped_files"] == 6 and report["rejected_files"] == 1
    skipped = {s["path"].rsplit("/", 1)[-1]: (s["status"], s["detail"]) for s in report["skipped"]}
    assert skipped == {
        "README.md": ("skipped-not-evidence", "documentation (README.md), not evidence"),
        "LICENSE": ("skipped-not-evidence", "documentation (LICENSE), not evidence"),
        "notes.txt": ("skipped-not-evidence", "documentation (notes.txt), not evidence"),
        "ExpectedSignals.json": (
            "skipped-not-evidence",
            "labels of a test dataset (ExpectedSignals), not evidence",
        ),
        "SHA256SUMS": (
            "skipped-digest",
            "checksum list or digest of an unknown kind, not evidence (its digests were not verified)",
        ),
        "evidence-digest.json": (
            "skipped-digest",
            "digest or signature file of an unknown kind, not evidence (not verified)",
        ),
    }
    # only the one unknown JSON document is a problem on stderr
    problems = [ln for ln in stderr.splitlines() if ln.startswith("forensics: ")]
    assert len(problems) == 1 and "other.json" in problems[0] and "JSON document of no known" in problems[0]
    status = dict(rows(tmp_path / "c.duckdb", "SELECT regexp_extract(path, '[^/]+$'), status FROM sources"))
    assert status["flows.txt"] == status["README.json"] == status["InputEvents.json"] == "loaded"
    assert status["README.md"] == "skipped-not-evidence" and status["other.json"] == "rejected"
    assert rows(tmp_path / "c.duckdb", "SELECT count(*) FROM vpc_flows") == [(4,)]
    assert digests(ev) == before
    assert rows(
        tmp_path / "c.duckdb",
        "SELECT (SELECT count(*) FROM cloudtrail) + (SELECT count(*) FROM vpc_flows), "
        "(SELECT sum(records_loaded) FROM sources)",
    ) == [(7, 7)]


def test_a_folder_of_side_files_alone_loads_nothing(tmp_path):
    (tmp_path / "README.md").write_text("# Nothing here but words.\n")
    done = run("load", str(tmp_path / "README.md"), "--case", str(tmp_path / "c.duckdb"), "--json")
    assert done.returncode == 2 and "nothing could be loaded" in done.stderr
    assert json.loads(done.stdout)["skipped_files"] == 1
