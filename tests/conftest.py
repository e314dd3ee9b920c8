from __future__ import annotations

import os
import tempfile

import pytest
from click.testing import CliRunner

from tppcalc.cli.main import cli


def pytest_configure(config):
    # Keep the validated cache out of the user's home while testing (set before collection,
    # since some test modules load the catalogue at import).
    os.environ["TPPCALC_CACHE_DIR"] = tempfile.mkdtemp(prefix="tppcalc-cache-")
    # Local Ray test clusters stay on loopback (single-machine mode); read when Ray is imported.
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


class Cli:
    """Runs the real click command group; stdout and stderr stay separate."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str):
        return self.runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def run_cli() -> Cli:
    return Cli()
