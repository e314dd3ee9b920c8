"""The audit report of ``tppcalc classify --html``: one section per chip classified, with the chart."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from tppcalc.errors import InputError
from tppcalc.render.html_report.digests import catalogue_digests, extra_file_digests, rule_digests, sha256_bytes
from tppcalc.render.html_report.figures import chart_of, plane_of
from tppcalc.render.html_report.page import Digest, Report, Section, generated_stamp, write_html
from tppcalc.render.html_report.sections import classification_section, number_or_unknown, rules_rows
from tppcalc.render.layout import Table, licence, verdict


def classification_report(results: Sequence, *, specs: Sequence | None = None, catalogue=None,
                          extra_files: Mapping[str, Path] | None = None,
                          generated_at: dt.datetime | None = None, chart: bool = True) -> Report:
    """The audit report of ``tppcalc classify``: one Classification per chip (``specs`` in the same
    order, for names and metrics; without them the metrics the classification was computed from)."""
    from tppcalc.core.metrics import compute_metrics
    from tppcalc.data.catalogue import default_catalogue
    from tppcalc.render.chart import ChartChip

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
    rows = [(name, r.chip_id, number_or_unknown(m.tpp), number_or_unknown(m.performance_density, 2), verdict(r),
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
    svg, caption, chart_note = chart_of(chips, first) if chart else (None, "", "Chart not requested.")
    plane, plane_caption, plane_note = plane_of(chips, first) if chart else (None, "", "")
    editions = {(r.edition, tuple(r.overlays)) for r in results}
    notes = [] if len(editions) == 1 else [("These classifications used different editions; the chart shows "
                                           f"{first.edition}.")]
    digests = extra_file_digests(extra_files)
    digests += catalogue_digests(catalogue or default_catalogue()) + rule_digests()
    digests.append(Digest("classifications", "the classifications as JSON (tppcalc classify --json)",
                          sha256_bytes(_classifications_json(results).encode())))
    edition, citations = rules_rows(first)
    return Report(title="tppcalc classify: " + ", ".join(name for name, _, _ in entries[:4])
                  + (f" and {len(entries) - 4} more" if len(entries) > 4 else ""),
                  summary=summary, sections=sections, chart_svg=svg, chart_caption=caption, chart_note=chart_note,
                  edition=edition, citations=citations, digests=digests, notes=notes,
                  generated_at=generated_stamp(generated_at),
                  plane_svg=plane, plane_caption=plane_caption, plane_note=plane_note)


def _classifications_json(results: Sequence) -> str:
    from tppcalc.render.report import classification_dict

    documents = [classification_dict(r) for r in results]
    return json.dumps(documents[0] if len(documents) == 1 else documents, indent=2)


def write_classification_html(results: Sequence, path: str | Path, **options) -> Path:
    """``tppcalc classify --html FILE``."""
    return write_html(classification_report(results, **options), path)
