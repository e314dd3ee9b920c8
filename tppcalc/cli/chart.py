"""``tppcalc chart``: TPP (log) against performance density, the edition's 3A090 regions shaded; or,
with ``--plane bandwidth``, TPP against total DRAM bandwidth with the 2026 review zone and tariff bands."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tppcalc.cli.options import current_catalogue


@click.command()
@click.argument("queries", nargs=-1, metavar="[QUERY]...")
@click.option("--all", "all_chips", is_flag=True, help="Every chip in the catalogue.")
@click.option("--edition", metavar="ID", help="Draw this rule edition (see `tppcalc rules list`).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Draw the rules in force on this date (default: today).")
@click.option("--as-written", is_flag=True,
              help="Draw the regulations text even where BIS does not enforce it (AI Diffusion), as classify does.")
@click.option("--highlight", "highlights", multiple=True, metavar="QUERY",
              help="Emphasise this chip (added to the chart if not selected); repeatable.")
@click.option("--compare", metavar="EDITION", help="Also draw this edition's lines, dashed (density plane only).")
@click.option("--plane", type=click.Choice(["density", "bandwidth"]), default="density", show_default=True,
              help="density: TPP against performance density (3A090 regions); bandwidth: TPP against total DRAM "
                   "bandwidth (the January 2026 case-by-case zone and the Section 232 tariff bands).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The chart file: .png or .svg.")
@click.option("--json", "as_json", is_flag=True,
              help="Also print one JSON object: the edition drawn and where each chip was placed.")
def chart(queries, all_chips: bool, edition: str | None, as_of, as_written: bool, highlights, compare: str | None, plane: str,
          output: Path, as_json: bool) -> None:
    """Chart catalogue chips (QUERY, or --all) against the 3A090 regions of an edition.

    \b
    Examples:
      tppcalc chart --all --highlight H20 -o chart.png
      tppcalc chart "H100 SXM" H20 "RTX 4090" --edition 2023-11-17 --compare 2022-10-07 -o chart.svg
      tppcalc chart --plane bandwidth --as-of 2026-02-01 -o plane.png
    """
    from tppcalc.errors import InputError
    from tppcalc.render.chart import (
        chart_format,
        chart_model,
        chips_from_specs,
        require_matplotlib,
        rules_view,
        write_chart,
    )

    if all_chips and queries:
        raise click.UsageError("give QUERY arguments or --all, not both")
    if plane == "bandwidth" and not all_chips and not queries and not highlights:
        all_chips = True   # the plane is read against the whole catalogue, as peers' dashboards show it
    if not all_chips and not queries and not highlights:
        raise click.UsageError("give catalogue QUERY arguments, --highlight QUERY or --all")
    if plane == "bandwidth" and compare is not None:
        raise click.UsageError("--compare draws density-plane lines: give it without --plane bandwidth")
    if edition is not None and as_of is not None:
        raise click.UsageError("give --edition or --as-of, not both")
    chart_format(output)   # refuse a bad file name, or a missing extra, before any work
    require_matplotlib()
    catalogue = current_catalogue()
    marked = [catalogue.lookup(q) for q in highlights]
    chosen = list(catalogue) if all_chips else [catalogue.lookup(q) for q in queries]
    specs = list({s.id: s for s in [*chosen, *marked]}.values())
    view = rules_view(edition=edition, as_of=None if as_of is None else as_of.date(), as_written=as_written)
    if plane == "bandwidth":
        _bandwidth_plane(specs, [s.id for s in marked], view, output, as_json)
        return
    other = None
    if compare is not None:
        try:
            other = rules_view(edition=compare, as_of=None if as_of is None else as_of.date(), as_written=as_written)
        except InputError as exc:
            raise InputError(exc.problem, field="--compare") from None
    model = chart_model(chips_from_specs(specs, [s.id for s in marked]), view, compare=other)
    write_chart(model, output)
    placed = {place: sum(p.place == place for p in model.points) for place in ("plot", "density unknown", "tpp unknown")}
    click.echo(f"wrote {output}: {len(model.points)} chips under {view.id} "
               f"({placed['plot']} plotted, {placed['density unknown']} with density unknown, "
               f"{placed['tpp unknown']} with TPP unknown)", err=True)
    if as_json:
        click.echo(json.dumps({
            "output": str(output), "edition": view.id, "compare": None if other is None else other.id,
            "chips": [{"id": p.key, "label": p.label, "place": p.place, "tpp": p.tpp, "performance_density": p.density,
                       "highlighted": p.highlighted, "note": p.note} for p in model.points],
        }, indent=2))


def _bandwidth_plane(specs, highlighted, view, output: Path, as_json: bool) -> None:
    from tppcalc.render.chart import bandwidth_json, bandwidth_model, chips_from_specs, write_bandwidth_chart

    model = bandwidth_model(chips_from_specs(specs, highlighted), view)
    write_bandwidth_chart(model, output)
    plotted = sum(p.place == "plot" for p in model.points)
    click.echo(f"wrote {output}: {len(model.points)} chips against TPP and DRAM bandwidth under {view.id} "
               f"({plotted} plotted, {len(model.points) - plotted} beside the plot: off it, or a figure unknown; "
               f"{len(model.areas)} zones and bands)", err=True)
    if as_json:
        click.echo(json.dumps({"output": str(output), **bandwidth_json(model)}, indent=2))
