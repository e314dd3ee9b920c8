"""Importing tppcalc (or running the calc path) touches no hardware library and no JIT."""

import subprocess
import sys

import pytest

HEAVY = ("numba", "pynvml", "numpy", "llvmlite")
MODULES = ["tppcalc", "tppcalc.cli.main", "tppcalc.metrics", "tppcalc.spec", "tppcalc.report"]


@pytest.mark.parametrize("module", MODULES)
def test_fresh_import_loads_no_heavy_library(module):
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
