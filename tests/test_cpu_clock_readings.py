"""The CPU clock as a reading: a CPU's rates at its base and maximum turbo clocks beside the primary
(all-core turbo where published, else maximum turbo).

Expected figures are computed here from the makers' published clocks and per-core rates:
TPP = cores x clock x operations per cycle per core x bit length (3A090 TN 2 item 1; an AMX core
of Sapphire Rapids / Granite Rapids does 2048 INT8 operations per cycle, Intel Optimization
Reference Manual, AMX chapter). Clocks from Intel ARK: Xeon Platinum 8480+ 56 cores, base 2.0 GHz,
all-core turbo 3.0 GHz, maximum turbo 3.8 GHz; Xeon 6980P 128 cores, base 2.0 GHz, all-core turbo
3.2 GHz, maximum turbo 3.9 GHz; Xeon Platinum 8490H (MS docs) 60 cores, base 1.9 GHz, maximum turbo
3.5 GHz.
"""

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction

import pytest

from tppcalc.core.metrics import compute_metrics
from tppcalc.core.readings import Reading
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.specfile import specs_from_document
from tppcalc.decisions.classification import classify
from tppcalc.errors import SpecError
from tppcalc.probe.host import CoreRate, CpuInfo
from tppcalc.probe.identify import identify_cpu

AS_OF = dt.date(2026, 2, 1)
AMX_INT8_OPS_PER_CYCLE = 2048
INT8_BITS = 8


def amx_int8_tpp(cores: int, ghz: str) -> Decimal:
    """cores x GHz x ops/cycle/core gives giga-operations per second; / 1000 tera; x bits TPP."""
    return Decimal(cores) * Decimal(ghz) * AMX_INT8_OPS_PER_CYCLE / 1000 * INT8_BITS


@pytest.fixture(scope="module")
def catalogue():
    return Catalogue.load()


def cpu_record(clocks: dict | None, *, int8_tops="344.064", kind="cpu"):
    """A one-unit CPU record (56 AMX cores at 3.0 GHz give 344.064 INT8 TOPS) with these clocks."""
    chip = {"id": "test-cpu", "vendor": "Intel", "name": "Test CPU", "kind": kind,
            "datacenter": {"value": True, "source": "ark"},
            "processing_units": [{"name": "AMX", "dense_tops": {"int8": {"value": int8_tops, "source": "ark"}}}],
            "dies": [{"name": "tile", "role": "logic", "count": 4, "area_mm2": {"value": 400, "source": "ark"},
                      "transistor_architecture": "finfet", "source": "ark"}]}
    if clocks is not None:
        chip["clocks"] = {name: value if name == "rates_at" else {"value": value, "source": "ark"}
                          for name, value in clocks.items()}
    (spec,) = specs_from_document({"sources": {"ark": {"title": "Intel ARK"}}, "chip": [chip]}, "test")
    return spec


def tpp_bounds(spec, reading: Reading):
    return compute_metrics(spec).readings[reading].tpp_bounds


# ---- the catalogue's Xeons: the rule text leaves the clock open, and now it shows ------------

def test_xeon_8480plus_tpp_at_each_clock(catalogue):
    m = compute_metrics(catalogue.get("intel-xeon-platinum-8480plus"))
    assert m.tpp == amx_int8_tpp(56, "3.0") == Decimal("2752.512")
    assert m.readings[Reading.CPU_BASE_CLOCK].tpp == amx_int8_tpp(56, "2.0")
    assert m.readings[Reading.CPU_MAX_TURBO].tpp == amx_int8_tpp(56, "3.8")


def test_xeon_8480plus_is_3a090_b1_at_all_core_turbo_and_outside_at_base(catalogue):
    result = classify(catalogue.get("intel-xeon-platinum-8480plus"), as_of=AS_OF)
    # 4 XCC tiles of 400 mm2: density 2752.512 / 1600 = 1.72 (>= 1.6); at base 1835.008 / 1600 = 1.15.
    assert result.paragraph == "3A090.b.1"
    assert result.outcomes_by_reading["primary"] == ["3A090.b"]
    assert result.outcomes_by_reading["cpu-base-clock"] == ["outside 3A090"]
    assert result.outcomes_by_reading["cpu-max-turbo"] == ["3A090.b"]  # 3486.5 < 4800
    assert result.reading_sensitive


