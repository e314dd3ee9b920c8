"""The page: a Report's records, and their one rendering as a self-contained HTML document.

Escaping has one place: ``render_html`` passes every string through ``html.escape``, after
``visible_text.visible`` has written its control characters as visible escapes (``\x1b``). Callers
hand over plain text only (``Cell.tone`` is checked against a closed set), so a device name such as
``<script>`` read from hardware or an input file can never become markup. Charts are embedded as SVG
data URIs in an ``<img>`` (so nothing in them can run) and a Content-Security-Policy forbids every fetch.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tppcalc._version import __version__
from tppcalc.render.layout import Cell, CellLike, Table
from tppcalc.render.visible_text import visible


@dataclass(frozen=True)
class Section:
    """A titled part of the report; each part is optional and shown in this order."""

    title: str
    paragraphs: Sequence[str] = ()
    tables: Sequence[Table] = ()
    items: Sequence[str] = ()               # a bulleted list
    preformatted: Sequence[tuple[str, str]] = ()   # (caption, text) shown verbatim, folded
    anchor: str = ""


@dataclass(frozen=True)
class Digest:
    group: str        # "catalogue", "rule data", "HostReport", ...
    name: str         # the file (or object) digested
    sha256: str


@dataclass(frozen=True)
class Report:
    title: str
    summary: Sequence[tuple[str, CellLike]] = ()
    sections: Sequence[Section] = ()
    chart_svg: bytes | None = None          # inline chart (SVG bytes), embedded as a data URI
    chart_caption: str = ""
    chart_note: str = ""                    # why there is no chart, when there is none
    edition: Sequence[tuple[str, str]] = () # (label, value) rows about the rules used
    citations: Sequence[tuple[str, str]] = ()   # (title, url)
    digests: Sequence[Digest] = ()
    version: str = __version__
    generated_at: str = ""
    notes: Sequence[str] = field(default_factory=tuple)
    plane_svg: bytes | None = None          # the TPP x DRAM bandwidth plane (SVG bytes), when drawn
    plane_caption: str = ""
    plane_note: str = ""                    # why there is no plane, when there is none


# ---- rendering -----------------------------------------------------------------------------------

_STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0 auto; max-width: 1200px; padding: 24px 28px 60px; color: #1b1b1b; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px;
  border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #555; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 6px 0 14px; width: 100%; }
th, td { border: 1px solid #d8d8d8; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; }
table.summary { width: auto; } table.summary th { width: 15em; }
td.controlled { background: #fde2e2; color: #8a1111; font-weight: 600; }
td.undetermined { background: #fff1c9; color: #6b4e00; font-weight: 600; }
td.outside { background: #e3f4e3; color: #1f5a1f; font-weight: 600; }
td.warning { background: #fff6e0; } td.muted { color: #777; } td.num { text-align: right; }
code, pre, td.digest { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
td.digest { word-break: break-all; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: 8px; overflow-x: auto; white-space: pre-wrap; }
figure { margin: 8px 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figcaption { color: #555; font-size: 12px; }
details summary { cursor: pointer; color: #234; }
footer { margin-top: 40px; color: #666; font-size: 12px; }
"""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _e(text: object) -> str:
    return html.escape(visible(str(text)), quote=True)


def _cell(value: CellLike, tag: str = "td", *, numeric: bool = False) -> str:
    tone, text = (value.tone, value.text) if isinstance(value, Cell) else (None, value)
    classes = " ".join(c for c in (tone, "num" if numeric else None) if c)   # tones: a closed set
    attribute = f' class="{classes}"' if classes else ""
    return f"<{tag}{attribute}>{_e(text)}</{tag}>"


