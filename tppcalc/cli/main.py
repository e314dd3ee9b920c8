"""The ``tppcalc`` command group and the one place where errors become exit codes.

Exit codes: 0 success; 1 a domain error (bad figures, unknown chip, unreadable file), reported as
one line on stderr; 2 a usage error (click's own). Commands never print tracebacks for bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tppcalc._version import __version__
from tppcalc.cli.options import CatalogueChoice
from tppcalc.errors import TppcalcError
from tppcalc.resources import SPECS_DIR_ENV

EXIT_DOMAIN_ERROR = 1


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TppcalcError as exc:
            click.echo(f"tppcalc: error: {exc}", err=True)
            ctx.exit(EXIT_DOMAIN_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tppcalc")
@click.option("--specs-dir", "specs_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help=f"A folder of your own spec files added to the catalogue (also ${SPECS_DIR_ENV}).")
@click.option("--override-specs", is_flag=True,
              help="Let records in --specs-dir replace catalogue records with the same id.")
@click.pass_context
def cli(ctx: click.Context, specs_dirs: tuple[Path, ...], override_specs: bool) -> None:
    """Export-control metrics (TPP, performance density) and ECCN classification of AI chips."""
    ctx.obj = CatalogueChoice(specs_dirs, override_specs)


def _register() -> None:
    from tppcalc.cli.batch import batch
    from tppcalc.cli.bench import bench
    from tppcalc.cli.calc import calc
    from tppcalc.cli.chart import chart
    from tppcalc.cli.chips import chips
    from tppcalc.cli.classify import classify
    from tppcalc.cli.fleet import fleet
    from tppcalc.cli.model import model
    from tppcalc.cli.probe import probe
    from tppcalc.cli.rules import rules

    for command in (batch, bench, calc, chart, chips, classify, fleet, model, probe, rules):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    try:
        # Outside standalone mode click returns the code of a ctx.exit() instead of raising it.
        result = cli.main(args=argv, prog_name="tppcalc", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