def test_xeon_6980p_is_3a090_a_at_all_core_turbo_and_b_at_base(catalogue):
    m = compute_metrics(catalogue.get("intel-xeon-6980p"))
    assert m.tpp == amx_int8_tpp(128, "3.2") == Decimal("6710.8864")
    assert m.readings[Reading.CPU_BASE_CLOCK].tpp == amx_int8_tpp(128, "2.0")  # 4194.304 < 4800
    result = classify(catalogue.get("intel-xeon-6980p"), as_of=AS_OF)
    assert result.outcomes_by_reading["primary"] == ["3A090.a"]
    assert result.outcomes_by_reading["cpu-base-clock"] == ["3A090.b"]
    assert result.outcomes_by_reading["cpu-max-turbo"] == ["3A090.a"]
    assert result.reading_sensitive


def test_the_cli_json_shows_the_xeon_clock_readings(run_cli):
    out = run_cli("classify", "Xeon Platinum 8480+", "--as-of", "2026-02-01", "--json")
    assert out.exit_code == 0, out.stderr
    document = json.loads(out.stdout)
    assert document["reading_sensitive"] is True
    assert document["outcomes_by_reading"]["cpu-base-clock"] == ["outside 3A090"]
    assert document["outcomes_by_reading"]["primary"] == ["3A090.b"]


def test_the_cli_text_names_the_clock_reading(run_cli):
    out = run_cli("classify", "Xeon 6980P", "--as-of", "2026-02-01")
    assert out.exit_code == 0, out.stderr
    assert "cpu-base-clock" in out.stdout


def test_a_sku_table_row_is_taken_to_its_base_clock(catalogue):
    # No all-core figure published: the rates are at the maximum turbo, which is also the primary.
    m = compute_metrics(catalogue.get("intel-xeon-platinum-8490h"))
    assert m.tpp == amx_int8_tpp(60, "3.5")
    assert m.readings[Reading.CPU_BASE_CLOCK].tpp == amx_int8_tpp(60, "1.9")
    assert m.readings[Reading.CPU_MAX_TURBO] is m.primary


# ---- other chips are untouched ---------------------------------------------------------------

@pytest.mark.parametrize("chip_id", ["nvidia-h100-sxm5-80gb", "nvidia-grace-cpu"])
def test_a_gpu_and_a_cpu_rated_by_a_published_peak_keep_the_primary_result(catalogue, chip_id):
    m = compute_metrics(catalogue.get(chip_id))
    assert m.readings[Reading.CPU_BASE_CLOCK] is m.primary
    assert m.readings[Reading.CPU_MAX_TURBO] is m.primary


def test_a_gpu_record_with_clocks_keeps_the_primary_result():
    spec = cpu_record({"base_mhz": 1000, "boost_mhz": 2000, "rates_at": "boost_mhz"}, kind="gpu")
    m = compute_metrics(spec)
    assert m.readings[Reading.CPU_BASE_CLOCK] is m.primary


# ---- bounds where the record does not say which clock its rates are at ----------------------

def test_rates_at_an_unstated_clock_give_bounds_between_base_and_maximum_turbo():
    spec = cpu_record({"base_mhz": 2000, "boost_mhz": 4000})
    primary = Decimal("344.064") * 8
    # Rated somewhere in [2.0, 4.0] GHz: at base, between primary x 2/4 and primary.
    assert tpp_bounds(spec, Reading.CPU_BASE_CLOCK) == (primary / 2, primary)
    assert tpp_bounds(spec, Reading.CPU_MAX_TURBO) == (primary, primary * 2)