def _table(table: Table, css: str = "") -> str:
    parts = [f'<table{f" class={chr(34)}{css}{chr(34)}" if css else ""}>']
    if table.caption:
        parts.append(f"<caption>{_e(table.caption)}</caption>")
    if any(table.columns):
        parts.append("<thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in table.columns) + "</tr></thead>")
    parts.append("<tbody>")
    for row in table.rows:
        parts.append("<tr>" + "".join(_cell(v, numeric=i in table.numeric) for i, v in enumerate(row)) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _figure(svg: bytes, caption: str | None, alt: str) -> str:
    """An embedded SVG chart (a data: URI, so the page makes no request) with its caption."""
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return f'<figure><img src="{uri}" alt="{_e(caption or alt)}"><figcaption>{_e(caption)}</figcaption></figure>'


def _figure_section(anchor: str, heading: str, svg: bytes | None, caption: str, alt: str, note: str) -> list[str]:
    """A chart's section: the figure, or why there is none (one document line each)."""
    body = _figure(svg, caption, alt) if svg is not None else f"<p>{_e(note)}</p>"
    return [f'<section id="{anchor}"><h2>{heading}</h2>', body, "</section>"]


def _section(section: Section) -> str:
    anchor = f' id="{_e(section.anchor)}"' if section.anchor else ""
    parts = [f"<section{anchor}><h2>{_e(section.title)}</h2>"]
    parts.extend(f"<p>{_e(p)}</p>" for p in section.paragraphs)
    parts.extend(_table(t) for t in section.tables)
    if section.items:
        parts.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in section.items) + "</ul>")
    for caption, text in section.preformatted:
        parts.append(f"<details><summary>{_e(caption)}</summary><pre>{_e(text)}</pre></details>")
    parts.append("</section>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """The report as one HTML document (UTF-8 text); every string escaped here."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f'<meta name="generator" content="tppcalc {_e(report.version)}">',
           f"<title>{_e(report.title)}</title><style>{_STYLE}</style></head><body>",
           f"<header><h1>{_e(report.title)}</h1>",
           f'<p class="meta">tppcalc {_e(report.version)}'
           + (f" · generated {_e(report.generated_at)}" if report.generated_at else "") + "</p></header>"]
    if report.summary:
        out.append('<table class="summary"><tbody>')
        out.extend(f"<tr><th>{_e(k)}</th>{_cell(v)}</tr>" for k, v in report.summary)
        out.append("</tbody></table>")
    for note in report.notes:
        out.append(f"<p>{_e(note)}</p>")
    out += _figure_section("chart", "TPP and performance density", report.chart_svg, report.chart_caption,
                           "TPP against performance density", report.chart_note or "No chart.")
    if report.plane_svg is not None or report.plane_note:
        out += _figure_section("plane", "TPP and total DRAM bandwidth", report.plane_svg, report.plane_caption,
                               "TPP against DRAM bandwidth", report.plane_note)
    out.extend(_section(s) for s in report.sections)
    if report.edition or report.citations:
        out.append('<section id="rules"><h2>Rules used</h2>')
        if report.edition:
            out.append(_table(Table(("", ""), [(Cell(k), v) for k, v in report.edition]), "summary"))
        if report.citations:
            out.append("<h3>Citations</h3><ul>" + "".join(
                f'<li>{_e(title)} <a href="{_e(url)}">{_e(url)}</a></li>' if url.startswith(("https://", "http://"))
                else f"<li>{_e(title)} {_e(url)}</li>" for title, url in report.citations) + "</ul>")
        out.append("</section>")
    if report.digests:
        out.append('<section id="digests"><h2>Inputs (SHA-256)</h2><table><thead><tr><th>what</th><th>file</th>'
                   "<th>SHA-256</th></tr></thead><tbody>")
        out.extend(f'<tr><td>{_e(d.group)}</td><td>{_e(d.name)}</td><td class="digest">{_e(d.sha256)}</td></tr>'
                   for d in report.digests)
        out.append("</tbody></table></section>")
    out.append(f"<footer>Written by tppcalc {_e(report.version)}. Self-contained: no scripts, no network "
               "requests. Figures are dense datasheet figures unless marked measured or derived.</footer>")
    out.append("</body></html>\n")
    return "\n".join(out)


def write_html(report: Report | str, path: str | Path) -> Path:
    """Write the report (or already rendered text) to ``path``, atomically."""
    from tppcalc.outputs import write_file  # a fresh O_EXCL temporary, renamed: see tppcalc.outputs

    text = report if isinstance(report, str) else render_html(report)
    return write_file(path, text, field="--html")


def generated_stamp(generated_at: dt.datetime | None) -> str:
    """When the report was generated (the given moment, else now in UTC), as ISO 8601 text."""
    moment = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return moment.isoformat()
