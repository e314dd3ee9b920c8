"""Self-contained HTML audit reports: what was checked, how, under which rules, from which data.

One file, no network: the style is inline, the chart is an SVG data URI in an ``<img>`` (so nothing
in it can run), there is no script at all, and a Content-Security-Policy forbids every fetch. The
builder is generic: a ``Report`` is sections of tables, lists and preformatted blocks, plus the chart,
the edition and its citations, the tool version and SHA-256 digests of every input file. The probe
(``node_report``), classify (``classification_report``) and fleet (``fleet_report``) builders fill
it; its tables and cells are those of ``tppcalc.render.layout``, which the terminal draws too.

One module per facet: ``page`` (the records, escaping, the document), ``digests``, ``figures`` (the
embedded charts), ``sections`` (pieces the builders share), and one builder each in ``node``,
``classify`` and ``fleet``. The names below are the public interface; import them from here.
"""

from tppcalc.render.html_report.classify import classification_report, write_classification_html
from tppcalc.render.html_report.digests import (
    catalogue_digests,
    file_digests,
    identification_digests,
    rule_digests,
    sha256_bytes,
)
from tppcalc.render.html_report.fleet import fleet_report, write_fleet_html
from tppcalc.render.html_report.node import node_report, write_node_html
from tppcalc.render.html_report.page import Digest, Report, Section, render_html, write_html
from tppcalc.render.html_report.sections import classification_section, metrics_rows

__all__ = [
    "Digest", "Report", "Section", "catalogue_digests", "classification_report", "classification_section",
    "file_digests", "fleet_report", "identification_digests", "metrics_rows", "node_report", "render_html",
    "rule_digests", "sha256_bytes", "write_classification_html", "write_fleet_html", "write_html",
    "write_node_html",
]
