"""The metric engine against hand-computed figures, bounds for unknowns, and the readings."""

from decimal import Decimal
from fractions import Fraction

import pytest

from tppcalc import Comparison, Precision, Reading, compute_metrics, spec_from_figures
from tppcalc.data.specfile import specs_from_document


def metrics(dense, dies=(), **kwargs):
    return compute_metrics(spec_from_figures(dense, dies=dies, **kwargs))


def test_h100_sxm_from_its_datasheet_figures():
    m = metrics({"fp8": "1978.9", "fp16": "989.4", "tf32": "494.7", "fp64": "66.9"},
                dies=[("814", "finfet")], datacenter=True)
    assert m.tpp == Decimal("15831.2")
    assert m.governing_precision is Precision.FP8
    assert m.applicable_die_area_mm2 == 814
    assert m.performance_density == Fraction("15831.2") / 814
    assert m.h100_equivalents == 1
    assert m.tpp_by_precision[Precision.FP16] == Decimal("15830.4")


def test_the_rules_worked_example_is_exactly_4800():
    # TN 2 item 2: 600 tera integer operations at 8 bits, or 300 TFLOPS at 16 bits.
    assert metrics({"int8": 600}).tpp == 4800
    assert metrics({"fp16": 300}).tpp == 4800


def test_missing_area_gives_bounds_not_zero():
    m = metrics({"int8": 250})
    assert m.tpp == 2000
    assert m.performance_density is None
    assert m.primary.density_bounds == (0, None)
    assert m.primary.density_at_least(Decimal("1.6")) is Comparison.UNKNOWN
    assert any("die list not given" in u for u in m.unknowns)


def test_an_unknown_throughput_leaves_tpp_bounded_below_only():
    document = {
        "sources": {"s": {"title": "t"}},
        "chip": [{"id": "c", "vendor": "v", "name": "n", "kind": "gpu",
                  "datacenter": {"value": True, "source": "s"},
                  "processing_units": [{"name": "u", "dense_tops": {
                      "fp16": {"value": 200, "source": "s"},
                      "fp8": {"unknown": "not published"}}}]}],
    }
    (spec,) = specs_from_document(document, "mem")
    m = compute_metrics(spec)
    assert m.tpp is None and m.governing_precision is None
    assert m.primary.tpp_bounds == (3200, None)
    assert m.primary.tpp_at_least(Decimal(2400)) is Comparison.YES
    assert m.primary.tpp_at_least(Decimal(4800)) is Comparison.UNKNOWN


def test_planar_dies_do_not_count_and_all_planar_leaves_density_undefined():
    m = metrics({"int8": 600}, dies=[("300", "planar"), ("100", "finfet")])
    assert m.applicable_die_area_mm2 == 100
    m = metrics({"int8": 600}, dies=[("300", "planar")])
    assert m.applicable_die_area_mm2 == 0
    assert m.performance_density is None
    assert m.primary.density_bounds[1] is None  # undefined: fail closed, not "zero density"


def test_tf32_reading_counts_19_bits_only_where_tf32_governs():
    m = metrics({"tf32": 100, "fp16": 150})
    assert m.tpp == 3200 and m.governing_precision is Precision.TF32
    alt = m.readings[Reading.TF32_19_BITS]
    assert alt.tpp == 2400 and alt.governing_precision is Precision.FP16
    m = metrics({"tf32": 100, "fp16": 250})
    assert m.readings[Reading.TF32_19_BITS] is m.primary


def test_fp6_at_fp4_rate_reading():
    m = metrics({"fp4": 1000, "fp6": 500, "fp8": 500})
    assert m.tpp == 4000
    assert m.readings[Reading.FP6_AT_FP4_RATE].tpp == 6000


def test_concurrent_units_summed_and_io_dies_excluded_readings():
    document = {
        "sources": {"s": {"title": "t"}},
        "chip": [{"id": "c", "vendor": "v", "name": "n", "kind": "gpu",
                  "datacenter": {"value": True, "source": "s"},
                  "processing_units": [
                      {"name": "tensor", "dense_tops": {"fp8": {"value": 296, "source": "s"}}},
                      {"name": "vector", "dense_tops": {"fp32": {"value": 44, "source": "s"}}}],
                  "dies": [
                      {"name": "compute", "role": "logic", "area_mm2": {"value": 600, "source": "s"},
                       "transistor_architecture": "finfet", "source": "s"},
                      {"name": "io", "role": "io", "area_mm2": {"value": 214, "source": "s"},
                       "transistor_architecture": "finfet", "source": "s"},
                      {"name": "hbm", "role": "memory", "count": 6, "area_mm2": {"value": 110, "source": "s"},
                       "transistor_architecture": "finfet", "source": "s"}]}],
    }
    (spec,) = specs_from_document(document, "mem")
    m = compute_metrics(spec)
    assert m.tpp == 2368 and m.applicable_die_area_mm2 == 814  # memory dies never count
    summed = m.readings[Reading.CONCURRENT_UNITS_SUMMED]
    assert summed.tpp == 2368 + 44 * 32
    assert m.readings[Reading.IO_DIES_EXCLUDED].applicable_die_area_mm2 == 600


