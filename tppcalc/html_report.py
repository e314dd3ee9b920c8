"""Self-contained HTML audit reports: what was checked, how, under which rules, from which data.

One file, no network: the style is inline, the chart is an SVG data URI in an ``<img>`` (so nothing
in it can run), there is no script at all, and a Content-Security-Policy forbids every fetch. The
builder is generic: a ``Report`` is sections of tables, lists and preformatted blocks, plus the chart,
the edition and its citations, the tool version and SHA-256 digests of every input file. The probe
(``node_report``), classify (``classification_report``) and fleet (``fleet_report``) builders fill
it; its tables and cells are those of ``tppcalc.layout``, which the terminal draws too.

Escaping has one place: ``render_html`` passes every string through ``html.escape``, after
``visible_text.visible`` has written its control characters as visible escapes (``\x1b``). Callers
hand over plain text only (``Cell.tone`` is checked against a closed set), so a device name such as
``<script>`` read from hardware or an input file can never become markup.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tppcalc._version import __version__
from tppcalc.errors import InputError
from tppcalc.exact import format_number
from tppcalc.layout import Cell, CellLike, Table, eccn_tone, licence, verdict
from tppcalc.visible_text import visible


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


# ---- digests -------------------------------------------------------------------------------------

def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digests(group: str, paths: Iterable[Path], *, relative_to: Path | None = None) -> list[Digest]:
    """One digest per file, and a combined digest of the group (sha256sum-style lines, sorted)."""
    found = []
    for path in sorted({Path(p) for p in paths}):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read for its digest: {exc.strerror or exc}", where=str(path)) from None
        name = str(path)
        if relative_to is not None:
            try:
                name = path.resolve().relative_to(relative_to.resolve()).as_posix()
            except ValueError:
                pass
        found.append(Digest(group, name, sha256_bytes(data)))
    if len(found) > 1:
        listing = "".join(f"{d.sha256}  {d.name}\n" for d in sorted(found, key=lambda d: d.name))
        found.insert(0, Digest(group, f"all {len(found)} files (SHA-256 of their sorted sha256sum lines)",
                               sha256_bytes(listing.encode())))
    return found


def catalogue_digests(catalogue) -> list[Digest]:
    """The spec files the catalogue was loaded from (shipped ones and any --specs-dir)."""
    from tppcalc.resources import data_dir

    origins = [Path(p) for p in set(catalogue.origins.values()) if not str(p).startswith("<")]
    return file_digests("catalogue", origins, relative_to=data_dir("specs"))


def _package_data(package: str) -> Path:
    return Path(str(resources.files(package) / "data"))


def rule_digests() -> list[Digest]:
    """Every rule data file: the editions and the country groups."""
    root = _package_data("tppcalc.rules")
    return file_digests("rule data", root.rglob("*.toml"), relative_to=root)


def identification_digests() -> list[Digest]:
    """The architecture tables used to identify and derive probed devices."""
    root = _package_data("tppcalc.probe")
    return file_digests("identification data", root.rglob("*.toml"), relative_to=root)


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
    out.append('<section id="chart"><h2>TPP and performance density</h2>')
    if report.chart_svg is not None:
        out.append(_figure(report.chart_svg, report.chart_caption, "TPP against performance density"))
    else:
        out.append(f"<p>{_e(report.chart_note or 'No chart.')}</p>")
    out.append("</section>")
    if report.plane_svg is not None or report.plane_note:
        out.append('<section id="plane"><h2>TPP and total DRAM bandwidth</h2>')
        if report.plane_svg is not None:
            out.append(_figure(report.plane_svg, report.plane_caption, "TPP against DRAM bandwidth"))
        else:
            out.append(f"<p>{_e(report.plane_note)}</p>")
        out.append("</section>")
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


# ---- pieces shared by the builders ---------------------------------------------------------------

def _number(value, digits: int = 3, unit: str = "") -> str:
    return "unknown" if value is None else format_number(value, digits) + unit


def metrics_rows(metrics) -> list[tuple[str, str]]:
    primary = metrics.primary
    low, high = primary.tpp_bounds
    tpp = (_number(metrics.tpp) if metrics.tpp is not None else
           f"unknown (at least {format_number(low)})" if high is None and low else
           "unknown" if high is None else f"between {format_number(low)} and {format_number(high)}")
    return [
        ("TPP", tpp),
        ("Governing precision", str(metrics.governing_precision.value) if metrics.governing_precision else "unknown"),
        ("Applicable die area", _number(metrics.applicable_die_area_mm2, unit=" mm²")),
        ("Performance density", _number(metrics.performance_density, 2)),
        ("Designed for datacenters", {True: "yes", False: "no", None: "unknown"}[metrics.datacenter]),
        ("I/O rate (bidirectional)", _number(metrics.io_bidir_gbps, unit=" GB/s")),
        ("DRAM bandwidth", _number(metrics.dram_bandwidth_gbps, unit=" GB/s")),
        ("H100-equivalents", _number(metrics.h100_equivalents)),
    ]


def classification_section(title: str, result, metrics, *, anchor: str = "") -> Section:
    """One chip's metrics, verdict, reasons and paragraph checks."""
    from tppcalc.classification import describe_condition

    summary = [("ECCN", verdict(result)), ("Licence", licence(result.license_required, result.destination))]
    published = getattr(result, "published_eccn", None)
    if published is not None:
        summary.insert(1, ("Published ECCN", Cell(f"{published.value}: {published.finding}",
                                                  "warning" if published.agrees is False else None)))
    if result.license_exceptions:
        summary.append(("Licence exceptions", ", ".join(
            x.name + ("" if x.status == "available" else " (if unknowns hold)") for x in result.license_exceptions)))
    if result.review_policy:
        summary.append(("Review policy", result.review_policy))
    if result.destination is not None:
        summary.append(("End user headquarters", (result.headquarters or "unknown")
                        + (" (assumed: the destination)" if result.headquarters_assumed else "")))
    if result.notices:
        summary.append(("Notices", Cell(", ".join(n.id for n in result.notices) + " (see below)", "warning")))
    summary.append(("Reading-sensitive", "yes: " + "; ".join(f"{r}: {' or '.join(o)}" for r, o in
                                                               result.outcomes_by_reading.items())
                    if result.reading_sensitive else "no"))
    checks = []
    for check in result.checks:
        conditions = "; ".join(describe_condition(c.predicate, c.threshold, c.value) + f" ({c.result})"
                               for c in check.conditions)
        tone = {"yes": "controlled", "unknown": "undetermined", "no": None}[check.result]
        checks.append((check.paragraph, Cell(check.result, tone), check.excluded_by or "", conditions))
    # Notices: not licence lines, but what the reader must see beside the answer (GP10, a tariff band, a letter).
    notices = [(n.id, n.kind, "yes" if n.certain else Cell("may apply", "undetermined"), n.text,
                f"{n.citation.title} ({n.citation.url})") for n in result.notices]
    notice_tables = [Table(("notice", "kind", "applies", "text", "source"), notices, caption="Notices")] if notices else []
    return Section(
        title=title,
        anchor=anchor,
        tables=[Table(("", ""), [(Cell(k), v) for k, v in summary], caption="Classification"), *notice_tables,
                Table(("metric", "value"), metrics_rows(metrics), caption="Metrics (primary reading)"),
                Table(("paragraph", "holds", "excluded by", "conditions (value against threshold)"), checks,
                      caption="Paragraph checks (primary reading)")],
        items=[*result.reasons, *(f"Unknown: {u}" for u in metrics.unknowns)],
    )


