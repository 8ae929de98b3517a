"""CloudTrail's public keys, offline: the JSON `aws cloudtrail list-public-keys` prints.

The CLI prints each key's `Value` (DER, PKCS#1 or SPKI) base64-encoded; the fingerprint is the
lower-case hex MD5 of those DER bytes (reference/acquisition-and-integrity.md §4). A key whose
stated fingerprint disagrees with its bytes is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import ForensicsError


def load_key_files(paths: list[Path]) -> dict[str, Any]:
    """{fingerprint: public key} from every `list-public-keys` JSON file given."""
    keys: dict[str, Any] = {}
    for path in paths:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ForensicsError(f"{path}: not a list-public-keys JSON document ({exc})") from None
        entries = doc.get("PublicKeyList") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise ForensicsError(
                f"{path}: no PublicKeyList (expected `aws cloudtrail list-public-keys` output)"
            )
        for entry in entries:
            fingerprint, key = parse_key(entry, str(path))
            keys[fingerprint] = key
    return keys


def parse_key(entry: dict[str, Any], where: str = "") -> tuple[str, Any]:
    """(fingerprint, key) of one PublicKeyList entry whose Value is base64 text or raw DER bytes."""
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    value = entry.get("Value")
    if isinstance(value, str):
        try:
            der = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ForensicsError(f"{where}: a public key Value is not base64") from None
    elif isinstance(value, bytes | bytearray):
        der = bytes(value)
    else:
        raise ForensicsError(f"{where}: a public key has no Value")
    fingerprint = hashlib.md5(der).hexdigest()  # noqa: S324  (AWS's fingerprint is MD5 of the DER)
    stated = str(entry.get("Fingerprint") or fingerprint).lower()
    if stated != fingerprint:
        raise ForensicsError(f"{where}: key fingerprint {stated} does not match its bytes ({fingerprint})")
    try:
        key = load_der_public_key(der)  # PKCS#1 RSAPublicKey or X.509 SPKI: both load
    except ValueError as exc:
        raise ForensicsError(f"{where}: key {fingerprint} is not an RSA public key ({exc})") from None
    return fingerprint, key


def key_list_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The `list-public-keys` JSON for keys boto3 returned (Value as raw DER bytes): what the
    CLI would print, so the file `acquire` stores and one a user supplies read the same way."""
    out = []
    for e in entries:
        value = e["Value"]
        out.append(
            {
                "Value": base64.b64encode(value).decode() if isinstance(value, bytes) else value,
                "ValidityStartTime": _iso(e.get("ValidityStartTime")),
                "ValidityEndTime": _iso(e.get("ValidityEndTime")),
                "Fingerprint": e.get("Fingerprint"),
            }
        )
    return {"PublicKeyList": out}


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
