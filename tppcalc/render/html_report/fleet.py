"""The audit report of ``tppcalc fleet report --html``: totals and checks against the caps, the rules
read, the chips the fleet holds on the chart, and the digests of every inventory file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from tppcalc.core.exact import format_number
from tppcalc.render.html_report.digests import (
    catalogue_digests,
    file_digests,
    identification_digests,
    rule_digests,
    sha256_bytes,
)
from tppcalc.render.html_report.figures import chart_figure
from tppcalc.render.html_report.page import Digest, Report, Section, generated_stamp, write_html
from tppcalc.render.layout import Cell


def fleet_report(report, *, inputs: Sequence[Path], chips: Mapping | None = None, catalogue=None,
                 generated_at: dt.datetime | None = None, chart: bool = True) -> Report:
    """The audit report of ``tppcalc fleet report``: a ``FleetReport``, the files it was computed
    from (``inputs``, digested) and the catalogue chips the fleet holds (``chips``, by id, charted)."""
    from tppcalc.render.report import fleet_checks_table, fleet_total_tables

    sections = [
        Section("Totals", anchor="totals", tables=fleet_total_tables(report), paragraphs=[
            "TPP is the known total; a total marked with units of unknown TPP is a lower bound."]),
        Section("Checks", anchor="checks", tables=[fleet_checks_table(report, with_rule=True)], paragraphs=[
            ("Only chips that are or may be 3A090.a count toward the caps. A check is undetermined when a "
             "holding whose TPP or classification is unknown could change its answer. Comparisons are exact: "
             "a total equal to an \"at most\" limit passes.")]),
    ]
    edition, citations = _fleet_rules(report)
    svg, caption, chart_note = _fleet_chart(chips, report.as_of, chart)
    return Report(title=f"tppcalc fleet report: {report.as_of}", summary=_fleet_summary(report, inputs),
                  sections=sections, chart_svg=svg, chart_caption=caption, chart_note=chart_note, edition=edition,
                  citations=citations, digests=_fleet_digests(report, inputs, catalogue),
                  generated_at=generated_stamp(generated_at))


def _fleet_summary(report, inputs: Sequence[Path]) -> list:
    from collections import Counter

    from tppcalc.core.metrics import h100_equivalents
    from tppcalc.render.layout import check_tone

    totals = list(report.totals_by_country.values())
    tpp = sum((t.tpp for t in totals), start=0)
    complete = all(t.complete for t in totals)
    statuses = Counter(check.status for check in report.checks)
    worst = next((s for s in ("fail", "undetermined", "pass") if statuses[s]), None)
    checks = ", ".join(f"{statuses[s]} {s}" for s in ("fail", "undetermined", "pass") if statuses[s])
    return [("As of", str(report.as_of)), ("Input files", str(len(inputs))),
            ("Units", f"{sum(t.units for t in totals):,}"),
            ("TPP", format_number(tpp, 1) + ("" if complete else " and units of unknown TPP")),
            ("H100-equivalents", format_number(h100_equivalents(tpp), 1)),
            ("Checks", Cell(checks, check_tone(worst)) if worst else Cell("no cap applies on this date", "muted"))]


def _fleet_rules(report) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The classification rules in force on the day and the caps the checks read, with their citations."""
    from tppcalc.decisions.rules.editions import default_rulebook
    from tppcalc.render.chart import rules_view

    day = report.as_of
    view = rules_view(as_of=day)
    book = default_rulebook()
    cap_editions = [e for e in book.editions if e.caps and e.effective <= day]   # as the checks read them
    edition = [("Classification rules", f"{view.id}: {view.title}"), ("As of", str(day)),
               *(("Caps", rule) for rule in dict.fromkeys([*report.notes, *(c.rule for c in report.checks)]))]
    citations = list(dict.fromkeys((c.title, c.url) for e in [*(book.get(i) for i in view.layers), *cap_editions]
                                   for c in e.citations))
    return edition, citations


def _fleet_chart(chips: Mapping | None, day: dt.date, chart: bool) -> tuple[bytes | None, str, str]:
    """The chart of the catalogue chips the fleet holds, under the rules in force on ``day``."""
    from tppcalc.core.metrics import compute_metrics
    from tppcalc.render.chart import ChartChip

    placed = [ChartChip(f"chip-{n}", f"{spec.vendor} {spec.name}".strip(), compute_metrics(spec))
              for n, spec in enumerate(sorted((chips or {}).values(), key=lambda s: s.id))]
    if not chart:
        return None, "", "Chart not requested."
    if not placed:
        return None, "", "No chart: the fleet holds no chip identified in the catalogue."
    svg, caption, chart_note = chart_figure(placed, as_of=day)
    if svg is not None:
        caption += " The chips are the models the fleet holds; devices not identified in the catalogue are not shown."
    return svg, caption, chart_note


def _fleet_digests(report, inputs: Sequence[Path], catalogue) -> list[Digest]:
    from tppcalc.data.catalogue import default_catalogue
    from tppcalc.render.report import fleet_dict

    paths = [Path(p) for p in inputs]
    digests = file_digests("input", paths)
    digests += catalogue_digests(catalogue or default_catalogue()) + rule_digests()
    if any(p.suffix.lower() in (".jsonl", ".json") for p in paths):
        digests += identification_digests()   # bare HostReports are identified here
    digests.append(Digest("fleet report", "the report as JSON (tppcalc fleet report --json)",
                          sha256_bytes(json.dumps(fleet_dict(report), indent=2).encode())))
    return digests


def write_fleet_html(report, path: str | Path, **options) -> Path:
    """``tppcalc fleet report --html FILE``."""
    return write_html(fleet_report(report, **options), path)
