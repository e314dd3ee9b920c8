"""The charts a report embeds, drawn as SVG under the rules a report used, with their captions or
why there is none (matplotlib is optional)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


def chart_figure(chips, *, edition: str | None = None, overlays: Sequence[str] = (),
                 as_of: dt.date | None = None) -> tuple[bytes | None, str, str]:
    """The chart under an edition (default: the rules in force on ``as_of``) as SVG bytes, its
    caption, or why there is none."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None, "", "Chart not drawn: matplotlib is not installed (pip install 'tppcalc[chart]')."
    from tppcalc.render.chart import chart_model, render, rules_view

    view = rules_view(edition=edition, overlays=overlays, as_of=as_of)
    model = chart_model(chips, view)
    caption = (f"The 3A090 regions of {view.id} (primary reading, a chip designed for datacenters); each chip "
               "placed by its TPP and performance density. Chips whose density or TPP is unknown are shown "
               "apart, in the strip above and the panel beside the plot.")
    return render(model, "svg"), caption, ""


def chart_of(chips, result) -> tuple[bytes | None, str, str]:
    """The chart under the edition a Classification used."""
    return chart_figure(chips, edition=result.edition, overlays=result.overlays, as_of=result.as_of)


def plane_of(chips, result) -> tuple[bytes | None, str, str]:
    """The TPP x DRAM bandwidth plane under the rules a Classification used, as SVG bytes, its
    caption, or why there is none (no matplotlib; rules that draw nothing in this plane)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None, "", "Plane not drawn: matplotlib is not installed (pip install 'tppcalc[chart]')."
    from tppcalc.render.chart import bandwidth_model, render_bandwidth, rules_view

    view = rules_view(edition=result.edition, overlays=result.overlays, as_of=result.as_of)
    model = bandwidth_model(chips, view)
    if not model.areas:
        return None, "", f"The rules of {view.id} draw no line in the TPP and DRAM bandwidth plane."
    caption = ("Each chip placed by its TPP and total DRAM bandwidth, against the case-by-case review zone and "
               f"the Section 232 tariff bands of {view.id}, as the rule data gives them.")
    return render_bandwidth(model, "svg"), caption, ""