def _rules_rows(result) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rows = [("Edition", f"{result.edition}: {result.edition_title}"), ("Status", result.edition_status),
            ("As of", str(result.as_of))]
    if result.overlays:
        rows.append(("Overlays", ", ".join(result.overlays)))
    rows.extend(("Note", n) for n in result.notes)
    citations = list(dict.fromkeys((c.title, c.url) for c in result.citations))
    return rows, citations


def _chart(chips, *, edition: str | None = None, overlays: Sequence[str] = (),
           as_of: dt.date | None = None) -> tuple[bytes | None, str, str]:
    """The chart under an edition (default: the rules in force on ``as_of``) as SVG bytes, its
    caption, or why there is none."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None, "", "Chart not drawn: matplotlib is not installed (pip install 'tppcalc[chart]')."
    from tppcalc.chart import chart_model, render, rules_view

    view = rules_view(edition=edition, overlays=overlays, as_of=as_of)
    model = chart_model(chips, view)
    caption = (f"The 3A090 regions of {view.id} (primary reading, a chip designed for datacenters); each chip "
               "placed by its TPP and performance density. Chips whose density or TPP is unknown are shown "
               "apart, in the strip above and the panel beside the plot.")
    return render(model, "svg"), caption, ""


def _chart_of(chips, result) -> tuple[bytes | None, str, str]:
    """The chart under the edition a Classification used."""
    return _chart(chips, edition=result.edition, overlays=result.overlays, as_of=result.as_of)


def _plane_of(chips, result) -> tuple[bytes | None, str, str]:
    """The TPP x DRAM bandwidth plane under the rules a Classification used, as SVG bytes, its
    caption, or why there is none (no matplotlib; rules that draw nothing in this plane)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None, "", "Plane not drawn: matplotlib is not installed (pip install 'tppcalc[chart]')."
    from tppcalc.chart import bandwidth_model, render_bandwidth, rules_view

    view = rules_view(edition=result.edition, overlays=result.overlays, as_of=result.as_of)
    model = bandwidth_model(chips, view)
    if not model.areas:
        return None, "", f"The rules of {view.id} draw no line in the TPP and DRAM bandwidth plane."
    caption = ("Each chip placed by its TPP and total DRAM bandwidth, against the case-by-case review zone and "
               f"the Section 232 tariff bands of {view.id}, as the rule data gives them.")
    return render_bandwidth(model, "svg"), caption, ""


