"""The `addresses` table: one row per distinct address in the case, with its autonomous system,
announced prefix and country from offline data (DESIGN.md, New network).

Each address is looked up once, in Python (a lookup costs microseconds), and the rows are
inserted in one statement; `network`, `provider` and `is_aws` come from the vocabulary
(`network.sql`), so the definition of a network stays in SQL. Runs after every load for the
addresses not yet in the table, and on the first read-write open of an older case.

Data: geoip2fast's bundled GeoLite2-derived ASN + country file (IPv4 and IPv6), loaded once per
process. It names the AS (`asn_name`) and its announced prefix (`asn_cidr`) but not the AS
number. An analyst's own MaxMind GeoLite2-ASN database can be named with the environment
variable FORENSICS_ASN_MMDB; it needs the `maxminddb` reader, which is not a dependency.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

GEOIP2FAST_FILE = "geoip2fast-asn-ipv6.dat.gz"
MMDB_ENV = "FORENSICS_ASN_MMDB"
NO_LOOKUP = "none (no public address)"

# Every address the case holds, from each evidence table that has addresses.
_CASE_ADDRESSES = """
SELECT DISTINCT address FROM (
    SELECT source_ip AS address FROM cloudtrail WHERE source_is_ip
    UNION ALL SELECT remote_ip FROM findings
    UNION ALL SELECT src_addr FROM vpc_flows
    UNION ALL SELECT dst_addr FROM vpc_flows
) WHERE address IS NOT NULL AND address <> '' AND address <> '-'
  AND address NOT IN (SELECT a.address FROM addresses a)
"""

_INSERT = """
INSERT INTO addresses
SELECT s.address, s.normalised, s.kind, s.asn, s.asn_name, s.asn_cidr, s.prefix, s.country,
       s.kind <> 'public' AS is_private,
       network_of(s.address, s.kind, s.asn_name, s.asn_cidr, s.prefix, p.provider) AS network,
       p.provider, coalesce(p.anonymising, false) AS anonymising,
       coalesce(p.provider = 'AWS', false) AS is_aws,
       s.dataset
FROM (   -- private or merely reserved: the vocabulary's is_internal_address decides (one definition)
    SELECT * REPLACE (CASE WHEN kind <> 'special' THEN kind
                           WHEN is_internal_address(normalised) THEN 'private'
                           ELSE 'reserved' END AS kind)
    FROM staged_addresses
) s
LEFT JOIN (   -- each AS name matched once against the provider vocabulary
    SELECT n.asn_name, min(h.provider) AS provider, bool_or(h.anonymising) AS anonymising
    FROM (SELECT DISTINCT asn_name FROM staged_addresses WHERE asn_name IS NOT NULL) n
    JOIN vocab_hosting_provider h ON regexp_matches(n.asn_name, h.pattern, 'i')
    GROUP BY n.asn_name
) p USING (asn_name)
"""


@dataclass(frozen=True)
class Lookup:
    kind: str  # public | special (private or reserved: decided in SQL at insert) | malformed
    normalised: str | None
    prefix: str | None  # the /24 (IPv4) or /48 (IPv6): the network when no ASN data covers it
    asn: int | None = None
    asn_name: str | None = None
    asn_cidr: str | None = None
    country: str | None = None


def normalise(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, strictly: leading-zero octets ('075.050.255.67') and short forms ('1.2.3')
    are malformed, never octal; an IPv4-mapped IPv6 address is the IPv4 address."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def classify(text: str) -> Lookup:
    """Kind, normal form and fallback prefix of one address (no lookup)."""
    ip = normalise(text)
    if ip is None:
        return Lookup("malformed", None, None)
    public = not (ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified)
    kind = "public" if public else "special"
    if ip.version == 4:
        prefix = f"{ipaddress.IPv4Address(int(ip) & 0xFFFFFF00)}/24"
    else:
        prefix = f"{ipaddress.IPv6Address(int(ip) >> 80 << 80)}/48"
    return Lookup(kind, str(ip), prefix)


class _GeoIP2Fast:
    def __init__(self) -> None:
        import geoip2fast  # the data loads in ~0.3 s: only when a case has addresses

        path = os.path.join(os.path.dirname(geoip2fast.__file__), GEOIP2FAST_FILE)
        self.reader = geoip2fast.GeoIP2Fast(geoip2fast_data_file=path, verbose=False)
        source = self.reader.get_database_info().get("source_info", "")
        self.dataset = f"geoip2fast {getattr(geoip2fast, '__version__', '')} {source}".replace("  ", " ")

    def lookup(self, ip: str) -> tuple[int | None, str | None, str | None, str | None]:
        r = self.reader.lookup(ip)
        name = r.asn_name or None
        if name == "IANA.ORG":  # geoip2fast's label for private and reserved space
            name = None
        country = r.country_code if r.country_code not in ("", "--") else None
        return None, name, (r.asn_cidr or None) if name else None, country


class _MaxMind:
    """The analyst's own GeoLite2-ASN (or GeoIP2-ISP) database; needs `maxminddb`."""

    def __init__(self, path: str) -> None:
        try:
            import maxminddb  # type: ignore[import-not-found]
        except ImportError as exc:
            raise RuntimeError(f"{MMDB_ENV} names {path}, but the maxminddb reader is not installed") from exc
        self.reader = maxminddb.open_database(path)
        meta = self.reader.metadata()
        self.dataset = f"{meta.database_type} {meta.build_epoch} ({os.path.basename(path)})"

    def lookup(self, ip: str) -> tuple[int | None, str | None, str | None, str | None]:
        record, plen = self.reader.get_with_prefix_len(ip)
        if not record:
            return None, None, None, None
        net = str(ipaddress.ip_network(f"{ip}/{plen}", strict=False))
        return record.get("autonomous_system_number"), record.get("autonomous_system_organization"), net, None


