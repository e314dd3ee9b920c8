"""CPU kernels: the generated code, the numbers they compute, and `tppcalc bench --cpu` (never a speed)."""

import json
import platform
import re

import numpy as np
import pytest

from tppcalc.measure.cpu import _kernels, vector_shape
from tppcalc.probe.run import probe_live

x86_only = pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 assembly")


@pytest.fixture(scope="module")
def kernels():
    return _kernels()


@x86_only
@pytest.mark.parametrize(("bits", "suffix"), [(64, "pd"), (32, "ps")])
def test_fma_loop_is_packed_fmas_with_no_memory_traffic(kernels, bits, suffix):
    accumulators = 12
    kernel = kernels.make_fma_kernel(bits, 256 // bits, accumulators)
    kernel(10, 1)
    asm = "\n".join(kernel.inspect_asm().values())
    lines = asm.splitlines()
    fma_lines = [i for i, line in enumerate(lines) if re.search(rf"vfmadd\w*{suffix}\s+%ymm", line)]
    assert len(fma_lines) >= accumulators
    # The timed loop: the block holding the FMAs. No loads or stores may sit between them.
    first, last = fma_lines[0], fma_lines[accumulators - 1]
    body = lines[first:last + 1]
    assert not [line for line in body if re.search(r"\(%r[a-z0-9]+\)", line)], "\n".join(body)


@pytest.mark.parametrize("bits", [64, 32])
def test_fma_kernel_computes_the_recurrence(kernels, bits):
    lanes, accumulators, iterations = 256 // bits, 4, 50
    kernel = kernels.make_fma_kernel(bits, lanes, accumulators)
    dtype = np.float64 if bits == 64 else np.float32
    total = 0.0
    for acc in range(accumulators):
        value = dtype(dtype(1.0) + dtype(0.001 * acc))
        for _ in range(iterations):
            value = dtype(value * dtype(0.999999) + dtype(1e-7))
        total += float(value) * lanes
    assert kernel(iterations, 1) == pytest.approx(total, rel=1e-5 if bits == 32 else 1e-12)


@x86_only
def test_clock_chain_multiplies_by_three_eight_times_a_step(kernels):
    steps = 5
    expected = (1 * 3 ** (8 * steps)) % 2**64
    expected = expected - 2**64 if expected >= 2**63 else expected
    assert kernels.clock_chain(steps, 1) == expected


def test_triad(kernels):
    a, b, c = np.empty(1000), np.arange(1000.0), np.full(1000, 2.0)
    kernels.triad(a, b, c, 3.0)
    assert np.array_equal(a, b + 6.0)


def test_vector_shape_follows_the_flags():
    cpu = probe_live().cpus[0]
    width, accumulators, _ = vector_shape(cpu.model_copy(update={"flags": ["fma", "avx2"], "machine": "x86_64"}))
    assert (width, accumulators) == (256, 12)
    width, _, _ = vector_shape(cpu.model_copy(update={"flags": ["fma", "avx512f"], "microarchitecture": "sapphirerapids"}))
    assert width == 512


def test_bench_cpu_quick_json(run_cli):
    result = run_cli("bench", "--cpu", "--quick", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    (device,) = out["devices"]
    assert {"memory_bandwidth_gbps", "verdict", "results"} <= set(device)
    assert device["memory_bandwidth_gbps"] > 0
    precisions = {r["precision"]: r for r in device["results"]}
    assert set(precisions) == {"fp64", "fp32"}
    for result_entry in precisions.values():
        for key in ("measured_tflops", "theoretical_tflops_at_measured_clock", "fraction_at_measured_clock"):
            assert key in result_entry
        assert result_entry["measured_tflops"] > 0


def test_a_disturbed_clock_reading_makes_the_verdict_undetermined():
    from tppcalc.measure.cpu import _result, _verdict

    cpu = probe_live().cpus[0].model_copy(update={"max_mhz": 2450.0, "errors": {}})
    # 2 threads x 16 FLOP/cycle at a measured 900 MHz allow 28.8 GFLOPS; 44 measured is 153%.
    disturbed = [_result("fp64", 44e9, 16, 2, 900.0, 2450.0, "k")]
    assert _verdict(disturbed, cpu, 900.0).startswith("undetermined: the FMA loop ran at 153%")
    steady = [_result("fp64", 90e9, 16, 2, 2900.0, 2900.0, "k")]
    assert _verdict(steady, cpu.model_copy(update={"max_mhz": 2900.0}), 2900.0) == "consistent with its label"


# ---- pairing each FMA figure with the clock read around it -------------------------------------

def _simulated_runs(rng, *, clock_mhz=3000.0, flops_per_cycle=32, threads=2, repetitions=5, busy=0.5):
    """Runs as a busy host gives them: any timed piece may be interrupted, which only ever makes it
    look slower (a lower FMA rate, a lower clock); nothing makes a piece run faster than the clock."""
    from tppcalc.measure.cpu import Repetition

    def slowed(value):
        return value * rng.uniform(0.05, 0.99) if rng.random() < busy else value

    peak = threads * flops_per_cycle * clock_mhz * 1e6
    # each clock reading is the best of CLOCK_READS short pieces, as _paired_runs takes it
    clocks = [max(slowed(clock_mhz) for _ in range(3)) for _ in range(repetitions + 1)]
    return [Repetition(slowed(peak), clocks[i], clocks[i + 1]) for i in range(repetitions)]


def test_the_fraction_at_the_measured_clock_never_exceeds_one_from_the_method():
    import random

    from tppcalc.measure.cpu import _choose

    rng = random.Random(18)
    worst = 0.0
    for _ in range(5000):
        runs = _simulated_runs(rng)
        chosen, clock, _ = _choose(runs, 2600.0, 32, 2)
        if clock is not None:
            worst = max(worst, chosen.flops_per_second / (2 * 32 * clock * 1e6))
    assert 0.9 < worst <= 1.02  # STEADY_CLOCK_SPREAD: two readings agreeing within 2 % count as one clock


def test_the_old_method_best_of_three_against_one_clock_exceeds_one_on_a_busy_host():
    # What issue 18 measured (1.12-1.50): the clock read once, interrupted; the FMA best of three.
    import random

    rng = random.Random(18)
    fractions = []
    for _ in range(1000):
        clock = 3000.0 * (rng.uniform(0.05, 0.99) if rng.random() < 0.5 else 1.0)  # one reading
        runs = _simulated_runs(rng, repetitions=3)
        fractions.append(max(r.flops_per_second for r in runs) / (2 * 32 * clock * 1e6))
    assert max(fractions) > 1.1


def test_a_clock_below_the_reported_one_that_the_fma_rate_contradicts_is_distrusted():
    from tppcalc.measure.cpu import Repetition, _choose

    # Readings interrupted (they disagree) at most 905 MHz; the FMA ran clean at 2600 MHz.
    runs = [Repetition(2 * 32 * 2600e6, 700.0, 905.0)]
    chosen, clock, note = _choose(runs, 2600.0, 32, 2)
    assert clock == 2600.0 and "interrupted" in note
    # ... and where even the reported clock cannot allow the rate, no fraction is given.
    assert _choose([Repetition(2 * 32 * 3500e6, 700.0, 905.0)], 2600.0, 32, 2)[1] is None
    # A steady reading above the reported clock (turbo) is kept.
    runs = [Repetition(2 * 32 * 3400e6 * 0.97, 3500.0, 3490.0)]
    assert _choose(runs, 2600.0, 32, 2)[1] == 3500.0


def test_a_missing_fraction_says_why():
    from tppcalc.measure.cpu import _result, _verdict

    cpu = probe_live().cpus[0].model_copy(update={"max_mhz": 2600.0, "errors": {}, "machine": "x86_64"})
    unjudged = [_result("fp64", 90e9, 16, 2, None, 2600.0, "k")]
    assert "busy host" in _verdict(unjudged, cpu, None)
    assert "not measured on this architecture" in _verdict(unjudged, cpu.model_copy(update={"machine": "aarch64"}), None)
