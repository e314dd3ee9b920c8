"""The ``tppcalc`` command group and the one place where errors become exit codes.

Exit codes: 0 success; 1 a domain error (bad figures, unknown chip, unreadable file), reported as
one line on stderr; 2 a usage error (click's own). Commands never print tracebacks for bad input.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click

from tppcalc._version import __version__
from tppcalc.cli.options import CatalogueChoice
from tppcalc.data.resources import SPECS_DIR_ENV
from tppcalc.errors import TppcalcError

EXIT_DOMAIN_ERROR = 1


# Each command's module is imported when that command runs (or when --help lists it), so a command
# pays for its own imports only: `calc` does not load the catalogue, the rules or the batch engine.
COMMANDS = {
    "batch": "tppcalc.cli.batch:batch",
    "bench": "tppcalc.cli.bench:bench",
    "calc": "tppcalc.cli.calc:calc",
    "chart": "tppcalc.cli.chart:chart",
    "chips": "tppcalc.cli.chips:chips",
    "classify": "tppcalc.cli.classify:classify",
    "fleet": "tppcalc.cli.fleet:fleet",
    "mcp": "tppcalc.cli.mcp:mcp",
    "model": "tppcalc.cli.model:model",
    "probe": "tppcalc.cli.probe:probe",
    "rules": "tppcalc.cli.rules:rules",
    "serve": "tppcalc.cli.serve:serve",
}


class _Group(click.Group):
    """A group whose ``lazy_commands`` (name -> "module:attribute") are imported on first use,
    and the one place where domain errors become exit codes."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy_commands:
            module, _, attribute = self.lazy_commands[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TppcalcError as exc:
            click.echo(f"tppcalc: error: {exc}", err=True)
            ctx.exit(EXIT_DOMAIN_ERROR)


@click.group(cls=_Group, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tppcalc")
@click.option("--specs-dir", "specs_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help=f"A folder of your own spec files added to the catalogue (also ${SPECS_DIR_ENV}).")
@click.option("--override-specs", is_flag=True,
              help="Let records in --specs-dir replace catalogue records with the same id.")
@click.pass_context
def cli(ctx: click.Context, specs_dirs: tuple[Path, ...], override_specs: bool) -> None:
    """Export-control metrics (TPP, performance density) and ECCN classification of AI chips."""
    ctx.obj = CatalogueChoice(specs_dirs, override_specs)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    # pydantic looks for plugins in the entry points of every installed distribution when it
    # builds its first validator (~6 ms here). The command line uses none; set the variable to an
    # empty value to load them anyway.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
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
