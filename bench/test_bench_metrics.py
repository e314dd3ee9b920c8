"""Speed of the metric engine and of the ``tppcalc calc`` cold start.

Goals (issue 2): one chip's metrics in under 20 µs; ``tppcalc calc`` cold start under 300 ms.
Figures and the machine are recorded in bench/RESULTS.md.
"""

import subprocess
from decimal import Decimal

from tppcalc import compute_metrics, spec_from_figures
from tppcalc.data.specfile import specs_from_document

H100_LIKE = {
    "sources": {"ds": {"title": "NVIDIA H100 datasheet"}},
    "chip": [{
        "id": "h100-like", "vendor": "NVIDIA", "name": "H100 SXM5", "kind": "gpu",
        "datacenter": {"value": True, "source": "ds"},
        "processing_units": [
            {"name": "tensor", "dense_tops": {p: {"value": v, "source": "ds"} for p, v in
                                              {"fp64": "66.9", "tf32": "494.7", "fp16": "989.4", "bf16": "989.4",
                                               "fp8": "1978.9", "int8": "1978.9"}.items()}},
            {"name": "vector", "dense_tops": {"fp64": {"value": "33.5", "source": "ds"},
                                              "fp32": {"value": "66.9", "source": "ds"}}},
        ],
        "dies": [{"name": "GH100", "role": "logic", "area_mm2": {"value": 814, "source": "ds"},
                  "transistor_architecture": "finfet", "source": "ds"}],
        "memory": {"dram_bandwidth_gbps": {"value": 3350, "source": "ds"}},
        "io_bidir_gbps": {"value": 900, "source": "ds"},
        "transistor_count": {"value": "80e9", "source": "ds"},
    }],
}


def test_metrics_of_one_catalogue_like_chip(benchmark):
    (spec,) = specs_from_document(H100_LIKE, "bench")
    metrics = benchmark(compute_metrics, spec)
    assert metrics.tpp == Decimal("15831.2")


def test_metrics_of_one_flag_chip(benchmark):
    spec = spec_from_figures({"fp8": "1978.9"}, dies=[("814", "finfet")], datacenter=True)
    metrics = benchmark(compute_metrics, spec)
    assert metrics.tpp == Decimal("15831.2")


def test_calc_cold_start(benchmark, user_install):
    command = [user_install / "tppcalc", "calc", "--dense", "fp8=1978.9", "--die", "814:finfet", "--json"]
    result = benchmark.pedantic(subprocess.run, args=(command,), kwargs={"capture_output": True, "check": True},
                                rounds=15, warmup_rounds=2)
    assert b'"tpp": 15831.2' in result.stdout


def test_python_with_pydantic_floor(benchmark, user_install):
    """The floor under any cold start that validates with pydantic: interpreter + pydantic import."""
    command = [user_install / "python", "-c", "import pydantic.main, pydantic.fields, click"]
    benchmark.pedantic(subprocess.run, args=(command,), kwargs={"check": True}, rounds=15, warmup_rounds=2)
