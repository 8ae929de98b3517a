"""SQL that turns VPC flow-log lines (or Parquet rows) into `vpc_flows` rows, by field name.

Text files name their fields in a header line (any subset and order, v2 to v8); every data line is
matched to the nearest header above it in the same file (an ASOF join), so a header repeated
before every record, or a format that changes mid-file, parse the same way. Positions of each
field are computed once per header, not once per line. Headerless lines must be the default v2
format (14 fields, optionally after a CloudWatch Logs export timestamp); anything else is
rejected with the reason, because guessing a custom field order would silently mislabel data.
All SQL here is built from the constant field table below, never from file content.
"""

from __future__ import annotations

from .tabular import quote_ident, quote_literal

# (field name in the LogFormat, vpc_flows column, type). Parquet delivery uses '_' for '-'.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("version", "version", "INTEGER"),
    ("account-id", "account_id", "VARCHAR"),
    ("interface-id", "interface_id", "VARCHAR"),
    ("srcaddr", "src_addr", "VARCHAR"),
    ("dstaddr", "dst_addr", "VARCHAR"),
    ("srcport", "src_port", "INTEGER"),
    ("dstport", "dst_port", "INTEGER"),
    ("protocol", "protocol", "INTEGER"),
    ("packets", "packets", "BIGINT"),
    ("bytes", "bytes", "BIGINT"),
    ("start", "start_time", "EPOCH"),
    ("end", "end_time", "EPOCH"),
    ("action", "action", "VARCHAR"),
    ("log-status", "log_status", "VARCHAR"),
    ("vpc-id", "vpc_id", "VARCHAR"),
    ("subnet-id", "subnet_id", "VARCHAR"),
    ("instance-id", "instance_id", "VARCHAR"),
    ("tcp-flags", "tcp_flags", "INTEGER"),
    ("type", "type", "VARCHAR"),
    ("pkt-srcaddr", "pkt_src_addr", "VARCHAR"),
    ("pkt-dstaddr", "pkt_dst_addr", "VARCHAR"),
    ("region", "region", "VARCHAR"),
    ("az-id", "az_id", "VARCHAR"),
    ("sublocation-type", "sublocation_type", "VARCHAR"),
    ("sublocation-id", "sublocation_id", "VARCHAR"),
    ("pkt-src-aws-service", "pkt_src_aws_service", "VARCHAR"),
    ("pkt-dst-aws-service", "pkt_dst_aws_service", "VARCHAR"),
    ("flow-direction", "flow_direction", "VARCHAR"),
    ("traffic-path", "traffic_path", "INTEGER"),
    ("ecs-cluster-arn", "ecs_cluster_arn", "VARCHAR"),
    ("ecs-cluster-name", "ecs_cluster_name", "VARCHAR"),
    ("ecs-container-instance-arn", "ecs_container_instance_arn", "VARCHAR"),
    ("ecs-container-instance-id", "ecs_container_instance_id", "VARCHAR"),
    ("ecs-container-id", "ecs_container_id", "VARCHAR"),
    ("ecs-second-container-id", "ecs_second_container_id", "VARCHAR"),
    ("ecs-service-name", "ecs_service_name", "VARCHAR"),
    ("ecs-task-definition-arn", "ecs_task_definition_arn", "VARCHAR"),
    ("ecs-task-arn", "ecs_task_arn", "VARCHAR"),
    ("ecs-task-id", "ecs_task_id", "VARCHAR"),
    ("reject-reason", "reject_reason", "VARCHAR"),
)
KNOWN = tuple(name for name, _, _ in FIELDS)
DEFAULT_V2 = KNOWN[:14]  # version account-id ... log-status: the default format
# Fields of Transit Gateway flow logs and other formats: kept in `extra`, never dropped.
LATEST_EPOCH = 4102444800  # 2100-01-01: epoch seconds beyond this are not flow times