# What JSON leaves raw but a document cannot show (json.dumps already escapes U+0000-U+001F).
_UNSHOWN_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _json_text(value: object) -> str:
    """``value`` as indented JSON whose every character can be shown as it is (so the text shown is
    the text digested): the others as ``\\u`` escapes, which decode to the same value."""
    text = json.dumps(value, indent=1, ensure_ascii=False)
    return _UNSHOWN_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _now(generated_at: dt.datetime | None) -> str:
    moment = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return moment.isoformat()


# ---- probe ---------------------------------------------------------------------------------------

def node_report(node, *, catalogue=None, extra_files: Mapping[str, Path] | None = None,
                generated_at: dt.datetime | None = None, chart: bool = True,
                measurements: dict | None = None) -> Report:
    """The audit report of one probed node (a ``NodeAssessment``), with the kernel measurements of
    ``tppcalc probe --bench`` (``measure_host``'s document) when given."""
    from tppcalc.catalogue import default_catalogue
    from tppcalc.chart import ChartChip

    host = node.host
    host_json = _json_text(host.model_dump(mode="json"))
    rows, cross = [], []
    for device in node.devices:
        ident, result = device.identification, device.classification
        # The name the backend read (labels differ per backend: "GPU 0", "AMD GPU 0", ...).
        reported = device.reported or "unreadable"
        rows.append((device.label, reported, ident.catalogue_id or ident.spec.name, ident.method,
                     _number(device.metrics.tpp), _number(device.metrics.performance_density, 2),
                     verdict(result), licence(result.license_required, result.destination)))
        declared = device.metrics.tpp
        derived = ident.derived_tpp_at_max_clock
        ratio = "" if declared is None or derived is None or not declared else format_number(derived / declared, 3)
        cross.append((device.label, _number(declared), _number(derived), ratio,
                      Cell("; ".join(ident.cross_checks), "warning") if ident.cross_checks else Cell("none", "muted")))
    node_verdict = (Cell(node.eccn, eccn_tone(node.eccn)) if node.eccn
                    else Cell("undetermined: " + " or ".join(node.undetermined or []), "undetermined"))
    destination = node.devices[0].classification.destination if node.devices else None
    summary = [("Host", host.hostname or "unknown"), ("Provenance", host.provenance),
               ("NVML", host.nvml),
               ("NVIDIA driver", f"{host.driver_version or 'unknown'} (CUDA {host.cuda_driver_version or 'unknown'})"),
               ("Devices", (f"{sum(d.kind == 'gpu' for d in node.devices)} GPU(s), "
                           f"{sum(d.count for d in node.devices if d.kind == 'cpu')} CPU socket(s)")),
               ("Node (4A090)", node_verdict), ("Licence", licence(node.license_required, destination))]
    sections = [
        Section("Devices", anchor="devices", tables=[Table(
            ("device", "reported as", "identified as", "how", "TPP", "density", "ECCN", "licence"), rows)],
            items=[*node.reasons, *(f"Note: {n}" for n in host.notes)]),
        Section("Declared against derived", anchor="declared-derived", paragraphs=[
            ("Declared: the datasheet TPP the rule uses. Derived: SMs x tensor MACs per SM per clock x NVML's "
            "maximum SM clock; NVIDIA quotes Hopper's tensor peaks at a lower clock, so derived runs about 8% high. "
            + ("Kernel measurements follow." if measurements else "No kernel measurements are part of this report."))],
            tables=[Table(("device", "declared TPP", "derived TPP (max clock)", "derived / declared",
                           "cross-checks"), cross)]),
    ]
    if measurements:
        sections.append(_measurement_section(measurements))
    unread = [(f"GPU {g.index}", field, why) for g in host.gpus for field, why in g.errors.items()]
    unread += [("CPU", field, why) for c in host.cpus for field, why in c.errors.items()]
    if unread:
        sections.append(Section("Fields that could not be read", anchor="unread",
                                tables=[Table(("device", "field", "why"), unread)]))
    seen: dict[int, str] = {}
    for device in node.devices:
        key = id(device.classification)
        if key in seen:
            continue
        same = [d.label for d in node.devices if d.classification is device.classification]
        seen[key] = device.label
        name = device.identification.catalogue_id or device.identification.spec.name
        sections.append(classification_section(f"{', '.join(same)}: {name}", device.classification, device.metrics))
    sections.append(Section("HostReport", anchor="host-report", paragraphs=[
        ("The frozen record the probe produced; everything above was computed from it. Its SHA-256 below is "
        "of exactly this text (UTF-8).")], preformatted=[("HostReport JSON", host_json)]))

    groups: dict[str, list] = {}
    for device in node.devices:
        name = device.identification.catalogue_id or f"{device.label}: {device.identification.spec.name}"
        groups.setdefault(name, []).append(device)
    chips = [ChartChip(f"device-{n}", (ds[0].identification.spec.name
                                       + (f" x{sum(d.count for d in ds)}" if sum(d.count for d in ds) > 1 else "")),
                       ds[0].metrics) for n, ds in enumerate(groups.values())]
    svg, caption, chart_note = (_chart_of(chips, node.devices[0].classification) if chart and node.devices
                                else (None, "", "No chart: no device."))
    plane, plane_caption, plane_note = (_plane_of(chips, node.devices[0].classification) if chart and node.devices
                                        else (None, "", ""))
    digests = [Digest("HostReport", "HostReport JSON (as shown in this report)", sha256_bytes(host_json.encode()))]
    for label, path in (extra_files or {}).items():
        digests.extend(Digest(label, d.name, d.sha256) for d in file_digests(label, [Path(path)]))
    digests += catalogue_digests(catalogue or default_catalogue()) + rule_digests() + identification_digests()
    edition, citations = _rules_rows(node.devices[0].classification) if node.devices else ([], [])
    return Report(title=f"tppcalc probe: {host.hostname or 'unknown host'}", summary=summary, sections=sections,
                  chart_svg=svg, chart_caption=caption, chart_note=chart_note, edition=edition, citations=citations,
                  digests=digests, generated_at=_now(generated_at), plane_svg=plane, plane_caption=plane_caption,
                  plane_note=plane_note)


