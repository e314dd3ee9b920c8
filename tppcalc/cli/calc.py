"""``tppcalc calc``: a chip's metrics from flags or a spec file."""

from __future__ import annotations

import json

import click

from tppcalc.cli.options import figure_options


@click.command()
@figure_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def calc(spec, as_json: bool) -> None:
    """TPP, performance density and the other 3A090 metrics of one chip.

    \b
    Example:
      tppcalc calc --dense fp8=1978.9 --die 814:finfet --datacenter
    """
    from tppcalc.core.metrics import compute_metrics

    if spec is None:
        raise click.UsageError("give at least one --dense PREC=VALUE (or --spec FILE)")
    metrics = compute_metrics(spec)
    if as_json:
        from tppcalc.render.documents import metrics_dict

        click.echo(json.dumps(metrics_dict(metrics), indent=2))
    else:
        from tppcalc.render.report import metrics_blocks
        from tppcalc.render.terminal import show

        show(metrics_blocks(metrics, title=spec.name))