# Why a line is rejected (also the reasons of `forensics lake build`, forensics/lake/flows.py).
NO_MESSAGE = 'JSON line without a "message" string holding the flow record'
NO_HEADER_HEAD = "no header line names the fields and the record has "
NO_HEADER_TAIL = (
    " fields; a headerless flow log must be the default v2 format (14 fields, "
    "optionally after an export timestamp): put the flow log's format line "
    '(its LogFormat, e.g. "version account-id interface-id ...") first'
)
NOT_INTEGER = " is not an integer"
NOT_EPOCH = " is not epoch seconds"

_KNOWN_SQL = "[" + ", ".join(f"'{n}'" for n in KNOWN) + "]"
_DEFAULT_SQL = "[" + ", ".join(f"'{n}'" for n in DEFAULT_V2) + "]"
EXPORT_TS = r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?|\d{10}(\d{3})?)"


def _positions(fields_sql: str) -> str:
    """A struct of 1-based positions of every known field in a header list (NULL when absent)."""
    parts = ", ".join(f"{col} := list_position({fields_sql}, '{name}')" for name, col, _ in FIELDS)
    return f"struct_pack({parts})"


def epoch_time(raw: str) -> str:
    """A flow's `start`/`end` (Unix seconds, text or a number) as a time; NULL when it is not one
    or lies beyond 2100 (also the view onto AWS's `vpc_flow_logs` table, forensics/lake/views)."""
    n = f"TRY_CAST({raw} AS BIGINT)"
    return f"CASE WHEN {n} BETWEEN 0 AND {LATEST_EPOCH} THEN to_timestamp({n}) END"


def _typed(col: str, typ: str, raw: str) -> str:
    if typ == "VARCHAR":
        return raw
    if typ == "EPOCH":
        return epoch_time(raw)
    return f"TRY_CAST({raw} AS {typ})"


def _type_problem(name: str, typ: str, raw: str, typed: str) -> str:
    what = NOT_EPOCH if typ == "EPOCH" else NOT_INTEGER
    return f"CASE WHEN {raw} IS NOT NULL AND {typed} IS NULL THEN '{name} ' || {raw} || '{what}' END"


COLUMNS = tuple(col for _, col, _ in FIELDS) + ("extra", "source_file", "source_position")


