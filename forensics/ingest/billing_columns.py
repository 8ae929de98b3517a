"""Billing exports' column names, mapped by name onto the `billing` columns.

Legacy CUR (`lineItem/UnblendedCost`, or `line_item_unblended_cost` in its Parquet form), CUR 2.0
(fixed snake_case schema plus map columns `product` and `resource_tags`) and FOCUS 1.0–1.2
(`BilledCost`, `x_UsageType`) all reduce to one set of columns. Columns vary month to month, so
every target lists its candidates and takes the first the file has; missing ones are NULL.
The region comes from the product region code, else from the usage-type prefix (detections.md
§7.2 and §9: `APN1-BoxUsage:…`, `EU-…`; no prefix is us-east-1).
"""

from __future__ import annotations

from .tabular import quote_ident, quote_literal

# source_format precedence when two exports cover the same account and billing period
RANK = {"cur2": 0, "cur_legacy_csv": 1, "cur_legacy_parquet": 1, "focus": 2}

# target: (type, candidates per family). Types: TS, NUM, PERIOD, TEXT.
TARGETS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "usage_start": (
        "TS",
        {
            "slash": ("lineItem/UsageStartDate",),
            "snake": ("line_item_usage_start_date",),
            "focus": ("ChargePeriodStart",),
        },
    ),
    "usage_end": (
        "TS",
        {
            "slash": ("lineItem/UsageEndDate",),
            "snake": ("line_item_usage_end_date",),
            "focus": ("ChargePeriodEnd",),
        },
    ),
    "billing_period": (
        "PERIOD",
        {
            "slash": ("bill/BillingPeriodStartDate",),
            "snake": ("bill_billing_period_start_date", "billing_period"),  # + Hive key
            "focus": ("BillingPeriodStart",),
        },
    ),
    "payer_account_id": (
        "TEXT",
        {
            "slash": ("bill/PayerAccountId",),
            "snake": ("bill_payer_account_id",),
            "focus": ("BillingAccountId",),
        },
    ),
    "account_id": (
        "TEXT",
        {
            "slash": ("lineItem/UsageAccountId",),
            "snake": ("line_item_usage_account_id",),
            "focus": ("SubAccountId",),
        },
    ),
    "service": (
        "TEXT",
        {
            "slash": ("lineItem/ProductCode", "product/servicecode"),
            "snake": ("line_item_product_code", "product_servicecode"),
            "focus": ("x_ServiceCode", "ServiceName"),
        },
    ),
    "region": (
        "TEXT",
        {
            "slash": ("product/regionCode", "product/region"),
            "snake": ("product_region_code", "product_region"),
            "focus": ("RegionId",),
        },
    ),
    "usage_type": (
        "TEXT",
        {
            "slash": ("lineItem/UsageType",),
            "snake": ("line_item_usage_type",),
            "focus": ("x_UsageType",),
        },
    ),
    "operation": (
        "TEXT",
        {
            "slash": ("lineItem/Operation",),
            "snake": ("line_item_operation",),
            "focus": ("x_Operation",),
        },
    ),
    "resource_id": (
        "TEXT",
        {
            "slash": ("lineItem/ResourceId",),
            "snake": ("line_item_resource_id",),
            "focus": ("ResourceId",),
        },
    ),
    "usage_amount": (
        "NUM",
        {
            "slash": ("lineItem/UsageAmount",),
            "snake": ("line_item_usage_amount",),
            "focus": ("ConsumedQuantity", "UsageQuantity"),
        },
    ),
    "cost": (
        "NUM",
        {
            "slash": ("lineItem/UnblendedCost",),
            "snake": ("line_item_unblended_cost",),
            "focus": ("BilledCost",),
        },
    ),
    "currency": (
        "TEXT",
        {
            "slash": ("lineItem/CurrencyCode",),
            "snake": ("line_item_currency_code",),
            "focus": ("BillingCurrency",),
        },
    ),
    "line_item_type": (
        "TEXT",
        {
            "slash": ("lineItem/LineItemType",),
            "snake": ("line_item_line_item_type",),
            "focus": ("ChargeCategory",),
        },
    ),
    "line_item_id": (
        "TEXT",
        {
            "slash": ("identity/LineItemId",),
            "snake": ("identity_line_item_id",),
            "focus": (),
        },
    ),
    "instance_type": (
        "TEXT",
        {
            "slash": ("product/instanceType",),
            "snake": ("product_instance_type",),
            "focus": (),
        },
    ),
    "description": (
        "TEXT",
        {
            "slash": ("lineItem/LineItemDescription",),
            "snake": ("line_item_line_item_description",),
            "focus": ("ChargeDescription",),
        },
    ),
    "provider": ("TEXT", {"slash": (), "snake": (), "focus": ("ProviderName",)}),
}
FAMILY = {"cur_legacy_csv": "slash", "cur_legacy_parquet": "snake", "cur2": "snake", "focus": "focus"}
# CUR 2.0 folds most product attributes into its `product` map: these targets read the map's keys
# after the flattened columns (`product_region_code`, then product['region_code'], ...).
MAP_CANDIDATES: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "cur2": {
        "region": (("product", "region_code"), ("product", "region")),
        "instance_type": (("product", "instance_type"),),
    },
}
# `provider` when the export does not name one (only FOCUS has ProviderName)
DEFAULT_PROVIDER = "AWS"
# a billing period written as text (the Data Exports' `BILLING_PERIOD=2026-11` partition)
PERIOD_TEXT = r"\d{4}-\d{2}"

