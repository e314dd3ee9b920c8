"""Per-core rates of a CPU from its flags or its microarchitecture, and which of the two was used.

Expected values come from the instruction definitions and the vendors' throughput figures cited in
tppcalc/probe/cpu_rates.py:
- AMX on Sapphire Rapids: one TDPBSSD (16 x 16 x 64 INT8 MACs) per 16 cycles per core = 1024 MACs =
  2048 INT8 ops per cycle; TDPBF16PS (16 x 16 x 32) = 1024 BF16 ops per cycle (Intel Optimization
  Reference Manual, AMX chapter, as quoted by the Advanced Matrix Extensions article:
  "2048 INT8 or 1024 BF16 operations per cycle").
- AVX-512 with two 512-bit FMA pipes: 2 x 8 FP64 lanes x 2 = 32 FP64 FLOPs per cycle.
The recorded VM (tests/fixtures/cpuinfo/xeon-amx-vm.cpuinfo) has 2 cores and 'cpu MHz : 2599.998'.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tppcalc.catalogue import Catalogue
from tppcalc.probe.cpu import cpus_from_sources, microarchitecture
from tppcalc.probe.identify import identify_cpu

CPUINFO = Path(__file__).parent / "fixtures" / "cpuinfo"


def _cpu(fixture: str, machine: str = "x86_64"):
    (cpu,) = cpus_from_sources({"machine": machine, "cpuinfo": (CPUINFO / fixture).read_text(), "sysfs": {}})
    return cpu


def _rates(cpu) -> dict[tuple[str, str], tuple[int, str]]:
    return {(r.unit, r.precision): (r.ops_per_cycle, r.source) for r in cpu.per_core_rates}


def test_the_amx_vm_is_named_icelake_but_its_flags_give_the_amx_rates():
    cpu = _cpu("xeon-amx-vm.cpuinfo")
    assert cpu.microarchitecture == "icelake"  # what archspec says: waitpkg hidden by the hypervisor
    rates = _rates(cpu)
    assert rates[("matrix engine", "int8")] == (2048, "flags")
    assert rates[("matrix engine", "bf16")] == (1024, "flags")
    assert rates[("vector FMA units", "fp64")] == (32, "microarchitecture table")
    assert "flags" in cpu.rate_source and "icelake" in cpu.rate_source


def test_the_amx_vm_tpp_counts_amx_int8_not_fp64():
    cpu = _cpu("xeon-amx-vm.cpuinfo")
    ident = identify_cpu(cpu, Catalogue.load())
    assert ident.method == "derived"
    # 2 cores x 2048 INT8 ops/cycle x 2599.998 MHz = 10.649591808 TOPS; TPP = TOPS x 8 bits
    int8 = ident.spec.processing_units[-1].dense_tops["int8"].value
    assert int8 == Decimal("10.649591808")
    from tppcalc.metrics import compute_metrics
    assert compute_metrics(ident.spec).tpp == Decimal("10.649591808") * 8
    assert any("flags" in check for check in ident.cross_checks)


def test_the_named_microarchitecture_keeps_its_table_rates_when_flags_agree():
    # Zen 4 has AVX-512 flags but 256-bit datapaths: the table (16 FP64 FLOPs/cycle) wins over
    # what AVX-512 flags alone would suggest (32).
    rates = _rates(_cpu("genoa-zen4.cpuinfo"))
    assert rates[("vector FMA units", "fp64")] == (16, "microarchitecture table")
    spr = _rates(_cpu("sapphirerapids.cpuinfo"))
    assert spr[("matrix engine", "int8")] == (2048, "microarchitecture table")


def test_an_unnamed_cpu_gets_rates_from_its_flags_alone():
    text = (CPUINFO / "xeon-amx-vm.cpuinfo").read_text().replace("avx512", "avx-hidden")
    (cpu,) = cpus_from_sources({"machine": "x86_64", "sysfs": {},
                                "cpuinfo": text.replace("GenuineIntel", "SomeVendor")})
    rates = _rates(cpu)
    assert rates[("matrix engine", "int8")] == (2048, "flags")
    assert rates[("vector FMA units", "fp64")] == (16, "flags")  # AVX2 + FMA: 2 x 4 lanes x 2
    assert cpu.rate_source.startswith("flags")


@pytest.mark.parametrize(("fixture", "machine", "uarch"), [
    ("sapphirerapids.cpuinfo", "x86_64", "sapphirerapids"),
    ("graniterapids.cpuinfo", "x86_64", "sapphirerapids"),
    ("zen3.cpuinfo", "x86_64", "zen3"),
    ("genoa-zen4.cpuinfo", "x86_64", "zen4"),
    ("neoverse-v2.cpuinfo", "aarch64", "neoverse_v2"),
    ("xeon-amx-vm.cpuinfo", "x86_64", "icelake"),
])
def test_naming_with_archspec_public_api_matches_archspec(fixture, machine, uarch):
    from tppcalc.probe.cpu import _blocks

    block = [b for b in _blocks((CPUINFO / fixture).read_text()) if "processor" in b][0]
    assert microarchitecture(block, machine) == uarch


def test_probe_json_names_the_rate_source_and_the_amx_rate(run_cli, tmp_path):
    dump = {"format": "tppcalc-probe-dump/1", "provenance": "test: recorded cpuinfo of the AMX VM",
            "hostname": "amx-vm", "nvml": {"status": "NotFound", "calls": {}},
            "cpu": {"machine": "x86_64", "sysfs": {}, "cpuinfo": (CPUINFO / "xeon-amx-vm.cpuinfo").read_text()}}
    path = tmp_path / "amx-vm.json"
    path.write_text(json.dumps(dump))
    result = run_cli("probe", "--replay", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    (cpu,) = out["host"]["cpus"]
    amx = [r for r in cpu["per_core_rates"] if r["unit"] == "matrix engine" and r["precision"] == "int8"]
    assert amx and amx[0]["ops_per_cycle"] == 2048 and amx[0]["source"] == "flags"
    assert "flags" in cpu["rate_source"]
    device = out["devices"][0]
    assert device["metrics"]["tpp"] is not None and float(device["metrics"]["tpp"]) == pytest.approx(85.196734464)