def _measurement_section(document: dict) -> Section:
    def share(value):
        return "" if value is None else f"{value:.1%}"

    def rate(value):
        return "" if value is None else f"{value:,.3f}"

    rows, items = [], [f"{entry['kind'].upper()}: {entry['reason']}" for entry in document.get("unavailable", [])]
    for entry in document["devices"]:
        device = entry["name"] + (f" (GPU {entry['index']})" if entry["kind"] == "gpu" else "")
        for result in entry["results"]:
            status = (Cell("cannot run: " + (result["reason"] or ""), "undetermined") if result["status"] != "measured"
                      else ("" if result["reaches_peak"] else Cell("lower bound: " + (result["reason"] or ""), "muted")))
            rows.append((device, result["precision"], result["unit"], result["kernel"], rate(result["measured_tflops"]),
                         rate(result["theoretical_tflops_at_measured_clock"]), share(result["fraction_at_measured_clock"]),
                         rate(result.get("datasheet_tflops")), share(result.get("fraction_of_datasheet")), status))
        clock = entry["measured_clock_mhz"]
        bandwidth = entry["memory_bandwidth_gbps"]
        items.append(f"{device}: measured clock {clock:.0f} MHz; " if clock else f"{device}: clock not measured; ")
        items[-1] += (f"memory bandwidth {bandwidth:.0f} GB/s" if bandwidth is not None else "no bandwidth") + (
            f" ({share(entry.get('memory_bandwidth_fraction'))} of the datasheet)" if entry.get("memory_bandwidth_fraction")
            else "") + f"; verdict: {entry['verdict']}"
    return Section("Measured against declared", anchor="measured", paragraphs=[
        ("Microbenchmark kernels run on this node (tppcalc probe --bench): rates in tera-operations per second, "
         "against the architecture's theoretical rate at the clock the SMs ran at, and against the datasheet's "
         "dense figure. A lower bound is a kernel known not to reach the peak on this architecture.")],
        tables=[Table(("device", "precision", "unit", "kernel", "measured", "theoretical at measured clock",
                       "fraction", "datasheet", "of datasheet", "note"), rows)], items=items)