def text_stage_steps(src_sql: str) -> list[str]:
    """Statements over `src(source_file, ord, line)` that leave `vf_stage`: every non-blank,
    non-header line with the vpc_flows columns, `reason` (NULL when good) and `line_text`.

    Steps go through temp tables: DuckDB would otherwise evaluate the tokenised lines twice
    (once for the headers, once for the records), which is many times slower.
    """
    values = [f"nullif(vals[p.{col}], '-')" for _, col, _ in FIELDS]
    typed = [_typed(col, typ, v) for (_, col, typ), v in zip(FIELDS, values, strict=True)]
    problems = [
        _type_problem(name, typ, v, t)
        for (name, _, typ), v, t in zip(FIELDS, values, typed, strict=True)
        if typ != "VARCHAR"
    ]
    cols = ",\n        ".join(f"{t} AS {col}" for (_, col, _), t in zip(FIELDS, typed, strict=True))
    text = f"""
CREATE OR REPLACE TEMP TABLE vf_text AS
WITH src AS ({src_sql}),
unwrapped AS (
    SELECT source_file, ord, line,
           CASE WHEN NOT starts_with(ltrim(line), '{{') THEN line
                WHEN json_valid(line) THEN json_extract_string(line, '$.message') END AS msg
    FROM src
)
SELECT source_file, ord, line, msg,
       -- documentation samples end some records with a '#comment'; flow fields never hold '#'
       trim(CASE WHEN contains(msg, '#') THEN regexp_replace(msg, '(^|\\s)#.*$', '') ELSE msg END)
           AS text
FROM unwrapped"""
    # `ord` runs across the batch: a line's number is its distance from its file's first line
    # (found by a join on a per-file minimum, cheaper than a window over every line)
    lines = f"""
CREATE OR REPLACE TEMP TABLE vf_lines AS
SELECT source_file, ord - first + 1 AS line_no, line, msg,
       CASE WHEN contains(text, '  ') OR contains(text, chr(9))
            THEN string_split_regex(text, '\\s+') ELSE string_split(text, ' ') END AS tok,
       -- cheap test first: a header holds only lower-case names, '-' and '${{}}'
       CASE WHEN msg IS NOT NULL AND regexp_full_match(text, '[a-z${{}}\\s-]+')
            THEN list_has_any(list_transform(string_split_regex(text, '\\s+'),
                                             lambda t: trim(t, '${{}}')), {_KNOWN_SQL})
            ELSE false END AS is_header
FROM vf_text JOIN (SELECT source_file, min(ord) AS first FROM vf_text GROUP BY ALL) USING (source_file)
WHERE line IS NOT NULL AND trim(line) <> '' AND (msg IS NULL OR text <> '')"""
    headers = f"""
CREATE OR REPLACE TEMP TABLE vf_headers AS
SELECT source_file, line_no AS header_line, fields, {_positions("fields")} AS p,
       list_filter(fields, lambda f: NOT list_contains({_KNOWN_SQL}, f)) <> [] AS has_unknown
FROM (SELECT source_file, line_no, list_transform(tok, lambda t: trim(t, '${{}}')) AS fields
      FROM vf_lines WHERE is_header)"""
    stage = f"""
CREATE OR REPLACE TEMP TABLE vf_stage AS
WITH data AS (
    SELECT d.source_file, d.line_no, d.line, d.msg, d.tok, h.header_line, h.fields, h.p,
           h.has_unknown,
           h.fields IS NULL AND len(d.tok) = 15
             AND regexp_full_match(d.tok[1], '{EXPORT_TS}') AS exported
    FROM (SELECT * FROM vf_lines WHERE NOT is_header) d
    ASOF LEFT JOIN vf_headers h ON d.source_file = h.source_file AND d.line_no > h.header_line
),
resolved AS (
    SELECT source_file, line_no, line, msg, tok, header_line, has_unknown,
           CASE WHEN fields IS NOT NULL THEN fields
                WHEN len(tok) = 14 OR exported THEN {_DEFAULT_SQL} END AS fields,
           CASE WHEN fields IS NOT NULL THEN p
                WHEN len(tok) = 14 OR exported THEN {_positions(_DEFAULT_SQL)} END AS p,
           CASE WHEN exported THEN tok[2:] ELSE tok END AS vals,
           CASE WHEN exported THEN tok[1] END AS exported_at
    FROM data
)
SELECT
    {cols},
    CASE WHEN has_unknown OR exported_at IS NOT NULL THEN to_json(map_concat(
        map(list_filter(fields, lambda f: NOT list_contains({_KNOWN_SQL}, f)),
            list_transform(
                list_filter(vals, lambda v, i: NOT list_contains({_KNOWN_SQL}, fields[i])),
                lambda v: nullif(v, '-'))),
        CASE WHEN exported_at IS NOT NULL THEN map(['exported-at'], [exported_at])
             ELSE map([]::VARCHAR[], []::VARCHAR[]) END)) END AS extra,
    source_file,
    'line ' || line_no AS source_position,
    line_no,
    NULL::INTEGER AS _base,
    line AS line_text,
    CASE
        WHEN msg IS NULL THEN {quote_literal(NO_MESSAGE)}
        WHEN fields IS NULL THEN
            {quote_literal(NO_HEADER_HEAD)} || len(tok) || {quote_literal(NO_HEADER_TAIL)}
        WHEN len(vals) <> len(fields) THEN
            'record has ' || len(vals) || ' fields where the header on line '
            || header_line || ' names ' || len(fields)
        ELSE nullif(concat_ws('; ', {", ".join(problems)}), '')
    END AS reason
FROM resolved"""
    return [text, lines, headers, stage, "DROP TABLE vf_text", "DROP TABLE vf_lines", "DROP TABLE vf_headers"]


