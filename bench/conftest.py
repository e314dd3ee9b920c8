"""Benchmarks run only on request: ``python -m pytest bench --benchmark-enable``."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def user_install(tmp_path_factory) -> Path:
    """The ``bin`` folder of a fresh virtual environment holding tppcalc as README.md's first
    command installs it (``pip install .``, no extras). Cold starts are timed there: the test
    environment's extras add start-up work of their own (numba-cuda's ``.pth`` hook, ~35 ms)
    that a user's install does not have."""
    venv = tmp_path_factory.mktemp("user-install") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", str(ROOT)],
                               capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.skip(f"pip install . failed (no package index?): {installed.stderr.strip()[-300:]}")
    return venv / "bin"
