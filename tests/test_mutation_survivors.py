"""Tests that kill the mutation survivors listed in issue 17 (item 6).

Each expected value comes from the rule text (/work/shared/reference/regulation.md, cited per test)
or a datasheet, never from the code. Every test goes through public behaviour (tppcalc.classify,
compute_metrics, the catalogue, the batch reader and engine) so that it survives refactors of the
predicates and the classifier. The mutant each test kills is named in its docstring.
"""

import csv
import datetime as dt
import io
from decimal import Decimal
from fractions import Fraction

import pytest

from tppcalc import Catalogue, Precision, Reading, classify, compute_metrics, spec_from_figures
from tppcalc.batch import classify_file
from tppcalc.batch.engine import Engine
from tppcalc.batch.io import CsvReader
from tppcalc.data.availability import AvailabilitySource, AvailabilityTable, UsAvailability
from tppcalc.data.specfile import specs_from_document

D = dt.date
CATALOGUE = Catalogue.load()
AFTER_NAC_ACA_SPLIT = D(2024, 6, 1)   # 89 FR 23876, effective 2024-04-04
AFTER_HBM_RULE = D(2025, 2, 1)        # 89 FR 96790, effective 2024-12-02
AFTER_2026_REVIEW_RULE = D(2026, 2, 1)  # 91 FR 1684, effective 2026-01-15


def exception_names(result) -> list[str]:
    return [option.name for option in result.license_exceptions]


def document(kind: str, *, units: list[dict], stacks=(), dies=(), datacenter=True) -> dict:
    """A one-chip spec document in the catalogue's format, every figure from source "s"."""
    def sourced(value):
        return {"unknown": "not published"} if value is None else {"value": str(value), "source": "s"}

    chip = {"id": "c", "vendor": "v", "name": "n", "kind": kind, "datacenter": {"value": datacenter, "source": "s"},
            "processing_units": [{"name": f"unit {i}", "dense_tops": {p: sourced(v) for p, v in unit.items()}}
                                 for i, unit in enumerate(units)]}
    if stacks:
        chip["memory"] = {"dram_bandwidth_gbps": sourced(stacks[0][0]),
                          "hbm_stacks": [{"bandwidth_gbps": sourced(bw), "package_area_mm2": sourced(area)}
                                         for bw, area in stacks]}
    if dies:
        chip["dies"] = [{"name": f"die {i}", "role": "logic", "area_mm2": sourced(area),
                         **({"transistor_architecture": arch, "source": "s"} if arch else {})}
                        for i, (area, arch) in enumerate(dies)]
    return {"sources": {"s": {"title": "test figures"}}, "chip": [chip]}


def spec_of(doc: dict):
    (spec,) = specs_from_document(doc, "test")
    return spec


# --------------------------------------------------------------- predicates: datacenter, HBM


@pytest.mark.parametrize(("datacenter", "int8", "area", "eccn", "dest", "exceptions"), [
    # "NAC/ACA: ... yes, for 3A090.b, if the item is designed or marketed for use in datacenters"
    # (ECCN 3A090 list-based exceptions, regulation.md 2.6). TPP 2400 (300 x 8), density 1.6: b.1.
    (True, 300, 1500, "3A090.b", "CN", ["NAC"]),
    (True, 300, 1500, "3A090.b", "VN", ["ACA"]),
    # "yes, for 3A090.a, if the item is not designed or marketed for use in datacenters and has a
    # 'total processing performance' of 4800 or more" (TPP 600 x 8 = 4800).
    (False, 600, None, "3A090.a", "CN", ["NAC"]),
    (False, 600, None, "3A090.a", "VN", ["ACA"]),
    # A datacenter 3A090.a item gets neither.
    (True, 600, None, "3A090.a", "CN", []),
    (True, 600, None, "3A090.a", "VN", []),
])
def test_nac_and_aca_follow_the_datacenter_flag(datacenter, int8, area, eccn, dest, exceptions):
    """Kills the `datacenter` predicate inverted (and `not_datacenter` likewise)."""
    spec = spec_from_figures({"int8": int8}, dies=[(area, "finfet")] if area else [], datacenter=datacenter)
    result = classify(spec, dest=dest, hq="US" if dest == "VN" else None, as_of=AFTER_NAC_ACA_SPLIT)
    assert result.eccn == eccn
    assert exception_names(result) == exceptions


