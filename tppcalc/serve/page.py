"""The web page at ``/``: a form, and the answer as the HTML audit report shows it.

Server-rendered, no script: the form is a GET form, so an answer is also a link. The answer is
``tppcalc.render.html_report``'s classification report (its escaping, its chart), with the form above it;
every string from the request goes through ``html.escape``.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping

from tppcalc.errors import InputError, TppcalcError

_FIELDS = ("chip", "dense", "die", "datacenter", "io_gbps", "dram_gbps", "dest", "hq", "as_of", "item")
# html_report forbids forms in its self-contained files; here the form posts back to this page.
_REPORT_CSP = "form-action 'none'"
_PAGE_CSP = "form-action 'self'"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _form(service, values: Mapping[str, str]) -> str:
    chosen = values.get("chip", "")
    options = ['<option value="">(figures below)</option>'] + [
        f'<option value="{_e(spec.id)}"{" selected" if spec.id == chosen else ""}>'
        f'{_e(spec.vendor)} {_e(spec.name)}</option>'
        for spec in service.catalogue]

    def text(name: str, label: str, hint: str, kind: str = "text") -> str:
        return (f'<label>{_e(label)} <input type="{kind}" name="{name}" value="{_e(values.get(name, ""))}" '
                f'placeholder="{_e(hint)}"></label>')

    def choice(name: str, label: str, pairs) -> str:
        current = values.get(name, "")
        inner = "".join(f'<option value="{_e(v)}"{" selected" if v == current else ""}>{_e(t)}</option>'
                        for v, t in pairs)
        return f'<label>{_e(label)} <select name="{name}">{inner}</select></label>'

    return ('<form method="get" action="/" class="ask"><fieldset><legend>Chip</legend>'
            f'<label>Catalogue chip <select name="chip">{"".join(options)}</select></label>'
            '<p>or figures:</p>'
            + text("dense", "Dense throughputs", "fp8=1978.9 int8=1978.9")
            + text("die", "Logic dies", "814:finfet")
            + choice("datacenter", "Datacenter", (("", "unknown"), ("yes", "yes"), ("no", "no")))
            + text("io_gbps", "I/O GB/s", "900") + text("dram_gbps", "DRAM GB/s", "4800")
            + '</fieldset><fieldset><legend>Where and when</legend>'
            + text("dest", "Destination", "CN") + text("hq", "Headquarters", "(the destination)")
            + text("as_of", "Date", "2026-02-01", "date")
            + choice("item", "Item", (("ic", "the IC (3A090)"), ("computer", "a computer holding it (4A090)")))
            + '</fieldset><p><button type="submit">Classify</button></p></form>')


_SHELL = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action 'self'">
<title>tppcalc</title><style>body{font:14px/1.45 system-ui,sans-serif;max-width:1200px;margin:0 auto;padding:24px}
label{display:inline-block;margin:4px 12px 4px 0} .problem{color:#a00;font-weight:600}</style></head><body>
<h1>tppcalc: is this chip controlled?</h1>%s</body></html>
"""


def render_page(service, query: Mapping[str, str]) -> tuple[int, str]:
    """(status, HTML): the form, and the answer when the query names a chip or figures."""
    values = {name: query.get(name, "")[:200] for name in _FIELDS}
    form = _form(service, values)
    if not values["chip"] and not values["dense"]:
        return 200, _SHELL % form
    try:
        report = _answer(service, values)
    except TppcalcError as exc:
        return 422, _SHELL % (form + f'<p class="problem">Cannot answer: {_e(exc)}</p>')
    from tppcalc.render.html_report import render_html

    text = render_html(report)
    assert _REPORT_CSP in text, "the audit report's policy changed: review the page's"
    text = text.replace(_REPORT_CSP, _PAGE_CSP, 1)
    marker = "</header>"
    head, _, tail = text.partition(marker)
    return 200, head + marker + form + tail


def _answer(service, values: Mapping[str, str]):
    from tppcalc.decisions.classification import classify
    from tppcalc.render.html_report import Section, classification_report
    from tppcalc.serve.operations import rule_arguments

    figures = None
    if not values["chip"]:
        figures = {"dense": values["dense"].replace(",", " ").split(),
                   "dies": values["die"].replace(",", " ").split(),
                   "datacenter": {"yes": True, "no": False}.get(values["datacenter"]),
                   "io_gbps": values["io_gbps"] or None, "dram_gbps": values["dram_gbps"] or None}
    spec = service.spec_of(values["chip"] or None, figures)
    rules = rule_arguments(dest=values["dest"] or None, hq=values["hq"] or None, as_of=values["as_of"] or None,
                           edition=None, as_written=False)
    item = values["item"] or "ic"
    if item not in ("ic", "computer"):
        raise InputError(f"expected ic or computer, got {item!r}", field="item")
    result = classify(spec, item=item, **rules)
    try:
        import matplotlib  # noqa: F401
        chart = True
    except ImportError:
        chart = False
    report = classification_report([result], specs=[spec], catalogue=service.catalogue, chart=chart)
    notices = [str(n) for n in getattr(result, "notices", None) or ()]
    if notices:
        report = dataclasses.replace(report, sections=[Section("Notices", items=notices), *report.sections])
    return report
