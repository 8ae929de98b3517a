"""The CloudTrail loader on real third-party evidence: exact counts from the corpus MANIFEST."""

from __future__ import annotations

import pytest

import forensics


def load(case: forensics.Case, *paths):
    report = case.load(list(paths), on_problem=lambda line: None)
    assert report.reconciles()
    return report


def test_invictus_s3_delivery_loads_every_event(case, corpus):
    report = load(case, corpus / "invictus-ir_aws_dataset" / "CloudTrail")
    assert (report.read, report.loaded, report.duplicates, report.rejected) == (2900, 2900, 0, 0)
    facts = case.sql(
        """SELECT count(*) n, min(event_time) first, max(event_time) last,
                  count(DISTINCT recipient_account_id) accounts,
                  count(*) FILTER (WHERE event_name = 'StopLogging') stop_logging,
                  count(*) FILTER (WHERE error_code = 'ThrottlingException') throttled,
                  count(*) FILTER (WHERE principal_type IS NULL) untyped
           FROM cloudtrail"""
    ).row(0, named=True)
    assert facts["first"].isoformat() == "2023-07-10T11:42:18+00:00"
    assert facts["last"].isoformat() == "2023-07-10T12:37:50+00:00"
    assert facts["accounts"] == 1
    assert facts["stop_logging"] == 3
    assert facts["throttled"] == 102
    assert facts["untyped"] == 42  # identities with only accountId + invokedBy


def test_account_ids_stay_text_with_leading_zeros(case, corpus):
    load(case, corpus / "stratus-red-team_detonation-logs" / "docs" / "detonation-logs")
    ids = case.sql("SELECT DISTINCT recipient_account_id FROM cloudtrail")["recipient_account_id"]
    assert "056392974792" in ids.to_list()


def test_stratus_arrays_and_malformed_addresses_are_kept_as_written(case, corpus):
    report = load(case, corpus / "stratus-red-team_detonation-logs" / "docs" / "detonation-logs")
    assert (report.read, report.loaded) == (310, 310)
    weird = case.sql(
        "SELECT count(*) n FROM cloudtrail WHERE source_ip LIKE '0%' OR source_ip LIKE '%.0_.%'"
    )["n"][0]
    assert weird > 0  # leading-zero octets survive as text


def test_otrf_logstash_export_takes_time_from_timestamp(case, corpus):
    path = corpus / "otrf_security_datasets_aws" / "datasets" / "atomic" / "aws" / "collection"
    report = load(case, path / "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
    assert report.loaded == 103
    row = case.sql(
        "SELECT count(*) n, min(event_time) first, max(event_time) last, "
        "count(DISTINCT time_source) sources, any_value(time_source) ts FROM cloudtrail"
    ).row(0, named=True)
    assert row["ts"] == "@timestamp" and row["sources"] == 1
    assert row["first"].isoformat() == "2020-09-14T00:44:20+00:00"
    assert row["last"].isoformat() == "2020-09-14T01:13:20+00:00"
    stolen = case.sql("SELECT count(*) n FROM cloudtrail WHERE access_key_id = 'ASIA5FLZVX4OPVKKVBMX'")["n"][
        0
    ]
    assert stolen == 11  # ListBuckets x2, ListObjects x7, GetObject x2


def test_otrf_zip_holds_the_same_events_as_duplicates(case, corpus):
    base = corpus / "otrf_security_datasets_aws" / "datasets" / "atomic" / "aws" / "collection"
    report = load(case, base)
    assert (report.read, report.loaded, report.duplicates) == (206, 103, 103)


def test_permiso_console_sessions_deduplicate_to_distinct_events(case, corpus):
    report = load(case, corpus / "permiso_cloudconsolecartographer")
    assert (report.read, report.loaded, report.duplicates) == (9226, 8170, 1056)
    # ExpectedSignals.json: a dataset's labels, skipped as plainly not evidence (never events)
    assert report.rejected == 0 and report.rejected_files == 0
    assert {f.status for f in report.files if "ExpectedSignals" in f.path} == {"skipped-not-evidence"}


def test_elastic_single_events_digest_and_insight(case, corpus):
    report = load(case, corpus / "elastic_integrations_aws" / "cloudtrail")
    digest = [f for f in report.files if "digest" in f.path]
    assert [f.status for f in digest] == ["skipped-digest"]
    assert report.read == 12
    insight = case.sql("SELECT event_category, event_name FROM cloudtrail WHERE event_category = 'Insight'")
    assert insight.height == 1 and insight["event_name"][0] is not None
    assert case.sql("SELECT count(*) n FROM rejects")["n"][0] == 0


def test_flattened_fields_for_detections(case, corpus):
    load(case, corpus / "elastic_integrations_aws" / "cloudtrail")
    row = case.sql(
        "SELECT session_name, ec2_role_delivery, policy_arn, target_user_name, outcome "
        "FROM cloudtrail WHERE event_name = 'AttachUserPolicy' AND principal_arn IS NOT NULL"
    ).row(0, named=True)
    assert row["session_name"] == "i-06815aa7cf7d21f8f"
    assert row["ec2_role_delivery"] == "2.0"
    assert row["policy_arn"].endswith(":policy/AdministratorAccess")
    assert row["target_user_name"] == "pwncloud-backdoor-user"
    assert row["outcome"] == "success"
    run = case.sql("SELECT instance_ids FROM cloudtrail WHERE event_name = 'RunInstances'")
    assert run["instance_ids"][0].to_list()  # instance ids named in the response


@pytest.mark.parametrize("twice", [1, 2])
def test_reload_adds_nothing(case, corpus, twice):
    tree = corpus / "invictus-ir_aws_dataset" / "CloudTrail"
    load(case, tree)
    for _ in range(twice):
        again = load(case, tree)
        assert (again.read, again.loaded) == (0, 0)
        assert again.skipped_files == 55
    assert case.sql("SELECT count(*) n FROM cloudtrail")["n"][0] == 2900
    assert case.sql("SELECT count(*) n FROM sources")["n"][0] == 55