def write_node_html(node, path: str | Path, **options) -> Path:
    """``tppcalc probe --html FILE``."""
    return write_html(node_report(node, **options), path)


# ---- classify ------------------------------------------------------------------------------------

def classification_report(results: Sequence, *, specs: Sequence | None = None, catalogue=None,
                          extra_files: Mapping[str, Path] | None = None,
                          generated_at: dt.datetime | None = None, chart: bool = True) -> Report:
    """The audit report of ``tppcalc classify``: one Classification per chip (``specs`` in the same
    order, for names and metrics; without them the metrics the classification was computed from)."""
    from tppcalc.catalogue import default_catalogue
    from tppcalc.chart import ChartChip
    from tppcalc.metrics import compute_metrics

    if not results:
        raise InputError("nothing to report: no classification given")
    if specs is not None and len(specs) != len(results):
        raise InputError(f"{len(specs)} specs for {len(results)} classifications")
    entries = []
    for index, result in enumerate(results):
        spec = None if specs is None else specs[index]
        metrics = compute_metrics(spec) if spec is not None else result._context[1]
        name = f"{spec.vendor} {spec.name}".strip() if spec is not None else result.chip_id
        entries.append((name, result, metrics))
    rows = [(name, r.chip_id, _number(m.tpp), _number(m.performance_density, 2), verdict(r),
             licence(r.license_required, r.destination), r.review_policy or "")
            for name, r, m in entries]
    first = results[0]
    summary = [("Chips", str(len(results))), ("Destination", first.destination or "not given"),
               ("Item", {"ic": "integrated circuit (3A090)", "computer": "computer holding it (4A090)"}[first.item]),
               ("Rules", f"{first.edition} ({first.edition_status})"), ("As of", str(first.as_of))]
    sections = [Section("Chips", anchor="chips", tables=[Table(
        ("chip", "id", "TPP", "density", "ECCN", "licence", "review policy"), rows)])]
    sections += [classification_section(name, r, m, anchor=f"chip-{n}") for n, (name, r, m) in enumerate(entries)]
    chips = [ChartChip(f"chip-{n}", name, m, highlighted=True) for n, (name, _, m) in enumerate(entries)]
    svg, caption, chart_note = _chart_of(chips, first) if chart else (None, "", "Chart not requested.")
    plane, plane_caption, plane_note = _plane_of(chips, first) if chart else (None, "", "")
    editions = {(r.edition, tuple(r.overlays)) for r in results}
    notes = [] if len(editions) == 1 else [("These classifications used different editions; the chart shows "
                                           f"{first.edition}.")]
    digests = []
    for label, path in (extra_files or {}).items():
        digests.extend(Digest(label, d.name, d.sha256) for d in file_digests(label, [Path(path)]))
    digests += catalogue_digests(catalogue or default_catalogue()) + rule_digests()
    digests.append(Digest("classifications", "the classifications as JSON (tppcalc classify --json)",
                          sha256_bytes(_classifications_json(results).encode())))
    edition, citations = _rules_rows(first)
    return Report(title="tppcalc classify: " + ", ".join(name for name, _, _ in entries[:4])
                  + (f" and {len(entries) - 4} more" if len(entries) > 4 else ""),
                  summary=summary, sections=sections, chart_svg=svg, chart_caption=caption, chart_note=chart_note,
                  edition=edition, citations=citations, digests=digests, notes=notes, generated_at=_now(generated_at),
                  plane_svg=plane, plane_caption=plane_caption, plane_note=plane_note)


def _classifications_json(results: Sequence) -> str:
    from tppcalc.report import classification_dict

    documents = [classification_dict(r) for r in results]
    return json.dumps(documents[0] if len(documents) == 1 else documents, indent=2)


def write_classification_html(results: Sequence, path: str | Path, **options) -> Path:
    """``tppcalc classify --html FILE``."""
    return write_html(classification_report(results, **options), path)


