"""classify() warm for a catalogue chip (goal: under 100 µs) and the classify cold start."""

import datetime as dt
import subprocess

from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import classify


def test_classify_a_catalogue_chip_warm(benchmark):
    spec = Catalogue.load().lookup("H100 SXM")
    classify(spec, dest="CN", as_of=dt.date(2026, 2, 1))  # load the rules and country data once
    result = benchmark(classify, spec, dest="CN", as_of=dt.date(2026, 2, 1))
    assert result.eccn == "3A090.a"


def test_classify_cold_start(benchmark, user_install):
    command = [user_install / "tppcalc", "classify", "H100 SXM", "--dest", "CN", "--as-of", "2026-02-01", "--json"]
    result = benchmark.pedantic(subprocess.run, args=(command,), kwargs={"capture_output": True, "check": True},
                                rounds=10, warmup_rounds=2)
    assert b'"3A090.a"' in result.stdout
