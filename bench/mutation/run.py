"""One-command mutation run over the decision modules, with mutmut, on a copy of the worktree.

    python bench/mutation/run.py                                  # every decision module
    python bench/mutation/run.py tppcalc/decisions/rules/predicates.py      # one module
    python bench/mutation/run.py --max-children 2 --timeout 3600 --json out.json
    python bench/mutation/run.py tppcalc/decisions/classification.py --mutants 'tppcalc.decisions.classification.x__rules_view*'
    python bench/mutation/run.py tppcalc/decisions/classification.py --deselect tests/test_classify.py::test_slow

The worktree is copied to /tmp (bench/mutation/common.py), mutmut's configuration is appended to
the copy's pyproject.toml (so the real one stays as it is), and ``mutmut run`` is run there with
the tests that cover the decision modules only. It prints killed / survived / the score and the
names of the surviving mutants (``mutmut show NAME`` in the kept copy shows each diff).

mutmut mutates inside functions only: module constants (thresholds.py is nothing else), lambdas
(the predicate table) and decorated functions are out of its reach. The hand-written mutants of
bench/mutation/listed_survivors.py cover the ones issue 17 lists there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DECISION_MODULES, DECISION_TESTS, copy_of_worktree  # noqa: E402


def toml_list(items) -> str:
    return "[" + ", ".join(json.dumps(str(item)) for item in items) + "]"


def configure(copy: Path, modules: list[str], tests: list[str], deselect: list[str] = ()) -> None:
    """Append a [tool.mutmut] section to the copy's pyproject.toml."""
    skipped = [f"--deselect={test}" for test in deselect]
    section = f"""

[tool.mutmut]
source_paths = ["tppcalc"]
only_mutate = {toml_list(modules)}
also_copy = ["specs", "kernels"]
pytest_add_cli_args_test_selection = {toml_list(tests)}
pytest_add_cli_args = {toml_list(["-p", "no:cacheprovider", "-o", "addopts=", "-x", "-q", *skipped])}
use_git_change_detection = false
# Fork each mutant's run from a server that has only collected the tests: forked from mutmut's own
# process, it would inherit the classifier's caches warm from the stats run, and a mutant in a
# cached path (the rule views, the selections) would never run.
process_isolation = "forkserver"
"""
    with (copy / "pyproject.toml").open("a") as pyproject:
        pyproject.write(section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(DECISION_MODULES), help="files to mutate")
    parser.add_argument("--tests", nargs="+", default=list(DECISION_TESTS), help="test files to run")
    # A survivor runs every test that covers its function: one slow test (seconds, cold) can cost
    # more than all the others together on a loaded machine.
    parser.add_argument("--deselect", nargs="+", default=[], metavar="NODEID",
                        help="pytest node ids to leave out (slow tests that kill nothing else)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs (default 2)")
    parser.add_argument("--timeout", type=int, default=6 * 3600, help="seconds before the run is stopped")
    parser.add_argument("--mutants", nargs="+", default=[], metavar="GLOB",
                        help="only these mutants (mutmut names, globs allowed: 'tppcalc.core.metrics.x__unit*')")
    parser.add_argument("--json", type=Path, help="also write the counts here")
    parser.add_argument("--keep", action="store_true", help="keep the copy (to run `mutmut show NAME` there)")
    args = parser.parse_args()

    copy = copy_of_worktree()
    configure(copy, args.modules, args.tests, args.deselect)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    mutmut = [sys.executable, "-m", "mutmut"]
    start = time.monotonic()
    try:
        # Its own session, so that a timeout stops mutmut's fork server and workers too.
        with subprocess.Popen([*mutmut, "run", "--max-children", str(args.max_children), *args.mutants], cwd=copy,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True) as process:
            try:
                output, _ = process.communicate(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                print(f"mutmut run stopped after {args.timeout} s; the counts are of the mutants done by then")
            else:
                if process.returncode != 0:
                    print(output[-4000:])
                    print(f"mutmut run failed (exit {process.returncode})")
                    return 2
        subprocess.run([*mutmut, "export-cicd-stats"], cwd=copy, env=env, check=True, capture_output=True)
        stats = json.loads((copy / "mutants" / "mutmut-cicd-stats.json").read_text())
        survivors = subprocess.run([*mutmut, "results"], cwd=copy, env=env, capture_output=True, text=True).stdout
    finally:
        if args.keep:
            print(f"copy kept at {copy}")
        else:
            shutil.rmtree(copy, ignore_errors=True)

    killed, survived = stats.get("killed", 0), stats.get("survived", 0)
    # Timeouts and segfaults stop the tests: they count as killed; untested mutants count against.
    caught = killed + stats.get("timeout", 0) + stats.get("segfault", 0)
    judged = caught + survived + stats.get("no_tests", 0)
    score = 100 * caught / judged if judged else 0.0
    print("\n".join(line for line in survivors.splitlines() if line.endswith(": survived")))
    print(json.dumps(stats))
    print(f"modules: {' '.join(args.modules)}")
    print(f"killed {caught}, survived {survived}, no tests {stats.get('no_tests', 0)}: "
          f"score {score:.1f} % of {judged} mutants, in {time.monotonic() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({**stats, "score": round(score, 1), "modules": args.modules}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
