"""Which billing export counts, when two cover the same account and billing period.

DESIGN.md: keep CUR 2.0, then legacy CUR, then FOCUS; among deliveries of one format, the newest.
The unit is (usage account, billing period): a file may win for one account and lose for another.
Losing rows are deleted, so `sum(billing.cost)` never counts money twice, and their files'
`sources` rows say what superseded them (status `superseded` when nothing of theirs is left;
superseded line items are counted as duplicates, so read = loaded + duplicates + rejected holds).
Runs over the whole table, so an export loaded today can supersede one loaded last week.
"""

from __future__ import annotations

from .billing_columns import BILLING_COLUMNS, RANK
from .context import LoadContext
from .outcome import FileOutcome

_COLS = ", ".join(BILLING_COLUMNS)
_FORMATS = tuple(RANK)
_RANK_SQL = "CASE source_format " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in RANK.items()) + " END"
_KEY = "coalesce(account_id, payer_account_id, '')"


def settle(ctx: LoadContext, pending: dict[str, FileOutcome]) -> None:
    """Insert the staged rows (`bl_pending`), then drop every row that a better export covers."""
    con = ctx.con
    # A path loaded before with other content (CUR "overwrite" mode): the new copy replaces it.
    for path, o in pending.items():
        [(replaced,)] = con.execute("SELECT count(*) FROM billing WHERE source_file = ?", [path]).fetchall()
        if replaced:
            con.execute("DELETE FROM billing WHERE source_file = ?", [path])
            why = f"replaced by newer content of the same file (sha256 {o.sha256[:12]}...)"
            _demote(ctx, path, replaced, why, other_than_sha=o.sha256)
    con.execute(f"INSERT INTO billing ({_COLS}) SELECT {_COLS} FROM bl_pending")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE bl_losers AS
        WITH deliveries AS (
            SELECT {_KEY} AS acct, coalesce(billing_period, '') AS period, delivery,
                   any_value(source_format) AS source_format, min({_RANK_SQL}) AS rank,
                   max(delivered_at) AS delivered_at
            FROM billing GROUP BY ALL
        ),
        ranked AS (
            SELECT *, first_value(delivery) OVER w AS winner,
                   first_value(source_format) OVER w AS winner_format,
                   row_number() OVER w AS place
            FROM deliveries
            WINDOW w AS (PARTITION BY acct, period
                         ORDER BY rank, delivered_at DESC NULLS LAST, delivery DESC)
        )
        SELECT acct, period, delivery, winner, winner_format FROM ranked WHERE place > 1"""
    )
    match = """coalesce(b.account_id, b.payer_account_id, '') = l.acct
              AND coalesce(b.billing_period, '') = l.period AND b.delivery = l.delivery"""
    lost = con.execute(
        f"""SELECT b.source_file, any_value(b.source_format), l.winner, l.winner_format,
                   count(*), string_agg(DISTINCT l.period, ', ' ORDER BY l.period)
            FROM billing b JOIN bl_losers l ON {match}
            GROUP BY b.source_file, l.winner, l.winner_format ORDER BY ALL"""
    ).fetchall()
    con.execute(f"DELETE FROM billing b USING bl_losers l WHERE {match}")
    con.execute("DROP TABLE bl_losers")
    beaten: dict[str, set[str]] = {}
    for path, fmt, winner, winner_format, n, periods in lost:
        why = "a newer delivery" if fmt == winner_format else "an export of higher precedence"
        why = f"superseded for {periods or 'an unknown period'} by {winner} ({why})"
        o = pending.get(path)
        if o is None:
            _demote(ctx, path, n, why)
        else:
            o.records_loaded -= n
            o.duplicates += n
            if o.records_loaded == 0:
                o.status, o.detail = "superseded", why
            else:
                o.detail = (o.detail + "; " if o.detail else "") + f"{n} line items {why}"
        beaten.setdefault(winner, set()).add(path)
    deliveries = con.execute(
        "SELECT source_file, any_value(delivery) FROM bl_pending GROUP BY ALL"
    ).fetchall()
    for path, delivery in deliveries:
        o = pending[path]
        if delivery in beaten and o.status != "superseded":
            names = sorted(beaten[delivery])
            listed = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
            o.detail = (o.detail + "; " if o.detail else "") + f"supersedes {listed}"


def _demote(ctx: LoadContext, path: str, n: int, why: str, other_than_sha: str = "") -> None:
    """Update the `sources` row of a file loaded by an earlier run whose rows were superseded."""
    marks = ", ".join("?" for _ in _FORMATS)
    ctx.con.execute(
        f"""UPDATE sources
            SET records_loaded = records_loaded - ?,
                duplicates = duplicates + ?,
                status = CASE WHEN records_loaded - ? <= 0 THEN 'superseded' ELSE status END,
                detail = ?
            WHERE path = ? AND format IN ({marks}) AND status IN ('loaded', 'partial')
              AND sha256 <> ?""",
        [n, n, n, why, path, *_FORMATS, other_than_sha],
    )