@pytest.mark.parametrize(("bandwidth", "eccn"), [
    ("1000", "outside 3A090"),     # 1000 / 500 = 2 GB/s/mm2 exactly: not "greater than 2"
    ("1000.001", "3A090.c"),        # just above 2
    ("1500", "3A090.c"),
])
def test_3a090c_is_strictly_above_2_gb_per_s_per_mm2(bandwidth, eccn):
    """Kills `hbm_density_above` with `>` turned into `>=`, and `memory_item` never true.

    3A090.c: "High bandwidth memory (HBM) having a 'memory bandwidth density' greater than 2
    gigabytes per second per square millimeter" (regulation.md section 3); licence to D:5."""
    memory = spec_of(document("memory", units=[{"int8": 1}], stacks=[(bandwidth, "500")]))
    result = classify(memory, dest="CN", as_of=AFTER_HBM_RULE)
    assert result.eccn == eccn
    assert result.license_required is (eccn == "3A090.c")
    assert exception_names(result) == (["HBM"] if eccn == "3A090.c" else [])  # "HBM: Yes, for 3A090.c"


def test_3a090c_does_not_reach_a_processor_with_dense_hbm():
    """Kills `memory_item` always true: Technical Note 1 to 3A090.c, "This control does not cover
    co-packaged integrated circuits with both HBM and logic ... where the dominant function ... is
    processing"."""
    gpu = spec_of(document("gpu", units=[{"int8": 1}], stacks=[("1500", "500")]))
    assert classify(gpu, dest="CN", as_of=AFTER_HBM_RULE).eccn == "outside 3A090"


def test_3a090c_did_not_exist_before_december_2024():
    memory = spec_of(document("memory", units=[{"int8": 1}], stacks=[("1500", "500")]))
    assert classify(memory, dest="CN", as_of=D(2024, 6, 1)).eccn == "outside 3A090"


# --------------------------------------------------------------------------------- headroom


@pytest.mark.parametrize(("int8", "next_line", "distance"), [
    # 3A090 lines: TPP 1600 (a.2/b.2), 2400 (b.1), 4800 (a.1); TPP = 8 x INT8 TOPS (TN 2).
    ("199.875", 1600, 1),       # TPP 1599
    (200, 2400, 800),           # TPP 1600: on the line, the next one is 2400
    ("200.125", 2400, 799),     # TPP 1601
    ("299.875", 2400, 1),       # TPP 2399
    (300, 4800, 2400),          # TPP 2400
    ("599.875", 4800, 1),       # TPP 4799
    (600, None, None),          # TPP 4800: on the top line, none above it
    ("600.125", None, None),    # TPP 4801
])
def test_tpp_headroom_at_and_around_each_line(int8, next_line, distance):
    """Kills the 1600/4800 lines moved by one, and `_headroom` taking a line it sits on."""
    headroom = compute_metrics(spec_from_figures({"int8": int8})).headroom
    assert headroom.tpp_next_line == next_line
    assert headroom.tpp_to_next_line == distance