def test_an_unknown_base_or_maximum_clock_leaves_that_reading_open():
    primary = Decimal("344.064") * 8
    no_base = cpu_record({"all_core_turbo_mhz": 3000, "boost_mhz": 3800, "rates_at": "all_core_turbo_mhz"})
    assert tpp_bounds(no_base, Reading.CPU_BASE_CLOCK) == (0, primary)
    no_boost = cpu_record({"base_mhz": 2000, "all_core_turbo_mhz": 3000, "rates_at": "all_core_turbo_mhz"})
    assert tpp_bounds(no_boost, Reading.CPU_MAX_TURBO) == (primary, None)


@pytest.mark.parametrize("left_out", [("rates_at",), ("rates_at", "all_core_turbo_mhz"), ("base_mhz",),
                                      ("boost_mhz",)])
def test_a_clock_left_out_only_widens_the_clock_readings(left_out):
    # Fail closed: a missing clock may make a reading less certain, never move it.
    full = {"base_mhz": 2000, "all_core_turbo_mhz": 3000, "boost_mhz": 3800, "rates_at": "all_core_turbo_mhz"}
    cut = cpu_record({name: value for name, value in full.items() if name not in left_out})
    for reading in (Reading.CPU_BASE_CLOCK, Reading.CPU_MAX_TURBO):
        exact = tpp_bounds(cpu_record(full), reading).exact
        low, high = tpp_bounds(cut, reading)
        assert low <= exact and (high is None or exact <= high)


def test_a_clock_ratio_that_does_not_divide_is_rounded_outwards():
    # 100 TOPS INT8 at 3.0 GHz is TPP 800; at 1.0 GHz 800 / 3 = 266.666...: never one exact figure.
    spec = cpu_record({"base_mhz": 1000, "boost_mhz": 3000, "rates_at": "boost_mhz"}, int8_tops="100")
    low, high = tpp_bounds(spec, Reading.CPU_BASE_CLOCK)
    assert Fraction(low) < Fraction(800, 3) < Fraction(high) and high - low < Decimal("1e-50")
    assert compute_metrics(spec).readings[Reading.CPU_BASE_CLOCK].tpp is None


# ---- strict input -----------------------------------------------------------------------------

@pytest.mark.parametrize("clocks, words", [
    ({"base_mhz": 2000, "boost_mhz": 3800, "rates_at": "all_core_turbo_mhz"}, "gives no value"),
    ({"base_mhz": 2000, "all_core_turbo_mhz": 3000, "boost_mhz": 3800, "rates_at": "boost_mhz"},
     "rates_at must be all_core_turbo_mhz"),
    ({"base_mhz": 2000, "all_core_turbo_mhz": 3000, "boost_mhz": 3800, "rates_at": "base_mhz"},
     "rates_at must be all_core_turbo_mhz"),
    ({"base_mhz": 3000, "boost_mhz": 2000}, "clocks must rise"),
    ({"base_mhz": 2000, "boost_mhz": 3800, "rates_at": "max_turbo"}, "rates_at"),
])
def test_clocks_that_cannot_be_true_are_refused_naming_the_field(clocks, words):
    with pytest.raises(SpecError, match=words) as caught:
        cpu_record(clocks)
    assert "clocks" in str(caught.value)


# ---- the probe's derived CPU ------------------------------------------------------------------

def test_a_probed_cpu_is_taken_from_its_maximum_to_its_base_clock(catalogue):
    cpu = CpuInfo(machine="x86_64", vendor="GenuineIntel", model_name="Intel(R) Xeon(R) CPU @ 2.00GHz",
                  physical_cores=56, sockets=1, max_mhz=3800.0, base_mhz=2000.0, flags=["amx_int8", "amx_tile"],
                  per_core_rates=[CoreRate(unit="matrix engine", precision="int8", ops_per_cycle=2048,
                                           source="flags", basis="amx_int8")])
    m = compute_metrics(identify_cpu(cpu, catalogue).spec)
    assert m.tpp == amx_int8_tpp(56, "3.8")  # the host cannot tell its all-core turbo: maximum used
    assert m.readings[Reading.CPU_BASE_CLOCK].tpp == amx_int8_tpp(56, "2.0")
    assert m.readings[Reading.CPU_MAX_TURBO] is m.primary
