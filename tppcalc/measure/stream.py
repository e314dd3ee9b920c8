"""STREAM's triad in C beside tppcalc's numba triad (``tppcalc bench --cpu --compare-stream``).

``kernels/stream_triad.c`` is compiled at run time into a temporary folder with the first C compiler
found (``$CC``, cc, gcc, clang) at ``-O3 -march=native -fopenmp`` and run with as many OpenMP
threads as the numba triad used, on the same array size, count of repetitions and page policy.
Without a compiler, or when it fails, the comparison says why instead of a figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tppcalc.data.resources import data_dir

COMPILERS = ("cc", "gcc", "clang")
FLAG_SETS = (("-O3", "-march=native", "-fopenmp"), ("-O3", "-march=native"))  # without OpenMP: 1 thread
RUN_SECONDS = 300


@dataclass(frozen=True)
class StreamTriad:
    gbps: float | None
    threads: int | None
    command: str
    reason: str | None = None  # why there is no figure

    def describe(self, ours_gbps: float) -> str:
        if self.gbps is None:
            return f"STREAM triad comparison not run: {self.reason}"
        return (f"STREAM triad (C, {self.command}, {self.threads} threads): {self.gbps:.2f} GB/s; "
                f"tppcalc's triad {ours_gbps:.2f} GB/s is {ours_gbps / self.gbps - 1:+.1%} from it")


def find_compiler() -> str | None:
    for name in ([os.environ["CC"]] if os.environ.get("CC") else []) + list(COMPILERS):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_stream_triad(elements: int, repetitions: int, threads: int) -> StreamTriad:
    compiler = find_compiler()
    if compiler is None:
        return StreamTriad(None, None, "", "no C compiler found ($CC, cc, gcc, clang)")
    source = data_dir("kernels") / "stream_triad.c"
    with tempfile.TemporaryDirectory(prefix="tppcalc-stream-") as folder:
        binary = Path(folder) / "stream_triad"
        errors = []
        for flags in FLAG_SETS:
            build = [compiler, *flags, str(source), "-o", str(binary)]
            try:
                done = subprocess.run(build, capture_output=True, text=True, timeout=120, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                errors.append(f"{type(exc).__name__}")
                continue
            if done.returncode == 0:
                break
            errors.append((done.stderr.strip().splitlines() or ["failed"])[-1][:200])
        else:
            return StreamTriad(None, None, " ".join(build), "compiling failed: " + "; ".join(errors))
        command = f"{Path(compiler).name} {' '.join(flags)}"
        environment = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        try:
            done = subprocess.run([str(binary), str(elements), str(repetitions), "0"], capture_output=True,
                                  text=True, timeout=RUN_SECONDS, env=environment, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return StreamTriad(None, None, command, f"running it failed: {type(exc).__name__}")
    if done.returncode != 0:
        return StreamTriad(None, None, command, f"it exited {done.returncode}: {done.stderr.strip()[:200]}")
    return _parse(done.stdout, command)


def _parse(output: str, command: str) -> StreamTriad:
    values = {}
    for line in output.splitlines():
        key, _, value = line.partition(" ")
        values[key] = value.strip()
    try:
        gbps, threads = float(values["triad_gbps"]), int(values["threads"])
    except (KeyError, ValueError):
        return StreamTriad(None, None, command, f"unreadable output {output[:100]!r}")
    if not gbps > 0 or gbps == float("inf"):
        return StreamTriad(None, None, command, f"unreadable figure {values['triad_gbps']!r}")
    return StreamTriad(gbps, threads, command)


def add_stream_comparison(device: dict) -> None:
    """Run STREAM's triad for one measured CPU entry of ``tppcalc bench --json`` and put its figure
    beside ours (``stream_triad``), same array size, repetitions and thread count."""
    from tppcalc.measure.cpu import TRIAD_REPETITIONS

    stream = run_stream_triad(device["triad_elements"], TRIAD_REPETITIONS, device["threads"])
    ours = device["memory_bandwidth_gbps"]
    device["stream_triad"] = {
        "gbps": stream.gbps, "threads": stream.threads, "compiled_with": stream.command or None,
        "tppcalc_over_stream": ours / stream.gbps - 1 if stream.gbps else None, "reason": stream.reason,
    }
    device["notes"].append(stream.describe(ours))
