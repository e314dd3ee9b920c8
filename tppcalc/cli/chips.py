"""``tppcalc chips list`` and ``tppcalc chips show``: the catalogue, browsed."""

from __future__ import annotations

import json

import click

from tppcalc.cli.options import current_catalogue


@click.group()
def chips() -> None:
    """Browse the chip catalogue."""


@chips.command("list")
@click.option("--vendor", help="Only this vendor (case-insensitive).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_chips(vendor: str | None, as_json: bool) -> None:
    """Every chip in the catalogue with its TPP and performance density."""
    from tppcalc.core.exact import to_plain
    from tppcalc.core.metrics import compute_metrics
    from tppcalc.render.documents import published_tpp_dict

    catalogue = current_catalogue()
    selected = [c for c in catalogue if vendor is None or c.vendor.lower() == vendor.lower()]
    rows = []
    for spec in selected:
        m = compute_metrics(spec)
        rows.append({
            "id": spec.id, "vendor": spec.vendor, "name": spec.name, "kind": spec.kind.value,
            "tpp": None if m.tpp is None else to_plain(m.tpp),
            "performance_density": None if m.performance_density is None else to_plain(m.performance_density),
            "governing_precision": m.governing_precision, "published_tpp": published_tpp_dict(spec),
        })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from tppcalc.render.report import chips_table
    from tppcalc.render.terminal import show

    show([chips_table(rows)])
    click.echo(f"{len(rows)} chips", err=True)


@chips.command("show")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the spec and its metrics as JSON.")
def show_chip(query: str, as_json: bool) -> None:
    """One chip by id, name, alias, PCI id or a product name that fits exactly one chip, with its metrics."""
    from tppcalc.core.metrics import compute_metrics
    from tppcalc.render.layout import Items
    from tppcalc.render.report import metrics_blocks, metrics_dict

    catalogue = current_catalogue()
    spec = catalogue.lookup(query)
    metrics = compute_metrics(spec)
    if as_json:
        document = spec.model_dump(mode="json", exclude_none=True)
        document["origin"] = catalogue.origins[spec.id]
        document["metrics"] = metrics_dict(metrics)
        click.echo(json.dumps(document, indent=2))
        return
    from tppcalc.render.terminal import show

    cited = sorted({key for _, key in spec.source_keys_used()})
    sources = [f"[{key}] {spec.sources[key].title}" + (f" <{spec.sources[key].url}>" if spec.sources[key].url else "")
               for key in cited]
    show([*metrics_blocks(metrics, title=f"{spec.vendor} {spec.name} ({spec.id})"), Items("Sources", sources)])
