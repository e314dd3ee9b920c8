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

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tppcalc import classify, compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.probe.cpu import cpus_from_sources, microarchitecture
from tppcalc.probe.host import CoreRate, CpuInfo
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
    # The VM shows no cpufreq, so its 2,599.998 MHz is only a floor and the clock is taken at the
    # 7 GHz ceiling: 2 cores x 2048 INT8 ops/cycle x 7000 MHz = 28.672 TOPS; TPP = TOPS x 8 bits
    # (at the floor it would be 10.649591808 TOPS, FP64 alone 10.65 TPP).
    int8 = ident.spec.processing_units[-1].dense_tops["int8"].value
    assert int8 == Decimal("28.672")
    assert compute_metrics(ident.spec).tpp == Decimal("28.672") * 8
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
    assert device["metrics"]["tpp"] is not None and float(device["metrics"]["tpp"]) == pytest.approx(229.376)  # at the clock ceiling


# ---- clocks: hostile values never crash or lower the count silently ---------------------------

def _with(text_replacements: dict[str, str], sysfs: dict | None = None):
    text = (CPUINFO / "xeon-amx-vm.cpuinfo").read_text()
    for old, new in text_replacements.items():
        text = text.replace(old, new)
    (cpu,) = cpus_from_sources({"machine": "x86_64", "cpuinfo": text, "sysfs": sysfs or {}})
    return cpu


@pytest.mark.parametrize("garbage", ["abc", "nan", "-2599.998", "inf", "0"])
def test_a_garbled_cpu_mhz_is_named_not_used_and_never_crashes(garbage):
    cpu = _with({"2599.998": garbage})
    assert cpu.max_mhz is None and "max_mhz" in cpu.errors
    ident = identify_cpu(cpu, Catalogue.load())
    assert ident.method == "unreadable"  # every outcome stays possible


@pytest.mark.parametrize("garbage", ["-3800000", "nan", "12e", "0"])
def test_a_garbled_sysfs_maximum_falls_back_to_cpuinfo_and_says_so(garbage):
    cpu = _with({}, {"cpu0/cpufreq/cpuinfo_max_freq": garbage})
    assert cpu.max_mhz == pytest.approx(2599.998) and "unreadable" in cpu.errors["max_mhz"]


def test_base_clock_from_sysfs_or_the_model_name():
    cpu = _with({"Intel(R) Xeon(R) Processor": "Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz"})
    assert cpu.base_mhz == 2000
    cpu = _with({}, {"cpu0/cpufreq/base_frequency": "2100000", "cpu0/cpufreq/cpuinfo_max_freq": "3800000"})
    assert cpu.base_mhz == 2100 and cpu.max_mhz == 3800


def test_a_hostile_dump_cpu_section_is_named_not_a_crash():
    (cpu,) = cpus_from_sources({"machine": "x86_64", "cpuinfo": 5, "sysfs": {}})
    assert "cpuinfo" in cpu.errors and identify_cpu(cpu, Catalogue.load()).method == "unreadable"


def test_the_tpp_at_the_base_clock_is_shown_beside_the_one_at_the_maximum():
    cpu = _with({}, {"cpu0/cpufreq/base_frequency": "2000000", "cpu0/cpufreq/cpuinfo_max_freq": "3800000"})
    ident = identify_cpu(cpu, Catalogue.load())
    # 2 cores x 2048 x 8 bits: TPP 32.768 per GHz -> 65.536 at 2.0 GHz, 124.5184 at 3.8 GHz
    assert ident.derived_tpp_at_max_clock == Decimal("124.5184")
    assert any("base clock (2000 MHz): 65.54" in check for check in ident.cross_checks)


def test_a_zen4_guest_missing_pku_is_the_generic_level_its_flags_reach_not_zen2():
    text = (CPUINFO / "genoa-zen4.cpuinfo").read_text().replace(" pku", "").replace(" flush_l1d", "")
    from tppcalc.probe.cpu import _blocks

    block = [b for b in _blocks(text) if "processor" in b][0]
    assert microarchitecture(block, "x86_64") == "x86_64_v4"  # as archspec.cpu.host() names this dev VM
    (cpu,) = cpus_from_sources({"machine": "x86_64", "cpuinfo": text, "sysfs": {}})
    # flags alone cannot tell Zen 4's 256-bit datapaths: the AVX-512 upper bound is counted
    assert _rates(cpu)[("vector FMA units", "fp64")] == (32, "flags")


def test_a_recorded_archspec_name_never_overrides_what_the_flags_name():
    text = (CPUINFO / "sapphirerapids.cpuinfo").read_text()
    sources = {"machine": "x86_64", "cpuinfo": text, "sysfs": {}}
    (cpu,) = cpus_from_sources({**sources, "archspec_host": "zen4"})  # a garbled or hostile recording
    assert cpu.microarchitecture == "sapphirerapids" and "zen4" in cpu.errors["microarchitecture"]
    (cpu,) = cpus_from_sources({**sources, "archspec_host": "no-such-target\\x1b[31m"})
    assert cpu.microarchitecture == "sapphirerapids" and "microarchitecture" not in cpu.errors


def _amx_cpu(cores: int, current_mhz: float) -> CpuInfo:
    """A CPU whose maximum clock could not be read (no cpufreq, as in many VMs): the probe stood its
    highest current clock in for it, which an idle core can put far below the maximum."""
    return CpuInfo(machine="x86_64", vendor="GenuineIntel", model_name="Intel(R) Xeon(R) CPU @ 2.00GHz",
                   physical_cores=cores, sockets=1, max_mhz=current_mhz, flags=["amx_int8", "amx_tile"],
                   per_core_rates=[CoreRate(unit="matrix engine", precision="int8", ops_per_cycle=2048,
                                            source="flags", basis="amx_int8")],
                   errors={"max_mhz": "no cpufreq in sysfs; highest current 'cpu MHz' used"})


def test_an_unreadable_maximum_clock_never_proves_outside_when_the_real_clock_could_cross_a_line():
    # 56 AMX cores idling at 800 MHz: 56 x 2048 int8 ops x 0.8 GHz = 91.75 TOPS, TPP 734 (under 1600,
    # "outside"), though at the 3.8 GHz such parts boost to it is 56 x 2048 x 3.8 x 8 = 3,486.5 TPP
    # (3A090 TN: TPP = 2 x MacTOPS x bit length; 2048 ops = 1024 MACs). The answer must stay open.
    spec = identify_cpu(_amx_cpu(56, 800.0), Catalogue.load()).spec
    result = classify(spec, dest="CN", as_of=dt.date(2026, 2, 1))
    assert result.eccn is None and "outside 3A090" in result.undetermined and "3A090.b" in result.undetermined


def test_an_unreadable_maximum_clock_still_proves_outside_when_no_clock_could_cross_a_line():
    # 2 cores: even at 7 GHz, 2 x 2048 x 7 x 8 = 229.4 TPP, under the 1600 line whatever the clock.
    spec = identify_cpu(_amx_cpu(2, 800.0), Catalogue.load()).spec
    assert compute_metrics(spec).tpp == Decimal("229.376")
    assert classify(spec, dest="CN", as_of=dt.date(2026, 2, 1)).eccn == "outside 3A090"
