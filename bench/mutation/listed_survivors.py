"""Replay the mutation survivors issue 17 lists, by hand-written mutant, against the tests meant to kill them.

    python bench/mutation/listed_survivors.py            # every listed mutant
    python bench/mutation/listed_survivors.py -k hbm     # those whose name holds "hbm"

Each mutant is one exact text replacement in one product file, applied to a copy of the worktree
in /tmp (never to the worktree itself), and the named tests are run there. A mutant is killed when
the tests fail. Exit status 1 if any survives, or if a mutant's text is no longer found (the code
moved: update the mutant, or the test may now guard nothing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import copy_of_worktree  # noqa: E402

SURVIVORS = "tests/test_mutation_survivors.py"


class Mutant(NamedTuple):
    name: str
    path: str
    original: str
    mutated: str
    tests: str = SURVIVORS


MUTANTS = (
    Mutant("datacenter predicate inverted", "tppcalc/decisions/rules/predicates.py",
           'register(Predicate("datacenter", lambda m, r, v: _flag(m.datacenter, True)',
           'register(Predicate("datacenter", lambda m, r, v: _flag(m.datacenter, False)'),
    Mutant("hbm_density_above > turned >=", "tppcalc/decisions/rules/predicates.py",
           "return UNKNOWN if density is None else YES if density > v else NO",
           "return UNKNOWN if density is None else YES if density >= v else NO"),
    Mutant("memory_item never true", "tppcalc/decisions/rules/predicates.py",
           'register(Predicate("memory_item", lambda m, r, v: YES if m.kind == "memory" else NO,',
           'register(Predicate("memory_item", lambda m, r, v: NO,'),
    Mutant("memory_item always true", "tppcalc/decisions/rules/predicates.py",
           'register(Predicate("memory_item", lambda m, r, v: YES if m.kind == "memory" else NO,',
           'register(Predicate("memory_item", lambda m, r, v: YES,'),
    Mutant("1600 line up by one", "tppcalc/core/thresholds.py", "Decimal(1600),", "Decimal(1601),"),
    Mutant("1600 line down by one", "tppcalc/core/thresholds.py", "Decimal(1600),", "Decimal(1599),"),
    Mutant("4800 line up by one", "tppcalc/core/thresholds.py", "Decimal(4800))", "Decimal(4801))"),
    Mutant("4800 line down by one", "tppcalc/core/thresholds.py", "Decimal(4800))", "Decimal(4799))"),
    Mutant("2400 line up by one", "tppcalc/core/thresholds.py", "Decimal(2400),", "Decimal(2401),"),
    Mutant("2400 line down by one", "tppcalc/core/thresholds.py", "Decimal(2400),", "Decimal(2399),"),
    Mutant("density 1.6 line up", "tppcalc/core/thresholds.py", 'Decimal("1.6"),', 'Decimal("1.61"),'),
    Mutant("density 1.6 line down", "tppcalc/core/thresholds.py", 'Decimal("1.6"),', 'Decimal("1.59"),'),
    Mutant("density 3.2 line up", "tppcalc/core/thresholds.py", 'Decimal("3.2"),', 'Decimal("3.21"),'),
    Mutant("density 3.2 line down", "tppcalc/core/thresholds.py", 'Decimal("3.2"),', 'Decimal("3.19"),'),
    Mutant("density 5.92 line up", "tppcalc/core/thresholds.py", 'Decimal("5.92"))', 'Decimal("5.93"))'),
    Mutant("density 5.92 line down", "tppcalc/core/thresholds.py", 'Decimal("5.92"))', 'Decimal("5.91"))'),
    Mutant("_headroom takes the TPP line it sits on", "tppcalc/core/metrics.py",
           "(line for line in TPP_LINES if line > tpp)", "(line for line in TPP_LINES if line >= tpp)"),
    Mutant("_headroom takes the density line it sits on", "tppcalc/core/metrics.py",
           "if Fraction(line) > density)", "if Fraction(line) >= density)"),
    Mutant("density_at_least NO on a line with a partly known area", "tppcalc/core/metrics.py",
           "tpp_high < EXACT.multiply(line, area_low)", "tpp_high <= EXACT.multiply(line, area_low)"),
    Mutant("_best_per_precision reads the first unit only", "tppcalc/core/metrics.py",
           "    if len(units) == 1:\n        table = units[0].tpp",
           "    if len(units) != 0:\n        table = units[0].tpp"),
    Mutant("_best_per_precision keeps the lower rating", "tppcalc/core/metrics.py",
           "elif tpp > known.get(precision, ZERO):", "elif tpp < known.get(precision, ZERO):"),
    Mutant("_best_per_precision forgets an unknown rating", "tppcalc/core/metrics.py",
           "                incomplete.add(precision)\n", "                pass\n"),
    Mutant("_unit never records its best", "tppcalc/core/metrics.py",
           "_BITS[precision])\n        if best is None or tpp > best_tpp:",
           "_BITS[precision])\n        if best is None and tpp > best_tpp:"),
    Mutant("_unit complete despite an unknown rating", "tppcalc/core/metrics.py",
           "            complete = False\n            unknowns.append(f\"processing_units",
           "            complete = True\n            unknowns.append(f\"processing_units"),
    # Issue 20: DRAM is compared as exact integers; the float figure this mutant scaled is gone.
    Mutant("batch exact line comparison rounds the wrong way", "tppcalc/batch/engine.py",
           "least = math.ceil(Fraction(line) * SCALE)", "least = math.floor(Fraction(line) * SCALE) + 1",
           "tests/test_batch_engine.py -k io_or_dram_line"),
    Mutant("batch int64 guard raised tenfold", "tppcalc/batch/engine.py",
           "_MAX_UNITS = 10**9 * SCALE", "_MAX_UNITS = 10**10 * SCALE"),
    Mutant("batch int64 guard 11**9", "tppcalc/batch/engine.py",
           "_MAX_UNITS = 10**9 * SCALE", "_MAX_UNITS = 11**9 * SCALE"),
    Mutant("edition dropped before selection", "tppcalc/decisions/classification.py",
           "rules = rules_in_force(day, edition, as_written, rulebook=rulebook, countries=countries)\n    reasons",
           "rules = rules_in_force(day, None, as_written, rulebook=rulebook, countries=countries)\n    reasons"),
    Mutant("reading sensitivity inverted", "tppcalc/decisions/classification.py",
           "reading_sensitive=bool(sensitive),", "reading_sensitive=not bool(sensitive),"),
    Mutant("exceptions ignore hq", "tppcalc/decisions/classification.py",
           "exceptions = _exceptions(rules, metrics, primary, candidate, dest, hq, day)",
           "exceptions = _exceptions(rules, metrics, primary, candidate, dest, None, day)"),
    Mutant("review policy ignores hq", "tppcalc/decisions/classification.py",
           "market = _review(rules, metrics, primary, candidate, dest, hq,\n",
           "market = _review(rules, metrics, primary, candidate, dest, None,\n"),
    Mutant("paragraph attached to an undetermined result", "tppcalc/decisions/classification.py",
           "paragraph = possible[0][1] if determined else None", "paragraph = possible[0][1]"),
    # The tests that could not fail (issue 17 item 6), now fixed: each against a mutant it must see.
    Mutant("[test_classify] reading sensitivity inverted", "tppcalc/decisions/classification.py",
           "reading_sensitive=bool(sensitive),", "reading_sensitive=not bool(sensitive),",
           "tests/test_classify.py::test_h20_is_reading_sensitive_when_vector_units_are_summed"),
    Mutant("[test_classify] the a.1 paragraph id changed in the 2023 data",
           "tppcalc/decisions/rules/data/editions/2023-11-17.toml",
           'id = "3A090.a.1"', 'id = "3A090.a.x"',
           "tests/test_classify.py::test_every_2023_threshold_exactly"),
    Mutant("[test_metrics] H100-equivalent off by 0.8", "tppcalc/core/thresholds.py",
           'H100_EQUIVALENT_TPP = Decimal("15831.2")', 'H100_EQUIVALENT_TPP = Decimal("15832")',
           "tests/test_metrics.py::test_h100_equivalents_match_the_published_cap_conversion"),
    Mutant("[test_batch_engine] vectorised datacenter inverted", "tppcalc/batch/engine.py",
           '        return self._flags[figure]\n',
           '        return 2 - self._flags[figure]\n',
           "tests/test_batch_engine.py::test_the_column_predicates_are_the_rule_predicates"),
    Mutant("[test_batch_engine] vectorised io_at_least strict", "tppcalc/batch/engine.py",
           "return self._compare(figure, lambda value: value >= float(line))",
           "return self._compare(figure, lambda value: value > float(line))",
           "tests/test_batch_engine.py::test_the_column_predicates_are_the_rule_predicates"),
)


def run(mutant: Mutant, copy: Path, python: str) -> str:
    target = copy / mutant.path
    text = target.read_text()
    if text.count(mutant.original) != 1:
        return f"NOT FOUND ({text.count(mutant.original)} matches)"
    target.write_text(text.replace(mutant.original, mutant.mutated))
    try:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([python, "-m", "pytest", *mutant.tests.split(), "-q", "-rf", "-p", "no:cacheprovider",
                               "-o", "addopts=", "-W", "error"], cwd=copy, env=env, capture_output=True, text=True)
    finally:
        target.write_text(text)
    if done.returncode == 0:
        return "SURVIVED"
    # The tests that failed, so that each test is seen to kill what it is meant to.
    failed = sorted({line.split()[1].split("::")[-1].split("[")[0] for line in done.stdout.splitlines()
                     if line.startswith("FAILED ")})
    return "killed by " + (", ".join(failed) or f"pytest exit {done.returncode}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only mutants whose name contains this text")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if args.k.lower() in m.name.lower()]
    copy = copy_of_worktree()
    try:
        results = []
        for mutant in chosen:
            verdict = run(mutant, copy, sys.executable)
            results.append(verdict)
            print(f"{mutant.name} ({mutant.path}): {verdict}", flush=True)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    killed = sum(verdict.startswith("killed") for verdict in results)
    print(f"killed {killed} of {len(results)} listed mutants")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