@functools.cache
def reader() -> _GeoIP2Fast | _MaxMind:
    """The offline ASN data, loaded once per process."""
    path = os.environ.get(MMDB_ENV)
    return _MaxMind(path) if path else _GeoIP2Fast()


def lookup(text: str) -> Lookup:
    """One address: its kind, normal form, fallback prefix, and ASN data for public ones."""
    base = classify(text)
    if base.kind != "public" or base.normalised is None:
        return base
    asn, name, cidr, country = reader().lookup(base.normalised)
    return Lookup(base.kind, base.normalised, base.prefix, asn, name, cidr, country)


def frame(addresses: Iterable[str]) -> pa.Table:
    """The lookups of many addresses as one Arrow table (the insert's input)."""
    rows = [(a, lookup(a)) for a in addresses]
    dataset = reader().dataset if any(r.kind == "public" for _, r in rows) else NO_LOOKUP
    cols: dict[str, list[Any]] = {
        "address": [a for a, _ in rows],
        "normalised": [r.normalised for _, r in rows],
        "kind": [r.kind for _, r in rows],
        "asn": [r.asn for _, r in rows],
        "asn_name": [r.asn_name for _, r in rows],
        "asn_cidr": [r.asn_cidr for _, r in rows],
        "prefix": [r.prefix for _, r in rows],
        "country": [r.country for _, r in rows],
        "dataset": [dataset] * len(rows),
    }
    schema = pa.schema(
        [(k, pa.int64() if k == "asn" else pa.string()) for k in cols],
    )
    return pa.table(cols, schema=schema)


def fill(con: duckdb.DuckDBPyConnection) -> int:
    """Add every address of the case not yet in `addresses`; returns how many were added."""
    new = [r[0] for r in con.execute(_CASE_ADDRESSES).fetchall()]
    con.execute("INSERT OR IGNORE INTO case_meta VALUES ('addresses_filled', 'true')")
    if not new:
        return 0
    staged_addresses = frame(new)  # noqa: F841 (read by name by DuckDB)
    con.register("staged_addresses", staged_addresses)
    try:
        con.execute(_INSERT)
    finally:
        con.unregister("staged_addresses")
    dataset = staged_addresses.column("dataset")[0].as_py()
    if dataset != NO_LOOKUP:
        con.execute("INSERT OR REPLACE INTO case_meta VALUES ('address_dataset', ?)", [dataset])
    return len(new)