def test_headroom_is_the_distance_to_the_next_line():
    m = metrics({"int8": 296}, dies=[("814", "finfet")])
    assert m.headroom.tpp_next_line == 2400 and m.headroom.tpp_to_next_line == 32
    assert m.headroom.density_next_line == Decimal("3.2")
    assert m.headroom.density_to_next_line == Fraction("3.2") - Fraction(2368, 814)


def test_h100_equivalents_match_the_published_cap_conversion():
    # An H100 SXM from its datasheet (dense FP8 1,978.9 TFLOPS) is one H100-equivalent, and the AI
    # Diffusion Tier 2 cap of 790,000,000 TPP is "49,901 H100 equivalents" (SemiAnalysis;
    # regulation.md section 4): 790,000,000 TPP is INT8 98,750,000 TOPS x 8.
    assert metrics({"fp8": "1978.9"}).h100_equivalents == 1
    assert int(metrics({"int8": 98_750_000}).h100_equivalents) == 49_901


def test_fleet_totals_and_chips_count_h100_equivalents_with_one_exact_definition():
    # A DGX H100 holds 8 H100 SXM (each 1,978.9 dense FP8 TFLOPS x 8 bits = TPP 15,831.2): 8 H100e;
    # TPP 1 is exactly 10/158,312 of one, not a rounded decimal.
    import re
    from pathlib import Path

    import tppcalc
    from tppcalc.core.metrics import h100_equivalents

    # Every module that names H100-equivalents takes them from the one definition: none divides by
    # the H100's TPP itself.
    package = Path(tppcalc.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text()
        if path.parent.name != "core":
            assert "H100_EQUIVALENT_TPP" not in text and not re.search(r"Decimal\(\"15831", text), path
            if "h100_equivalents(" in text:
                assert "from tppcalc.core.metrics import h100_equivalents" in text, path
    assert h100_equivalents(Decimal("15831.2") * 8) == 8
    assert h100_equivalents(Decimal(1)) == Fraction(10, 158312)


def test_matrix_and_vector_ratings_of_one_precision_are_not_added_under_the_primary_reading():
    # MI250X: matrix FP64 95.7 and vector FP64 47.9 TFLOPS; FP16 matrix 383. Industry TPP 6128.
    document = {
        "sources": {"s": {"title": "t"}},
        "chip": [{"id": "c", "vendor": "v", "name": "n", "kind": "gpu",
                  "datacenter": {"value": True, "source": "s"},
                  "processing_units": [
                      {"name": "matrix", "dense_tops": {"fp64": {"value": "95.7", "source": "s"},
                                                        "fp16": {"value": "383", "source": "s"}}},
                      {"name": "vector", "dense_tops": {"fp64": {"value": "47.9", "source": "s"}}}]}],
    }
    (spec,) = specs_from_document(document, "mem")
    m = compute_metrics(spec)
    assert m.tpp == 6128 and m.governing_precision is Precision.FP16
    assert m.tpp_by_precision[Precision.FP64] == Decimal("95.7") * 64
    assert m.readings[Reading.CONCURRENT_UNITS_SUMMED].tpp == 6128 + Decimal("47.9") * 64


def test_every_alternative_reading_has_an_implementation_in_order():
    from tppcalc.core.metrics import _ALTERNATIVES
    from tppcalc.core.readings import ALTERNATIVES

    assert tuple(reading for reading, _ in _ALTERNATIVES) == ALTERNATIVES
    m = compute_metrics(spec_from_figures({"int8": "600"}))
    assert list(m.readings) == [Reading.PRIMARY, *ALTERNATIVES]


def test_metrics_are_frozen():
    import dataclasses

    m = compute_metrics(spec_from_figures({"int8": "600"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.chip_id = "other"  # type: ignore[misc]
