"""Offline CloudTrail integrity on digests and keys generated the documented way."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from forensics.integrity import verify_paths
from forensics.integrity.chain import signing_string

from .digests import build_chain, digest_key, key_list_json, private_key, write


def _verdicts(result) -> dict[str, str]:
    return {f.key.rsplit("/", 1)[-1]: f.verdict for f in result.files}


def _by_kind(result, kind: str) -> list[str]:
    return [f.verdict for f in result.files if f.kind == kind]


def test_signing_string_is_the_documented_four_lines():
    # aws-cli's unit test pins a\nb/c\n<sha>\nnull for a starting digest
    raw = b"{}"
    doc = {
        "digestEndTime": "a",
        "digestS3Bucket": "b",
        "digestS3Object": "c",
        "previousDigestSignature": None,
    }
    assert signing_string(doc, raw) == f"a\nb/c\n{hashlib.sha256(raw).hexdigest()}\nnull"


def test_valid_chain(tmp_path: Path):
    key = private_key()
    write(tmp_path, build_chain(hours=3), keys=[key])
    result = verify_paths([tmp_path])
    assert result.counts() == {"valid": 9}  # 6 log files and 3 digests
    assert [h["verdict"] for h in result.hours()] == ["valid"] * 4  # logs at :05/:15, digests at :31
    assert result.gaps == []


def test_one_altered_log_file_is_modified_the_rest_valid(tmp_path: Path):
    objs = build_chain(hours=3)
    write(tmp_path, objs, keys=[private_key()])
    victim = next(o for o in objs if "_CloudTrail_" in o.key)
    raw = gzip.decompress(victim.body).replace(b"GetCallerIdentity", b"GetCallerIdentitx")
    (tmp_path / victim.key).write_bytes(gzip.compress(raw))
    result = verify_paths([tmp_path])
    assert _verdicts(result)[victim.key.rsplit("/", 1)[-1]] == "modified"
    assert result.counts() == {"valid": 8, "modified": 1}
    assert "modified" in [h["verdict"] for h in result.hours()]


def test_regzipped_unchanged_log_stays_valid(tmp_path: Path):
    objs = build_chain(hours=1)
    write(tmp_path, objs, keys=[private_key()])
    log = next(o for o in objs if "_CloudTrail_" in o.key)
    (tmp_path / log.key).write_bytes(gzip.compress(gzip.decompress(log.body), compresslevel=1))
    assert verify_paths([tmp_path]).counts() == {"valid": 3}


def test_deleted_log_file_is_missing(tmp_path: Path):
    objs = build_chain(hours=2)
    write(tmp_path, objs, keys=[private_key()])
    victim = next(o for o in objs if "_CloudTrail_" in o.key)
    (tmp_path / victim.key).unlink()
    result = verify_paths([tmp_path])
    missing = [f for f in result.files if f.verdict == "missing"]
    assert [f.key for f in missing] == [victim.key] and missing[0].path is None
    assert result.counts() == {"valid": 5, "missing": 1}


def test_trailing_gzip_member_is_caught(tmp_path: Path):
    objs = build_chain(hours=1)
    write(tmp_path, objs, keys=[private_key()])
    log = next(o for o in objs if "_CloudTrail_" in o.key)
    injected = gzip.compress(json.dumps({"Records": [{"eventName": "Injected"}]}).encode())
    (tmp_path / log.key).write_bytes(log.body + injected)
    assert _verdicts(verify_paths([tmp_path]))[log.key.rsplit("/", 1)[-1]] == "trailing-data"


def test_broken_chain_without_metadata_is_a_gap_and_older_digests_unproven(tmp_path: Path):
    objs = build_chain(hours=3)
    write(tmp_path, objs, keys=[private_key()], metadata_for=lambda k, m: {})
    digests = sorted(o.key for o in objs if "Digest" in o.key)
    (tmp_path / digests[1]).unlink()  # the middle hour's digest
    result = verify_paths([tmp_path])
    v = _verdicts(result)
    assert v[digests[2].rsplit("/", 1)[-1]] == "unverified"  # newest: no metadata signature
    assert v[digests[1].rsplit("/", 1)[-1]] == "missing"
    assert v[digests[0].rsplit("/", 1)[-1]] == "unverified"  # nothing vouches for it any more
    assert len(result.gaps) == 1 and "missing" in result.gaps[0]["detail"]
    assert "gap" in [h["verdict"] for h in result.hours()]


def test_newest_digest_without_metadata_is_unverified_older_ones_proven_by_the_chain(tmp_path: Path):
    objs = build_chain(hours=3)
    write(tmp_path, objs, keys=[private_key()], metadata_for=lambda k, m: {})
    result = verify_paths([tmp_path])
    digests = sorted(o.key.rsplit("/", 1)[-1] for o in objs if "Digest" in o.key)
    v = _verdicts(result)
    assert [v[d] for d in digests] == ["valid", "valid", "unverified"]
    assert result.counts() == {"valid": 6, "unverified": 3}  # the newest hour's two logs too


def test_starting_digest_mid_window_is_a_gap(tmp_path: Path):
    first = build_chain(hours=2)
    from datetime import UTC, datetime

    second = build_chain(hours=1, start=datetime(2026, 11, 16, 5, 0, 31, tzinfo=UTC))
    write(tmp_path, first + second, keys=[private_key()])
    result = verify_paths([tmp_path])
    assert result.counts() == {"valid": 9}
    assert len(result.gaps) == 1 and result.gaps[0]["from"] == "2026-11-16T03:00:31Z"


def test_wrong_key(tmp_path: Path):
    signer, other = private_key(0), private_key(1)
    objs = build_chain(hours=2, key=signer)
    # the user supplies another key: the digests' fingerprint matches none
    write(tmp_path, objs, keys=[other])
    assert set(_by_kind(verify_paths([tmp_path]), "digest")) == {"key-not-found"}
    # a key file claiming the signer's fingerprint with another key's bytes is refused outright
    doc = json.loads(key_list_json(other))
    doc["PublicKeyList"][0]["Fingerprint"] = json.loads(key_list_json(signer))["PublicKeyList"][0][
        "Fingerprint"
    ]
    bad = tmp_path / "bad-keys.json"
    bad.write_text(json.dumps(doc))
    import pytest

    from forensics.errors import ForensicsError

    with pytest.raises(ForensicsError, match="does not match"):
        verify_paths([tmp_path], key_files=[bad])


def test_digest_signed_by_another_key_than_its_fingerprint_says(tmp_path: Path):
    # the digest names the trusted key's fingerprint but was signed by a forger's key
    trusted, forger = private_key(0), private_key(1)
    objs = build_chain(hours=2, key=forger, claimed_key=trusted)
    write(tmp_path, objs, keys=[trusted, forger])
    result = verify_paths([tmp_path])
    assert set(_by_kind(result, "digest")) == {"signature-invalid"}
    assert set(_by_kind(result, "log")) == {"unverified"}


def test_altered_digest_and_moved_digest(tmp_path: Path):
    objs = build_chain(hours=2)
    write(tmp_path, objs, keys=[private_key()])
    newest = max((o for o in objs if "Digest" in o.key), key=lambda o: o.key)
    raw = gzip.decompress(newest.body).replace(b'"logFiles": [', b'"logFiles":  [')
    (tmp_path / newest.key).write_bytes(gzip.compress(raw))
    assert _verdicts(verify_paths([tmp_path]))[newest.key.rsplit("/", 1)[-1]] == "signature-invalid"

    moved = tmp_path / "moved"
    objs = build_chain(hours=1)
    d = next(o for o in objs if "Digest" in o.key)
    d.key = digest_key(__import__("datetime").datetime(2026, 11, 16, 9, 0, 31))
    write(moved, objs, keys=[private_key()])
    assert _verdicts(verify_paths([moved]))[d.key.rsplit("/", 1)[-1]] == "moved"


def test_unreferenced_log_file(tmp_path: Path):
    objs = build_chain(hours=1)
    write(tmp_path, objs, keys=[private_key()])
    extra = next(o for o in objs if "_CloudTrail_" in o.key)
    stray = tmp_path / extra.key.replace("abcdEFGH", "zzzzZZZZ")
    stray.write_bytes(extra.body)
    v = _verdicts(verify_paths([tmp_path]))
    assert v[stray.name] == "unreferenced"


def test_without_manifest_keys_from_the_command_line(tmp_path: Path):
    # an analyst's own copy (no acquisition.json): the newest digest cannot be proven, the rest can
    objs = build_chain(hours=2)
    write(tmp_path / "ev", objs, manifest=False)
    keyfile = tmp_path / "keys.json"
    keyfile.write_text(key_list_json(private_key()))
    result = verify_paths([tmp_path / "ev"], key_files=[keyfile])
    assert result.counts() == {"valid": 3, "unverified": 3}