# ---- fleet ---------------------------------------------------------------------------------------

def fleet_report(report, *, inputs: Sequence[Path], chips: Mapping | None = None, catalogue=None,
                 generated_at: dt.datetime | None = None, chart: bool = True) -> Report:
    """The audit report of ``tppcalc fleet report``: a ``FleetReport``, the files it was computed
    from (``inputs``, digested) and the catalogue chips the fleet holds (``chips``, by id, charted)."""
    from collections import Counter

    from tppcalc.catalogue import default_catalogue
    from tppcalc.chart import ChartChip, rules_view
    from tppcalc.fleet.aggregate import h100_equivalents
    from tppcalc.layout import check_tone
    from tppcalc.metrics import compute_metrics
    from tppcalc.report import fleet_checks_table, fleet_dict, fleet_total_tables
    from tppcalc.rules.editions import default_rulebook

    day = report.as_of
    totals = list(report.totals_by_country.values())
    tpp = sum((t.tpp for t in totals), start=0)
    complete = all(t.complete for t in totals)
    statuses = Counter(check.status for check in report.checks)
    worst = next((s for s in ("fail", "undetermined", "pass") if statuses[s]), None)
    checks = ", ".join(f"{statuses[s]} {s}" for s in ("fail", "undetermined", "pass") if statuses[s])
    summary = [("As of", str(day)), ("Input files", str(len(inputs))), ("Units", f"{sum(t.units for t in totals):,}"),
               ("TPP", format_number(tpp, 1) + ("" if complete else " and units of unknown TPP")),
               ("H100-equivalents", format_number(h100_equivalents(tpp), 1)),
               ("Checks", Cell(checks, check_tone(worst)) if worst else Cell("no cap applies on this date", "muted"))]
    sections = [
        Section("Totals", anchor="totals", tables=fleet_total_tables(report), paragraphs=[
            "TPP is the known total; a total marked with units of unknown TPP is a lower bound."]),
        Section("Checks", anchor="checks", tables=[fleet_checks_table(report, with_rule=True)], paragraphs=[
            ("Only chips that are or may be 3A090.a count toward the caps. A check is undetermined when a "
             "holding whose TPP or classification is unknown could change its answer. Comparisons are exact: "
             "a total equal to an \"at most\" limit passes.")]),
    ]

    view = rules_view(as_of=day)
    book = default_rulebook()
    cap_editions = [e for e in book.editions if e.caps and e.effective <= day]   # as the checks read them
    edition = [("Classification rules", f"{view.id}: {view.title}"), ("As of", str(day)),
               *(("Caps", rule) for rule in dict.fromkeys([*report.notes, *(c.rule for c in report.checks)]))]
    citations = list(dict.fromkeys((c.title, c.url) for e in [*(book.get(i) for i in view.layers), *cap_editions]
                                   for c in e.citations))

    placed = [ChartChip(f"chip-{n}", f"{spec.vendor} {spec.name}".strip(), compute_metrics(spec))
              for n, spec in enumerate(sorted((chips or {}).values(), key=lambda s: s.id))]
    if not chart:
        svg, caption, chart_note = None, "", "Chart not requested."
    elif not placed:
        svg, caption, chart_note = None, "", "No chart: the fleet holds no chip identified in the catalogue."
    else:
        svg, caption, chart_note = _chart(placed, as_of=day)
        if svg is not None:
            caption += " The chips are the models the fleet holds; devices not identified in the catalogue are not shown."

    paths = [Path(p) for p in inputs]
    digests = file_digests("input", paths)
    digests += catalogue_digests(catalogue or default_catalogue()) + rule_digests()
    if any(p.suffix.lower() in (".jsonl", ".json") for p in paths):
        digests += identification_digests()   # bare HostReports are identified here
    digests.append(Digest("fleet report", "the report as JSON (tppcalc fleet report --json)",
                          sha256_bytes(json.dumps(fleet_dict(report), indent=2).encode())))
    return Report(title=f"tppcalc fleet report: {day}", summary=summary, sections=sections, chart_svg=svg,
                  chart_caption=caption, chart_note=chart_note, edition=edition, citations=citations,
                  digests=digests, generated_at=_now(generated_at))


def write_fleet_html(report, path: str | Path, **options) -> Path:
    """``tppcalc fleet report --html FILE``."""
    return write_html(fleet_report(report, **options), path)
