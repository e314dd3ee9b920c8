"""Pieces the report builders share: one chip's classification section, its metrics and rules rows."""

from __future__ import annotations

from tppcalc.core.exact import format_number
from tppcalc.render.html_report.page import Section
from tppcalc.render.layout import Cell, Table, licence, verdict


def number_or_unknown(value, digits: int = 3, unit: str = "") -> str:
    return "unknown" if value is None else format_number(value, digits) + unit


def metrics_rows(metrics) -> list[tuple[str, str]]:
    primary = metrics.primary
    low, high = primary.tpp_bounds
    tpp = (number_or_unknown(metrics.tpp) if metrics.tpp is not None else
           f"unknown (at least {format_number(low)})" if high is None and low else
           "unknown" if high is None else f"between {format_number(low)} and {format_number(high)}")
    return [
        ("TPP", tpp),
        ("Governing precision", str(metrics.governing_precision.value) if metrics.governing_precision else "unknown"),
        ("Applicable die area", number_or_unknown(metrics.applicable_die_area_mm2, unit=" mm²")),
        ("Performance density", number_or_unknown(metrics.performance_density, 2)),
        ("Designed for datacenters", {True: "yes", False: "no", None: "unknown"}[metrics.datacenter]),
        ("I/O rate (bidirectional)", number_or_unknown(metrics.io_bidir_gbps, unit=" GB/s")),
        ("DRAM bandwidth", number_or_unknown(metrics.dram_bandwidth_gbps, unit=" GB/s")),
        ("H100-equivalents", number_or_unknown(metrics.h100_equivalents)),
    ]


def classification_section(title: str, result, metrics, *, anchor: str = "") -> Section:
    """One chip's metrics, verdict, reasons and paragraph checks."""
    from tppcalc.decisions.classification import describe_condition

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


def rules_rows(result) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The rules a Classification used: (label, value) rows and its citations, each once."""
    rows = [("Edition", f"{result.edition}: {result.edition_title}"), ("Status", result.edition_status),
            ("As of", str(result.as_of))]
    if result.overlays:
        rows.append(("Overlays", ", ".join(result.overlays)))
    rows.extend(("Note", n) for n in result.notes)
    citations = list(dict.fromkeys((c.title, c.url) for c in result.citations))
    return rows, citations