def fast_stage_sql(fields: tuple[str, ...], has_header: bool, compression: str) -> str:
    """One typed `read_csv` over files that share a header (or the default v2 format).

    The fast path for files as AWS writes them: single spaces, `-` for no value, one header.
    Any deviation (a repeated header, a wrong field count, a bad value) is a reader error, and
    that file alone goes through `text_stage_steps`, which explains every bad line.
    """
    types = {name: typ for name, _, typ in FIELDS}
    spec = ", ".join(
        f"{quote_literal(f)}: '{'BIGINT' if types.get(f) == 'EPOCH' else types.get(f, 'VARCHAR')}'"
        for f in fields
    )
    exprs, problems = [], []
    for name, col, typ in FIELDS:
        if name not in fields:
            exprs.append(f"NULL AS {col}")
        elif typ == "EPOCH":
            v = quote_ident(name)
            exprs.append(f"CASE WHEN {v} BETWEEN 0 AND {LATEST_EPOCH} THEN to_timestamp({v}) END AS {col}")
            problems.append(
                f"CASE WHEN {v} NOT BETWEEN 0 AND {LATEST_EPOCH} THEN '{name} ' || {v} || '{NOT_EPOCH}' END"
            )
        else:
            exprs.append(f"{quote_ident(name)} AS {col}")
    others = [f for f in fields if f not in types]
    extra = "NULL"
    if others:
        extra = "json_object(" + ", ".join(f"{quote_literal(o)}, {quote_ident(o)}" for o in others) + ")"
    reason = f"nullif(concat_ws('; ', {', '.join(problems)}), '')" if problems else "NULL"
    offset = 1 if has_header else 0
    cells = ", ".join(f"coalesce({quote_ident(f)}::VARCHAR, '-')" for f in fields)
    excerpt = f"concat_ws(' ', {cells})"
    return f"""
CREATE OR REPLACE TEMP TABLE vf_stage AS
SELECT {", ".join(exprs)}, {extra} AS extra,
       filename AS source_file, NULL::VARCHAR AS source_position, ordinality AS line_no,
       {offset} AS _base,  -- lines before the first record; positions are set on insert
       CASE WHEN {reason} IS NOT NULL THEN {excerpt} END AS line_text, {reason} AS reason
FROM read_csv($files, columns = {{{spec}}}, delim = ' ', quote = '', escape = '',
              header = {str(has_header).lower()}, auto_detect = false, nullstr = '-',
              filename = true, hive_partitioning = false,
              compression = '{compression}') WITH ORDINALITY"""


def parquet_stage_sql(columns: dict[str, str]) -> str:
    """Stage SQL over `read_parquet($files ...)` for the columns this batch's files hold.

    `columns` maps lower-cased names to the names as written; Hive partition keys
    (aws-account-id, aws-region) fill account and region when the rows lack them.
    """

    def col(name: str) -> str | None:
        found = columns.get(name.replace("-", "_"))
        return quote_ident(found) if found else None

    exprs = []
    for name, target, typ in FIELDS:
        ident = col(name)
        if ident is None:
            value = "NULL"
        elif typ == "VARCHAR":
            value = f"nullif(TRY_CAST({ident} AS VARCHAR), '-')"
        elif typ == "EPOCH":
            value = epoch_time(ident)
        else:
            value = f"TRY_CAST({ident} AS {typ})"
        if target == "account_id" and "aws-account-id" in columns:
            value = f"coalesce({value}, {quote_ident(columns['aws-account-id'])}::VARCHAR)"
        if target == "region" and "aws-region" in columns:
            value = f"coalesce({value}, {quote_ident(columns['aws-region'])}::VARCHAR)"
        exprs.append(f"{value} AS {target}")
    known = {n.replace("-", "_") for n in KNOWN}
    hive = {"aws-account-id", "aws-service", "aws-region", "year", "month", "day", "hour"}
    others = [v for k, v in columns.items() if k not in known and k not in hive]
    extra = "NULL"
    if others:
        pairs = ", ".join(f"{quote_literal(o)}, {quote_ident(o)}" for o in others)
        extra = f"json_object({pairs})"
    return f"""
CREATE OR REPLACE TEMP TABLE vf_stage AS
SELECT {", ".join(exprs)}, {extra} AS extra,
       filename AS source_file, 'record ' || (file_row_number + 1) AS source_position,
       file_row_number + 1 AS line_no, NULL::INTEGER AS _base, NULL AS line_text,
       NULL::VARCHAR AS reason
FROM read_parquet($files, hive_partitioning = true, hive_types_autocast = false,
                  union_by_name = true, filename = true, file_row_number = true)"""
