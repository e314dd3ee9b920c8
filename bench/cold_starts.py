"""Cold starts of tppcalc installs, interleaved, against the floor under them.

On a shared host the time of one process start moves by 2x from minute to minute, so comparing two
separate benchmark runs says little. This runs every command once per round, round after round,
and reports each command's minimum and median and the median of its per-round difference from the
floor (the interpreter importing click and pydantic, which every command pays).

    python bench/cold_starts.py --rounds 30 NEW_VENV/bin [OLD_VENV/bin]

Each ``bin`` folder is a virtual environment holding tppcalc as ``pip install .`` installs it
(see ``user_install`` in ``bench/conftest.py``). Results go into bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

CALC = ["calc", "--dense", "fp8=1978.9", "--die", "814:finfet", "--json"]
CLASSIFY = ["classify", "H100 SXM", "--dest", "CN", "--as-of", "2026-02-01", "--json"]
FLOOR = ["-c", "import pydantic.main, pydantic.fields, click"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bins", nargs="+", type=Path, help="bin folders of virtual environments")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    commands = {"floor": [str(args.bins[0] / "python"), *FLOOR]}
    for label, bin_dir in zip(("new", "old"), args.bins):
        commands[f"calc {label}"] = [str(bin_dir / "tppcalc"), *CALC]
        commands[f"classify {label}"] = [str(bin_dir / "tppcalc"), *CLASSIFY]
    for command in commands.values():  # warm the file cache and the validated cache
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            times[name].append(1000 * (time.perf_counter() - start))

    for name, values in times.items():
        above = "" if name == "floor" else \
            f"  floor + {statistics.median(t - f for t, f in zip(values, times['floor'])):.0f} ms"
        print(f"{name:14s} min {min(values):4.0f} ms  median {statistics.median(values):4.0f} ms{above}")


if __name__ == "__main__":
    main()
