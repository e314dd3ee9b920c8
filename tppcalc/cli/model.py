"""``tppcalc model``: ECCN 4E091 for AI model weights."""

from __future__ import annotations

import click


@click.command()
@click.option("--training-ops", metavar="N", help="Total training operations (e.g. 3e26).")
@click.option("--params", metavar="P", help="Parameter count (with --tokens: operations = 6 P D).")
@click.option("--tokens", metavar="D", help="Training tokens.")
@click.option("--published", is_flag=True, help="The weights have been published (15 CFR 734.7(a)).")
@click.option("--derived-from-published-ops", metavar="N",
              help="Additional operations spent deriving the model from a published one.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def model(training_ops, params, tokens, published, derived_from_published_ops, as_of, as_json) -> None:
    """Whether model weights are ECCN 4E091, and whether that control is enforced."""
    from tppcalc.core.exact import to_decimal
    from tppcalc.decisions.model_weights import classify_model_weights, training_operations

    operations = training_operations(training_ops=training_ops, params=params, tokens=tokens)
    derived = None if derived_from_published_ops is None else to_decimal(
        derived_from_published_ops, what="--derived-from-published-ops")
    result = classify_model_weights(operations, published=published, derived_from_published_ops=derived,
                                    as_of=None if as_of is None else as_of.date())
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    from tppcalc.render.report import model_blocks
    from tppcalc.render.terminal import show

    show(model_blocks(result))
