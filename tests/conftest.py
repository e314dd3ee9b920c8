from __future__ import annotations

import pytest
from click.testing import CliRunner

from tppcalc.cli.main import cli


class Cli:
    """Runs the real click command group; stdout and stderr stay separate."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str):
        return self.runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def run_cli() -> Cli:
    return Cli()
