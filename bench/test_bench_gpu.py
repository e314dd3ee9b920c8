"""The full GPU bench of device 0 (goal: under 60 s), with every figure kept in extra_info.

Needs a GPU that numba-cuda can use; skipped elsewhere. bench/gpu/run.sh runs this command and the
cuBLAS peer in one go on a GPU machine.
"""

import pytest

from tppcalc.measure.gpu import GpuMeasurementUnavailable


def test_bench_gpu0_full(benchmark):
    from tppcalc.measure.run import measure_host

    try:
        from tppcalc.measure.gpu import open_cuda

        open_cuda()
    except GpuMeasurementUnavailable as exc:
        pytest.skip(str(exc))
    document = benchmark.pedantic(measure_host, kwargs={"cpu": False, "gpus": [0], "all_gpus": False},
                                  rounds=1, iterations=1)
    (device,) = document["devices"]
    benchmark.extra_info.update({
        "device": device["name"], "clock_mhz": device["measured_clock_mhz"],
        "bandwidth_gbps": device["memory_bandwidth_gbps"], "verdict": device["verdict"],
        "results": {f"{r['precision']} {r['unit']} {r['kernel']}": r["measured_tflops"] for r in device["results"]},
    })
    assert any(r["status"] == "measured" for r in device["results"])