@pytest.mark.parametrize(("int8", "area", "next_line", "distance"), [
    # Density lines 1.6 (b.1), 3.2 (b.2), 5.92 (a.2); density = TPP / area (TN 2 item 4).
    (300, 1501, Decimal("1.6"), Fraction(8, 5) - Fraction(2400, 1501)),  # just below 1.6
    (300, 1500, Decimal("3.2"), Fraction(8, 5)),      # 2400 / 1500 = 1.6 exactly
    (200, 500, Decimal("5.92"), Fraction(272, 100)),  # 1600 / 500 = 3.2 exactly
    (370, 500, None, None),                           # 2960 / 500 = 5.92 exactly
    (370, "500.001", Decimal("5.92"), Fraction("5.92") - Fraction(2960) / Fraction("500.001")),
])
def test_density_headroom_on_a_line(int8, area, next_line, distance):
    headroom = compute_metrics(spec_from_figures({"int8": int8}, dies=[(area, "finfet")])).headroom
    assert headroom.density_next_line == next_line
    assert headroom.density_to_next_line == distance


# ------------------------------------------------------------------ partly known die area


def test_density_exactly_on_a_line_with_a_partly_known_area_stays_undetermined():
    """Kills `density_at_least` answering NO where the area is partly known and the density may sit
    exactly on the line.

    TPP 2400 (300 x 8); a 1500 mm2 FinFET die and a 100 mm2 die of unknown architecture (planar:
    not counted; non-planar: counted). The density is 2400 / 1500 = 1.6 or 2400 / 1600 = 1.5.
    3A090.b.1 holds at "1.6 or more" (TN 2; regulation.md 2.1), so the answer is 3A090.b or outside,
    never outside alone (fail closed)."""
    spec = spec_of(document("gpu", units=[{"int8": 300}], dies=[(1500, "finfet"), (100, None)]))
    result = classify(spec, dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn is None
    assert result.undetermined == ["3A090.b", "outside 3A090"]
    assert result.license_required is None


def test_a_partly_known_area_clearly_past_a_line_is_decided():
    # With the known die at 1600 mm2 the density is at most 2400 / 1600 = 1.5, below every 3A090.b
    # line (1.6) whatever the other die is: outside, decided.
    spec = spec_of(document("gpu", units=[{"int8": 300}], dies=[(1600, "finfet"), (100, None)]))
    assert classify(spec, dest="CN", as_of=D(2024, 1, 1)).eccn == "outside 3A090"


# ----------------------------------------------------------- multi-unit chips and readings


def h20():
    return compute_metrics(CATALOGUE.lookup("H20"))


def test_h20_per_precision_table_takes_every_unit():
    """Kills `_best_per_precision` reading only the first unit. H20 figures (Tom's Hardware and the
    leaked spec sheet, as in the catalogue): tensor FP8/INT8 296, vector FP32 44 and FP64 1 TFLOPS."""
    m = h20()
    # TF32 74 x 32, FP16 148 x 16 and FP8/INT8 296 x 8 all give 2368.
    assert m.tpp == 296 * 8 == 74 * 32 == 148 * 16
    assert m.tpp_by_precision[Precision.FP32] == 44 * 32
    assert m.tpp_by_precision[Precision.FP64] == 1 * 64


def test_h20_concurrent_units_reading_adds_each_units_best():
    """Kills `_unit` mutations that lose a unit's best rating: tensor 296 x 8 = 2368 plus vector
    44 x 32 = 1408 gives 3776; over 814 mm2 that is density 4.64, which is 3A090.b.1 (TPP 2400 to
    4800 and density 1.6 to 5.92), while the primary 2368 (density 2.91) is outside."""
    summed = h20().readings[Reading.CONCURRENT_UNITS_SUMMED]
    assert summed.tpp == 3776
    assert summed.governing_precision in (Precision.TF32, Precision.FP16, Precision.FP8, Precision.INT8)
    result = classify(CATALOGUE.lookup("H20"), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn == "outside 3A090"
    assert result.outcomes_by_reading["concurrent-units-summed"][0].startswith("3A090.b ")
    assert result.reading_sensitive is True


def test_the_highest_rating_wins_whatever_the_unit_order():
    # MI250X: matrix FP64 95.7 and vector FP64 47.9 TFLOPS; listed vector first here.
    m = compute_metrics(spec_of(document("gpu", units=[{"fp64": "47.9"}, {"fp64": "95.7"}])))
    assert m.tpp == Decimal("95.7") * 64
    assert m.readings[Reading.CONCURRENT_UNITS_SUMMED].tpp == Decimal("143.6") * 64


def test_a_unit_with_an_unknown_rating_leaves_tpp_open_under_every_reading():
    """A second unit whose FP32 rating is unknown may rate above 4800: TPP is a lower bound only,
    under the primary reading and the summed one, and the chip is not "outside" (fail closed)."""
    spec = spec_of(document("gpu", units=[{"int8": 296}, {"fp32": None}], dies=[(814, "finfet")]))
    m = compute_metrics(spec)
    assert m.tpp is None and m.tpp_by_precision[Precision.FP32] is None
    assert m.readings[Reading.CONCURRENT_UNITS_SUMMED].tpp is None
    result = classify(spec, dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn is None and "outside 3A090" in result.undetermined
    assert result.undetermined[0] == "3A090.a"


def test_a_chip_far_from_every_line_is_not_reading_sensitive():
    """Kills the reading-sensitivity flag inverted: H100 SXM (TPP 15,831, datasheet) is 3A090.a
    under every reading."""
    result = classify(CATALOGUE.lookup("H100 SXM"), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn == "3A090.a"
    assert result.reading_sensitive is False


# ------------------------------------------------------------------- classification fields


def test_a_named_edition_is_the_one_applied():
    """Kills the `edition` argument dropped before selection. The 2022 rule (87 FR 62186) needs an
    I/O rate of 600 GB/s or more; the A800 has NVLink 400 GB/s (+ PCIe 64), so under that edition
    it is outside even on a day when the 2023 rules (TPP 4800 alone) make it 3A090.a."""
    a800 = CATALOGUE.lookup("A800 SXM")
    assert classify(a800, dest="CN", as_of=D(2024, 1, 1)).eccn == "3A090.a"
    named = classify(a800, dest="CN", as_of=D(2024, 1, 1), edition="2022-10-07")
    assert named.edition == "2022-10-07"
    assert named.eccn == "outside 3A090"


def test_aca_is_not_for_an_end_user_headquartered_in_d5():
    """Kills licence exceptions ignoring `hq`. ACA (15 CFR 740.8(b) as amended by 89 FR 23876) is
    for D:1/D:4 destinations, not for D:5- or Macau-headquartered parties (regulation.md 2.6).
    RTX 4090: consumer, TPP 660.6 x 8 = 5284.8, so 3A090.a with NAC/ACA eligibility."""
    rtx = CATALOGUE.lookup("RTX 4090")
    assert exception_names(classify(rtx, dest="VN", hq="US", as_of=AFTER_NAC_ACA_SPLIT)) == ["ACA"]
    assert "ACA" not in exception_names(classify(rtx, dest="VN", hq="CN", as_of=AFTER_NAC_ACA_SPLIT))


def test_review_policy_follows_the_headquarters():
    """Kills the review policy ignoring `hq`. 2023 policy (CSET, regulation.md 2.5): "for D:1/D:4
    presumption of approval unless the party is D:5/Macau-HQ'd (then denial)"."""
    h100 = CATALOGUE.lookup("H100 SXM")
    assert classify(h100, dest="VN", hq="US", as_of=AFTER_NAC_ACA_SPLIT).review_policy == "presumption of approval"
    assert classify(h100, dest="VN", hq="CN", as_of=AFTER_NAC_ACA_SPLIT).review_policy == "presumption of denial"


def test_an_undetermined_result_names_no_paragraph():
    """Kills a paragraph attached to an undetermined result: TPP 2000 without a die area may be
    3A090.a.2, 3A090.b.2 or outside (density unknown), so no paragraph decides it."""
    result = classify(spec_from_figures({"int8": 250}, datacenter=True), dest="CN", as_of=D(2024, 1, 1))
    assert result.undetermined == ["3A090.a", "3A090.b", "outside 3A090"]
    assert result.eccn is None and result.paragraph is None


# ------------------------------------------------------------------------------------ batch


HEADER = ["id", "dense_int8_tops", "dense_fp64_tflops", "die_area_mm2", "datacenter", "dram_bandwidth_gbps"]


def csv_bytes(rows: list[dict]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def engine_results(rows: list[dict], **rules):
    reader = CsvReader(io.BytesIO(csv_bytes(rows)), "test")
    engine = Engine(reader.columns, **rules)
    (chunk,) = list(reader)
    return engine.classify(chunk)


def test_batch_rows_at_the_2026_dram_line_are_decided_exactly_and_as_the_scalar_engine_does():
    """91 FR 1684 draws a line at a 'total DRAM bandwidth' below 6,500 GB/s (regulation.md 2026).

    Since issue 20 DRAM figures are compared with their lines as exact integers in 1/10,000ths (a
    quarter of a spec sheet can sit on such a line), so the row on the line takes the numpy path
    too, and each of the three rows, one unit apart, gets the scalar engine's ECCN and licence
    answer. (The mutant this test was written for, the float DRAM figure multiplied by its scale,
    went with the float figure; bench/mutation/listed_survivors.py lists its successor.)"""
    near = ["6500", "6499.9999", "6500.0001"]
    rows = [{"id": str(i), "dense_int8_tops": "2000", "die_area_mm2": "1000", "datacenter": "true",
             "dram_bandwidth_gbps": dram} for i, dram in enumerate([*near, "3000"])]
    rules = {"dest": "CN", "as_of": AFTER_2026_REVIEW_RULE}
    results = engine_results(rows, **rules)
    assert sorted(results.exact) == []
    for i, dram in enumerate(near):
        spec = spec_from_figures({"int8": 2000}, dies=[("1000", "finfet")], datacenter=True, dram_bandwidth_gbps=dram)
        expected = classify(spec, **rules)
        outcome = results.outcomes[results.outcome[i]]
        assert (outcome.eccn, outcome.license_required) == (expected.eccn, expected.license_required) == \
            ("3A090.a", True)
    # Case-by-case below 6,500 (strict), presumption of denial at or above it (TPP 16,000 < 21,000).
    on_market = AvailabilityTable({"input": UsAvailability(  # the figures alone decide (91 FR 1684's date met)
        "input", D(2024, 1, 1), AvailabilitySource(title="test", url="https://example.org"), "")}, "test")
    policies = [classify(spec_from_figures({"int8": 2000}, dies=[("1000", "finfet")], datacenter=True,
                                           dram_bandwidth_gbps=dram), **rules, availability=on_market).review_policy
                for dram in near]
    assert policies == ["presumption of denial", "case-by-case", "presumption of denial"]


def test_batch_figures_beyond_the_int64_guard_are_computed_exactly():
    """Kills the int64 guard `_MAX_UNITS` raised: an FP64 rate of 2,000,000,000 TFLOPS gives TPP
    2e9 x 64 = 128,000,000,000 (TN 2) and, over 1000 mm2, density 128,000,000; in 1/10,000ths the
    density would pass 2^63, so the row must not take the int64 path."""
    rows = [{"id": "big", "dense_fp64_tflops": "2000000000", "die_area_mm2": "1000", "datacenter": "true"}]
    out = io.BytesIO()
    classify_file(io.BytesIO(csv_bytes(rows)), out, input_format="csv", dest="CN", as_of=D(2024, 1, 1))
    (got,) = csv.DictReader(io.StringIO(out.getvalue().decode()))
    assert got["error"] == ""
    assert got["tpp"] == "128000000000"
    assert got["performance_density"] == "128000000"
    assert got["eccn"] == "3A090.a" and got["license_required"] == "true"
