"""The long fuzz campaign of issue 14: many mutants of every input kind, counted and kept.

    python bench/fuzz_campaign.py --probe 10000 --batch 2000 --fleet 1000 --spec 1000 --args 1000 --seed 1

Runs the same cases and invariants as the CI sample (tests/fuzz/test_fuzz_sample.py), drawn from
``random.Random`` instead of hypothesis: case ``i`` of a target depends only on the seed, the target
and ``i``, so ``--only probe:123`` replays one case exactly, whatever the worker count. Prints the
counts (cases, tracebacks, hangs over the time limit, runaway memory, permissive flips, lost rows)
and writes, for each class of failure, the smallest reproducer found to ``--out``: the input files,
the command, and what was mutated. Exit code 0 when nothing failed, 1 otherwise.

One worker by default (the development machines are shared); ``--workers N`` forks N.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fuzz"))
sys.path.insert(0, str(REPO))

from fuzz_cases import Case, Finding, findings, run_case  # noqa: E402
from fuzz_mutate import RandomChooser  # noqa: E402
from fuzz_targets import MAKERS  # noqa: E402

TARGETS = ("probe", "batch", "fleet", "spec", "args")
# How the printed counts group the findings' kinds.
COUNTS = {
    "tracebacks": {"traceback", "crash", "unclear-error", "bad-exit"},
    "hangs": {"hang"},
    "memory": {"memory"},
    "permissive flips": {"permissive-flip", "junk-resolved"},
    "lost rows": {"lost-rows", "gate", "changed-answer"},
    "harness errors": {"harness"},  # a case the harness could not build (its defect, not tppcalc's)
}
_FRAME = re.compile(r'File "[^"]*?(tppcalc/[^"]+)", line (\d+), in (\S+)')


def random_text(rng: random.Random) -> str:
    alphabet = "abcXYZ019 .-_/=+@\t\r\n\x00\x1b\u0416\u4e2d\uff23\u202e"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(13)))


def make_case(seed: int, target: str, index: int) -> Case:
    rng = random.Random(f"{seed}:{target}:{index}")
    return MAKERS[target](RandomChooser(rng), random_text=lambda: random_text(rng))


def run_one(job: tuple[int, str, int, float]) -> tuple[str, int, Case, list[Finding], str, float]:
    seed, target, index, time_limit = job
    try:
        case = make_case(seed, target, index)
    except Exception as exc:  # a defect of the harness: counted and kept, and the campaign goes on
        import traceback

        case = Case(target, "harness", f"case {index} could not be built", {})
        return target, index, case, [Finding("harness", f"{type(exc).__name__}: {exc}")], traceback.format_exc(), 0.0
    outcome = run_case(case, time_limit=time_limit)
    try:
        found = findings(case, outcome)
    except Exception as exc:  # the checker's defect, as above: counted, and the campaign goes on
        found = [Finding("harness", f"checking: {type(exc).__name__}: {exc}")]
    return target, index, case, found, outcome.traceback, outcome.isolated.seconds


def signature(case: Case, finding: Finding, traceback_text: str) -> str:
    """A failure class: the kind, and for a traceback its exception and the deepest tppcalc frame."""
    if finding.kind == "traceback" and traceback_text:
        frames = _FRAME.findall(traceback_text)
        where = f"{frames[-1][0]}:{frames[-1][2]}" if frames else "outside tppcalc"
        exception = finding.detail.split(":")[0].strip().rsplit(".", 1)[-1] or "?"
        return f"{case.target} traceback {exception} at {where}"
    return f"{case.target} {finding.kind} ({case.family})"


def write_reproducer(folder: Path, case: Case, found: list[Finding], traceback_text: str, job: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    lines = [f"case: {job}", f"what: {case.what}", ""]
    lines += [f"{f.kind}: {f.detail}" for f in found]
    if case.api is not None:
        name, kwargs = case.api
        lines += ["", f"API call: tppcalc.{name}(**{kwargs!r})",
                  "(a chip given as ('catalogue', q) is tppcalc.default_catalogue().lookup(q))"]
    else:
        argv = " ".join(_quote(a.replace("{dir}", ".")) for a in case.argv)
        lines += ["", f"command (from this folder): python -m tppcalc {argv}"]
    if traceback_text:
        lines += ["", traceback_text]
    (folder / "finding.txt").write_text("\n".join(lines) + "\n", encoding="utf-8", errors="backslashreplace")


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for target, default in zip(TARGETS, (1000, 300, 200, 200, 200), strict=True):
        parser.add_argument(f"--{target}", type=int, default=default, help=f"{target} mutants (default {default})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="forked workers (default 1: the machine is shared)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per case before it is a hang")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tppcalc-fuzz-reproducers",
                        help="folder for reproducers (default: tppcalc-fuzz-reproducers in the temp folder)")
    parser.add_argument("--only", help="replay one case, TARGET:INDEX")
    parser.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    args = parser.parse_args(argv)
    os.environ.setdefault("TPPCALC_CACHE_DIR", tempfile.mkdtemp(prefix="tppcalc-fuzz-cache-"))

    if args.only:
        target, _, index = args.only.partition(":")
        jobs = [(args.seed, target, int(index), args.time_limit)]
    else:
        jobs = [(args.seed, target, i, args.time_limit) for target in TARGETS for i in range(getattr(args, target))]

    start = time.monotonic()
    per_target: Counter = Counter()
    counts: Counter = Counter()
    classes: dict[str, dict] = {}
    slowest = 0.0
    if args.workers > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(args.workers)
        results = pool.imap(run_one, jobs, chunksize=4)
    else:
        pool, results = None, map(run_one, jobs)
    try:
        for done, (target, index, case, found, traceback_text, seconds) in enumerate(results, 1):
            per_target[target] += 1
            slowest = max(slowest, seconds)
            for group, kinds in COUNTS.items():
                if any(f.kind in kinds for f in found):
                    counts[group] += 1
            if found:
                counts["failed cases"] += 1
                for finding in found:
                    key = signature(case, finding, traceback_text)
                    size = sum(len(c) for c in case.files.values())
                    entry = classes.setdefault(key, {"count": 0, "size": None})
                    entry["count"] += 1
                    if entry["size"] is None or size < entry["size"]:
                        entry.update(size=size, case=case, found=found, traceback=traceback_text,
                                     job=f"--seed {args.seed} --only {target}:{index}")
            if done % 100 == 0:
                print(f"  {done}/{len(jobs)} cases, {counts['failed cases']} failing, "
                      f"{time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()

    args.out.mkdir(parents=True, exist_ok=True)
    for number, (key, entry) in enumerate(sorted(classes.items()), 1):
        write_reproducer(args.out / f"{number:03d}-{_slug(key)}", entry["case"], entry["found"], entry["traceback"],
                         entry["job"])
    summary = {
        "seed": args.seed, "cases": sum(per_target.values()), "cases_by_target": dict(per_target),
        "tracebacks": counts["tracebacks"], "hangs_over_limit": counts["hangs"], "runaway_memory": counts["memory"],
        "permissive_flips": counts["permissive flips"], "lost_rows": counts["lost rows"],
        "harness_errors": counts["harness errors"], "failed_cases": counts["failed cases"], "seconds": round(time.monotonic() - start, 1),
        "slowest_case_seconds": round(slowest, 2),
        "classes": {key: entry["count"] for key, entry in sorted(classes.items())}, "reproducers": str(args.out),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"cases {summary['cases']} ({', '.join(f'{t} {n}' for t, n in per_target.items())}) "
              f"in {summary['seconds']} s, seed {args.seed}")
        for label in ("tracebacks", "hangs_over_limit", "runaway_memory", "permissive_flips", "lost_rows",
                      "harness_errors"):
            print(f"  {label.replace('_', ' '):18} {summary[label]}")
        print(f"failure classes ({len(classes)}), smallest reproducer of each in {args.out}/:")
        for key, entry in sorted(classes.items()):
            print(f"  {entry['count']:6}  {key}")
    return 1 if counts["failed cases"] else 0


if __name__ == "__main__":
    sys.exit(main())
