"""Shared by the mutation runners: copy the working tree to a scratch folder, never touch the original.

Mutation tools rewrite source files. Run on a copy (tracked and untracked-but-not-ignored files,
as ``git ls-files`` lists them), so a run that is interrupted cannot leave a product file mutated
in the worktree, and engineers working beside the run see nothing change.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The decision modules (issue 17 item 6) and the tests that cover them. Restricting the tests keeps
# a run short on a loaded machine; a mutant these tests let through is then checked against the
# whole suite by hand before it is called a survivor.
DECISION_MODULES = (
    "tppcalc/core/thresholds.py",
    "tppcalc/decisions/rules/predicates.py",
    "tppcalc/core/metrics.py",
    "tppcalc/decisions/classification.py",
    "tppcalc/core/exact.py",
    "tppcalc/batch/engine.py",
)
DECISION_TESTS = (
    "tests/test_mutation_survivors.py",
    "tests/test_classify.py",
    "tests/test_metrics.py",
    "tests/test_exact.py",
    "tests/test_thresholds_exact.py",
    "tests/test_rules_2026.py",
    "tests/test_batch_engine.py",
    "tests/test_eccn.py",
    "tests/test_mutation_exact_metrics.py",
    "tests/test_us_availability.py",
    "tests/test_cpu_clock_readings.py",
    "tests/test_published_eccn.py",
    "tests/test_mutation_classification.py",
    "tests/test_mutation_batch_engine.py",  # batch/engine.py; its runs also name the tests/test_batch_*.py files
)


def copy_of_worktree(prefix: str = "tppcalc-mutation-") -> Path:
    """A fresh copy of the working tree under the system temp folder (the caller removes it)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, check=True, capture_output=True).stdout.decode().split("\0")
    target = Path(tempfile.mkdtemp(prefix=prefix))
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():  # a file deleted in the worktree but not yet in git is skipped
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target
