"""Attacker-controlled text made safe for each face that shows it.

User names, user agents, bucket names, session names, instance types in requests: whatever an
intruder typed reaches the analyst's Markdown, HTML, spreadsheet, terminal and charts. Each face
escapes at its one render point with the function for it here:

- `md_text` / `md_code`: Markdown, outside and inside code spans (CommonMark and GFM tables);
- `html_text`: HTML text and attribute values;
- `csv_cell` / `csv_frame`: spreadsheet formulas in text cells of CSV output neutralised with a
  leading `'` (numbers, JSON, Parquet and Timesketch exports are never altered);
- `terminal`: control and escape sequences stripped for the CLI's tables;
- `plotly_text` / `plotly_figure`: `<` and `>` escaped in what Plotly reads as pseudo-HTML.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # plotly is imported only by forensics.plots: figures are typed Any here
    import polars as pl

# C0 and C1 controls and DEL; ESC-led sequences (CSI, OSC up to BEL or ST, two-byte) first
_ESCAPE_SEQ = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # other two-byte sequences
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\r\n\t\u2028\u2029\x0b\x0c\x85]+")


def _plain(value: Any) -> str:
    """One line of printable text: sequences and controls removed, line breaks become spaces."""
    text = "" if value is None else str(value)
    text = _ESCAPE_SEQ.sub("", text)
    text = _LINE_BREAKS.sub(" ", text)
    return _CONTROL.sub("", text)


def terminal(value: Any) -> str:
    """Text for a terminal table: no escape sequence (colours, hyperlinks, cursor moves, title
    changes) and no control character survives; line breaks become spaces."""
    return _plain(value)


# ASCII punctuation that starts inline Markdown (emphasis, code, links, images, autolinks, HTML,
# GFM tables, strikethrough); all are escapable. GFM's bare `scheme://` and `www.` autolinks are
# broken by escaping their punctuation; times and addresses keep their `:` readable.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()<>!|~{}#])")
_MD_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9])(:)(?=//)|(?<=\bwww)(\.)", re.I)


def md_text(value: Any) -> str:
    """Text outside code spans: one line, every Markdown-significant character escaped, `&` as
    an entity (so `&lt;` stays text), nothing a renderer could turn into HTML, a link or style."""
    text = _MD_SPECIAL.sub(r"\\\1", _plain(value).replace("&", "&amp;"))
    return _MD_AUTOLINK.sub(lambda m: "\\" + m.group(0), text)


def md_code(value: Any, table: bool = False) -> str:
    """A code span holding `value` literally: a fence longer than any backtick run inside it
    (so the value cannot close the span), one line; in a GFM table `|` is escaped (GFM splits
    cells on it even inside code spans)."""
    text = _plain(value)
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else "` `"


def html_text(value: Any) -> str:
    """Text for HTML content or a quoted attribute value."""
    return html.escape("" if value is None else str(value), quote=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading `'`; anything else as is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_frame(df: pl.DataFrame) -> pl.DataFrame:
    """`csv_cell` over the text columns of a frame about to be written as spreadsheet CSV."""
    import polars as pl

    text_cols = [c for c, t in df.schema.items() if t == pl.String]
    if not text_cols:
        return df
    starts = "^[" + re.escape("".join(_FORMULA_START)) + "]"
    return df.with_columns(
        pl.when(pl.col(c).str.contains(starts)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_cols
    )


# Plotly reads a pseudo-HTML subset in names, text, hover text, tick labels and annotations
# (<a href>, <span style>, <b>, <br>, ...). Our own figures use only the bare tags below.
_OWN_TAGS = re.compile(r"<(?!/?(?:b|i|br|sup|sub|extra)>)")


def plotly_text(value: Any) -> Any:
    """A data string for Plotly: `<` and `>` escaped. Non-strings are returned as they are."""
    if not isinstance(value, str):
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plotly_markup(value: Any) -> Any:
    """A label that may hold our own bare tags: every other `<` escaped (no link, no style)."""
    if not isinstance(value, str):
        return value
    return _OWN_TAGS.sub("&lt;", value)


_TRACE_TEXT = ("name", "text", "hovertext", "hovertemplate", "labels", "customdata")
_CATEGORIES = ("x", "y")


def _escape_array(values: Any, fn) -> Any:
    if isinstance(values, str):
        return fn(values)
    if isinstance(values, (list, tuple)) or (hasattr(values, "tolist") and hasattr(values, "dtype")):
        seq = values.tolist() if hasattr(values, "tolist") else list(values)
        if any(isinstance(v, str) for v in seq) or any(isinstance(v, (list, tuple)) for v in seq):
            return [_escape_array(v, fn) if isinstance(v, (list, tuple)) else fn(v) for v in seq]
    return values


def plotly_figure(fig: Any) -> Any:
    """The one render point for figures: every string Plotly would read as markup, escaped.

    Trace names, text, hover text and templates, and custom data keep our own bare `<b>`/`<br>`
    but lose any other tag (a region name pasted into a template included); category labels on
    x and y (data values shown as tick and hover labels) are escaped whole; annotation texts as
    trace texts.
    """
    for trace in fig.data:
        for key in _TRACE_TEXT:
            if key in trace and trace[key] is not None:
                trace[key] = _escape_array(trace[key], _plotly_markup)
        for key in _CATEGORIES:
            if key not in trace:
                continue
            values = trace[key]
            if values is not None and not isinstance(values, str):
                trace[key] = _escape_array(values, plotly_text)
    for annotation in fig.layout.annotations or ():
        annotation.text = _plotly_markup(annotation.text)
    return fig