# CUR usage-type prefixes (detections.md §9); us-east-1 is often unprefixed.
REGION_PREFIXES = {
    "APN1": "ap-northeast-1", "APN2": "ap-northeast-2", "APN3": "ap-northeast-3",
    "APS3": "ap-south-1", "APS1": "ap-southeast-1", "APS2": "ap-southeast-2",
    "CAN1": "ca-central-1", "EUC1": "eu-central-1", "EUN1": "eu-north-1", "EU": "eu-west-1",
    "EUW1": "eu-west-1", "EUW2": "eu-west-2", "EUW3": "eu-west-3", "SAE1": "sa-east-1",
    "USE1": "us-east-1", "USE2": "us-east-2", "USW1": "us-west-1", "USW2": "us-west-2",
    "AFS1": "af-south-1", "APE1": "ap-east-1", "APE2": "ap-east-2", "APS5": "ap-south-2",
    "APS4": "ap-southeast-3", "APS6": "ap-southeast-4", "APS7": "ap-southeast-5",
    "APS8": "ap-southeast-6", "APS9": "ap-southeast-7", "CAN2": "ca-west-1",
    "EUC2": "eu-central-2", "EUS1": "eu-south-1", "EUS2": "eu-south-2", "ILC1": "il-central-1",
    "MEC1": "me-central-1", "MES1": "me-south-1", "MXC1": "mx-central-1",
    "UGW1": "us-gov-west-1", "UGE1": "us-gov-east-1",
}  # fmt: skip
_PREFIX_CASES = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in sorted(REGION_PREFIXES.items()))
BILLING_COLUMNS = (
    "usage_start", "usage_end", "billing_period", "payer_account_id", "account_id", "service",
    "region", "usage_type", "operation", "resource_id", "usage_amount", "cost", "currency",
    "line_item_type", "line_item_id", "instance_type", "description", "source_format",
    "source_file", "provider", "tags", "delivery", "delivered_at",
)  # fmt: skip


def resolve(columns: dict[str, str], names: tuple[str, ...]) -> list[str]:
    """The file's spelling of each candidate it has (names match case-insensitively)."""
    return [columns[n.lower()] for n in names if n.lower() in columns]


def required_missing(fmt: str, columns: dict[str, str]) -> str | None:
    """Why a file cannot be loaded as billing (no cost column), or None."""
    cost = TARGETS["cost"][1][FAMILY[fmt]]
    if not resolve(columns, cost):
        return f"billing export without a cost column ({' or '.join(cost)})"
    return None


def instance_type_from_usage_type(usage_type: str) -> str:
    """The instance type an EC2 usage type names (`APN1-BoxUsage:m6i.large`), else NULL (SQL over
    the expression `usage_type`; also the views onto AWS's CUR tables, forensics/lake/views)."""
    return (
        f"nullif(regexp_extract({usage_type}, '(BoxUsage|SpotUsage|DedicatedUsage|HostUsage):(.+)$', 2), '')"
    )


def region_from_usage_type(usage_type: str) -> str:
    """The region a usage type names: a CUR prefix (`APN1-`, `EU-`), a region code some services
    use as prefix (`ca-central-1-KMS-Requests`), or none, which is us-east-1. Written so that it
    means the same on Spark and Athena/Trino (the views onto AWS's CUR tables): no map literal,
    and a regexp that does not match is NULL everywhere (Trino's regexp_extract gives NULL,
    DuckDB's and Spark's '')."""
    prefix = f"nullif(regexp_extract({usage_type}, '^([A-Z]{{2,4}}[0-9]?)-', 1), '')"
    code = f"nullif(regexp_extract({usage_type}, '^([a-z]{{2}}(-gov)?-[a-z]+-[0-9])-', 1), '')"
    return (
        f"CASE WHEN {usage_type} IS NULL OR {usage_type} LIKE 'Global%' THEN NULL "
        f"WHEN {code} IS NOT NULL THEN {code} "
        f"WHEN {prefix} IS NULL THEN 'us-east-1' ELSE CASE {prefix} {_PREFIX_CASES} END END"
    )


def map_candidates(fmt: str, target: str, columns: dict[str, str]) -> list[tuple[str, str]]:
    """(the file's spelling of the map column, key) for each map key `target` reads, in order."""
    return [(columns[col], key) for col, key in MAP_CANDIDATES.get(fmt, {}).get(target, ()) if col in columns]


def tag_column(fmt: str, columns: dict[str, str]) -> str | None:
    """The file's column holding every resource tag as one map or JSON object (FOCUS `Tags`,
    CUR 2.0 `resource_tags`), or None (legacy CUR: one `resourceTags/user:<key>` column each)."""
    if fmt == "focus" and "tags" in columns:
        return columns["tags"]
    return columns.get("resource_tags")


def _text(value: str) -> str:
    """A value as the loader keeps text: trimmed, an empty cell NULL."""
    return f"nullif(trim(TRY_CAST({value} AS VARCHAR)), '')"


def _map_value(column: str, types: dict[str, str], key: str) -> str:
    """`product['region']` from a CUR 2.0 map column (MAP in Parquet, JSON text in CSV)."""
    ident = quote_ident(column)
    if types.get(column.lower(), "VARCHAR").upper().startswith("MAP"):
        return _text(f"{ident}[{quote_literal(key)}]")
    return _text(f"CASE WHEN json_valid({ident}) THEN json_extract_string({ident}, '$.{key}') END")


def projection(fmt: str, columns: dict[str, str], types: dict[str, str]) -> tuple[str, str]:
    """(select list of raw text values `r_<target>`, select list of typed billing columns and
    the `reason` a row is rejected). `columns` maps lower-case names to the file's spelling."""
    family = FAMILY[fmt]
    raw, typed, problems = [], [], []
    for target, (typ, candidates) in TARGETS.items():
        found = resolve(columns, candidates[family])
        exprs = [_text(quote_ident(c)) for c in found]
        exprs += [_map_value(col, types, key) for col, key in map_candidates(fmt, target, columns)]
        value = f"coalesce({', '.join(exprs)})" if exprs else "NULL::VARCHAR"
        raw.append(f"{value} AS r_{target}")
        label = found[0] if found else target
        if typ == "TS":
            typed.append(f"TRY_CAST(r_{target} AS TIMESTAMPTZ) AS {target}")
            problems.append(_bad(target, label, "TIMESTAMPTZ", "a timestamp"))
        elif typ == "NUM":
            typed.append(f"TRY_CAST(r_{target} AS DOUBLE) AS {target}")
            problems.append(_bad(target, label, "DOUBLE", "a number"))
        elif typ == "PERIOD":
            typed.append(
                f"coalesce(strftime(TRY_CAST(r_{target} AS TIMESTAMPTZ), '%Y-%m'), "
                f"CASE WHEN regexp_full_match(r_{target}, '{PERIOD_TEXT}') THEN r_{target} END, "
                f"strftime(TRY_CAST(r_usage_start AS TIMESTAMPTZ), '%Y-%m'))"
                f" AS {target}"
            )
        elif target == "region":
            typed.append(f"coalesce(r_region, {region_from_usage_type('r_usage_type')}) AS region")
        elif target == "instance_type":
            typed.append(
                f"coalesce(r_instance_type, {instance_type_from_usage_type('r_usage_type')}) AS instance_type"
            )
        elif target == "provider":
            typed.append(f"coalesce(r_provider, {quote_literal(DEFAULT_PROVIDER)}) AS provider")
        else:
            typed.append(f"r_{target} AS {target}")
    raw.append(f"{_tags(fmt, columns, types)} AS r_tags")
    typed.append("r_tags AS tags")
    reason = f"nullif(concat_ws('; ', {', '.join(problems)}), '') AS reason"
    return ",\n    ".join(raw), ",\n    ".join(typed + [reason])


def _bad(target: str, label: str, typ: str, what: str) -> str:
    name = quote_literal(label)
    return (
        f"CASE WHEN r_{target} IS NOT NULL AND TRY_CAST(r_{target} AS {typ}) IS NULL "
        f"THEN {name} || ' ' || r_{target} || ' is not {what}' END"
    )


def _tags(fmt: str, columns: dict[str, str], types: dict[str, str]) -> str:
    """Resource tags as one JSON object, whichever way the format spells them."""
    column = tag_column(fmt, columns)
    if column:
        ident = quote_ident(column)
        if types.get(column.lower(), "").upper().startswith("MAP"):
            return f"to_json({ident})"
        return f"CASE WHEN json_valid({ident}) THEN {ident}::JSON END"
    prefixes = ("resourcetags/", "resource_tags_")
    tag_cols = [v for k, v in columns.items() if k.startswith(prefixes)]
    if not tag_cols:
        return "NULL::JSON"
    pairs = ", ".join(
        f"{quote_literal(c.split('/', 1)[-1] if '/' in c else c[len('resource_tags_') :])}, "
        f"nullif(TRY_CAST({quote_ident(c)} AS VARCHAR), '')"
        for c in tag_cols
    )
    return f"json_object({pairs})"
