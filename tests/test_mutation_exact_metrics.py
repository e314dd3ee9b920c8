"""Pins what the mutation run of exact.py and metrics.py found unpinned (issue 17).

Each expected value comes from outside the code under test: the message a user reads (written out
here in full), the bounds the module notes state (60 significant digits, nonzero figures in
[1e-40, 1e40)), or exact arithmetic done in the test with integers and ``fractions.Fraction``.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from tppcalc.core.exact import format_number, positive, to_decimal, to_plain
from tppcalc.errors import InputError, SparseFigureError

# --- exact.py: the words a user reads when a figure is refused --------------------------------


@pytest.mark.parametrize(("given", "message"), [
    (True, "die area must be a number, got a boolean"),
    (None, "die area must be a number, got NoneType"),
    ([600], "die area must be a number, got list"),
    (float("nan"), "die area must be finite, got nan"),
    (float("inf"), "die area must be finite, got inf"),
    (float("-inf"), "die area must be finite, got -inf"),
    (Decimal("NaN"), "die area must be finite, got Decimal('NaN')"),
    (Decimal("-Infinity"), "die area must be finite, got Decimal('-Infinity')"),
    ("nan", "die area must be a decimal number, got 'nan'"),
    ("6OO", "die area must be a decimal number, got '6OO'"),
    ("1E+999999999999999999999", "die area '1E+999999999999999999999' is out of range"),
])
def test_a_refused_figure_reads_as_one_plain_sentence(given, message):
    with pytest.raises(InputError) as refused:
        to_decimal(given, what="die area")
    assert str(refused.value) == message


def test_the_sparse_refusal_names_the_rule():
    with pytest.raises(SparseFigureError) as refused:
        to_decimal("3958*", what="fp8 throughput")
    assert str(refused.value) == ("fp8 throughput '3958*' is marked sparse; give the dense figure "
                                  "(TPP counts dense operations only, 3A090 Technical Note 2 item 3)")


def test_without_a_name_the_figure_is_called_value():
    with pytest.raises(InputError) as refused:
        to_decimal("abc")
    assert str(refused.value) == "value must be a decimal number, got 'abc'"


def test_positive_says_what_it_got():
    with pytest.raises(InputError) as refused:
        positive("-0", what="die area")
    assert str(refused.value) == "die area must be greater than zero, got '-0'"
    assert positive("1e-40") == Decimal("1e-40")  # the smallest accepted figure is above zero
    with pytest.raises(InputError) as refused:
        positive(0)
    assert str(refused.value) == "value must be greater than zero, got 0"
    with pytest.raises(InputError) as refused:  # a figure that is no number is named the same way
        positive("abc", what="die area")
    assert str(refused.value) == "die area must be a decimal number, got 'abc'"


# --- exact.py: the digit and magnitude bounds, at their edges ---------------------------------

SIXTY_ONES = "0." + "1" * 60  # 60 significant digits, magnitude 1e-1


def test_sixty_significant_digits_are_taken_and_sixty_one_are_refused():
    assert str(to_decimal(SIXTY_ONES)) == SIXTY_ONES
    with pytest.raises(InputError) as refused:
        to_decimal(SIXTY_ONES + "1", what="die area")
    assert str(refused.value) == ("die area '0.11111111111111111...11111111111' (65 characters) has 61 significant "
                                  "digits; at most 60 are taken")


def test_trailing_zeros_beyond_sixty_digits_are_dropped_and_the_value_kept():
    assert to_decimal(SIXTY_ONES + "00000").as_tuple() == (0, (1,) * 60, -60)
    assert to_decimal("0.1" + "0" * 60).as_tuple() == (0, (1,), -1)  # 61 digits, one significant
    assert to_decimal("7" + "0" * 39 + "." + "0" * 30).as_tuple() == (0, (7,), 39)
    # Up to 60 digits, trailing zeros included, the figure is the decimal that was written.
    assert str(to_decimal("0." + "1" * 59 + "0")) == "0." + "1" * 59 + "0"


@pytest.mark.parametrize("inside", ["1e39", "9.99e39", "-9.99e39", "1e-40", "-1e-40"])
def test_nonzero_figures_from_1e_minus_40_to_below_1e40_are_taken(inside):
    assert to_decimal(inside) == Decimal(inside)


@pytest.mark.parametrize("outside", ["1e40", "-1e40", "9.9e-41", "-9.9e-41"])
def test_nonzero_figures_outside_the_magnitudes_are_refused_with_the_range(outside):
    with pytest.raises(InputError) as refused:
        to_decimal(outside, what="die area")
    assert str(refused.value) == (f"die area {outside!r} is out of range: nonzero figures lie between "
                                  "1e-40 and 1e40")


@pytest.mark.parametrize(("zero", "written"), [("0e40", "0E+40"), ("0e-40", "0E-40"), ("0e41", "0"),
                                               ("0e-41", "0"), ("-0e-41", "0")])
def test_a_zero_keeps_its_exponent_within_the_magnitudes_and_is_plain_zero_beyond(zero, written):
    assert str(to_decimal(zero)) == written


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(InputError) as refused:
        to_decimal("x" * 38)  # its repr is 40 characters: shown whole
    assert str(refused.value) == "value must be a decimal number, got '" + "x" * 38 + "'"
    with pytest.raises(InputError) as refused:
        to_decimal("x" * 39)  # 41 characters: the first 20 and the last 12
    assert str(refused.value) == ("value must be a decimal number, got "
                                  "'xxxxxxxxxxxxxxxxxxx...xxxxxxxxxxx' (41 characters)")


def test_an_integer_of_a_thousand_bits_or_more_is_named_by_its_size():
    # 2**999 has 1000 bits and 301 decimal digits (log10(2) x 999 = 300.7); 2**999 - 1 has 999 bits.
    with pytest.raises(InputError) as refused:
        to_decimal(2 ** 999)
    assert str(refused.value) == "value <a 1000-bit integer> has 301 significant digits; at most 60 are taken"
    with pytest.raises(InputError) as refused:
        to_decimal(2 ** 999 - 1)
    assert str(refused.value) == ("value 53575430359313366047...602834034687 (301 characters) has 301 significant "
                                  "digits; at most 60 are taken")


# --- exact.py: numbers for JSON -----------------------------------------------------------------


@pytest.mark.parametrize(("given", "plain"), [
    (7, 7), (Decimal("2.0"), 2), (Decimal("-3E+2"), -300), (Decimal("2.5"), 2.5),
    (Fraction(8, 4), 2), (Fraction(1, 4), 0.25), (Fraction(-1, 3), -1 / 3),
])
def test_to_plain_gives_an_int_when_whole_and_the_nearest_float_otherwise(given, plain):
    got = to_plain(given)
    assert got == plain and type(got) is type(plain)


# --- exact.py: separators, and numbers for people ---------------------------------------------


@pytest.mark.parametrize(("written", "value"), [("1_000", 1000), ("3,958.5", Decimal("3958.5")),
                                                ("1_978.9", Decimal("1978.9"))])
def test_thousands_separators_are_read_away(written, value):
    assert to_decimal(written) == value


@pytest.mark.parametrize(("given", "shown"), [
    (Fraction(4800), "4,800"),
    (Fraction(10 ** 30 + 1), "1,000,000,000,000,000,000,000,000,000,001"),  # beyond 28 digits, still exact
    (Fraction(1, 3), "0.333"),
    (Fraction(-1, 3000), "-0.0003"),  # negative and below the three places: never "-0"
    (Fraction(10 ** 30) + Fraction(1, 10), "1,000,000,000,000,000,000,000,000,000,000.1"),  # 32 digits
    (Fraction(4800) - Fraction(1, 10 ** 100), "4,799." + "9" * 100),  # the most places it takes
    (Fraction(4800) - Fraction(1, 10 ** 101), "~4,800"),  # beyond them: marked approximate
])
def test_format_number_writes_the_places_a_value_needs(given, shown):
    assert format_number(given) == shown


# --- metrics.py: what is unknown, in the words the report and the JSON show ---------------------

from tppcalc import Comparison, Precision, Reading, compute_metrics, spec_from_figures  # noqa: E402
from tppcalc.data.specfile import specs_from_document  # noqa: E402

S = {"source": "s"}


def chip(**fields) -> dict:
    """A one-chip spec document, every figure from source "s"; ``fields`` add to or replace the chip's."""
    record = {"id": "c", "vendor": "v", "name": "n", "kind": "gpu", "datacenter": {"value": True, **S},
              "processing_units": [{"name": "u", "dense_tops": {"int8": {"value": 600, **S}}}], **fields}
    return {"sources": {"s": {"title": "test figures"}}, "chip": [record]}


def metrics_of(document: dict):
    (spec,) = specs_from_document(document, "test")
    return compute_metrics(spec)


def test_figures_given_alone_name_every_missing_field():
    assert compute_metrics(spec_from_figures({"int8": 600})).unknowns == (
        "dies: die list not given, applicable die area unknown",
        "memory: not given",
        "io_bidir_gbps: not given",
        "transistor_count: not given",
        "datacenter: not given",
    )


def test_each_unknown_field_is_named_with_its_stated_reason_in_order():
    m = metrics_of(chip(
        datacenter={"unknown": "not stated"},
        transistor_count={"value": "80000000000", **S},  # H100: 80 billion transistors (NVIDIA datasheet)
        io_bidir_gbps={"unknown": "not published"},
        processing_units=[{"name": "u", "dense_tops": {"fp16": {"value": 200, **S},
                                                       "fp8": {"unknown": "not published"}}}],
        memory={"dram_bandwidth_gbps": {"unknown": "not measured"},
                "hbm_stacks": [{"bandwidth_gbps": {"value": 800, **S}, "package_area_mm2": {"value": 110, **S}},
                               {"bandwidth_gbps": {"unknown": "x"}, "package_area_mm2": {"value": 110, **S}}]},
        dies=[{"name": "a", "role": "logic", "area_mm2": {"value": 600, **S}},
              {"name": "b", "role": "logic", "area_mm2": {"unknown": "not published"},
               "transistor_architecture": "finfet", **S}],
    ))
    assert m.unknowns == (
        "processing_units[0].dense_tops.fp8: not published",
        "dies[0] (a).transistor_architecture: unknown, area may apply",
        "dies[1] (b).area_mm2: not published",
        "memory.dram_bandwidth_gbps: not measured",
        "io_bidir_gbps: not published",
        "datacenter: not stated",
        "memory.hbm_stacks[1]: bandwidth or package area unknown",
    )
    assert m.transistor_count == 80_000_000_000
    assert m.tpp_by_precision == {Precision.FP16: 3200, Precision.FP8: None}  # FP16 200 x 16
    assert m.datacenter is None and m.io_bidir_gbps is None and m.dram_bandwidth_gbps is None
    assert m.hbm_bandwidth_density_gbps_per_mm2 is None  # one stack unknown: no density, not the other's


def test_known_fields_are_carried_exactly_and_add_no_unknowns():
    m = metrics_of(chip(
        transistor_count={"value": "208000000000", **S},  # B200: 208 billion transistors (NVIDIA)
        io_bidir_gbps={"value": "1800", **S},
        memory={"dram_bandwidth_gbps": {"value": "8000", **S}},
        dies=[{"name": "a", "role": "logic", "area_mm2": {"value": 800, **S},
               "transistor_architecture": "finfet", **S}],
    ))
    assert m.unknowns == ()
    assert (m.transistor_count, m.io_bidir_gbps, m.dram_bandwidth_gbps, m.datacenter) == (208_000_000_000, 1800,
                                                                                           8000, True)


# --- metrics.py: the FP6-at-FP4-rate reading ----------------------------------------------------
# TPP = rate x bits (3A090 TN 2): FP4 1,000 is TPP 4,000; FP6 run at that rate is 1,000 x 6 = 6,000.


def units(*tables: dict) -> list[dict]:
    return [{"name": f"unit {i}", "dense_tops": {p: {"unknown": "not published"} if v is None else {"value": v, **S}
                                                 for p, v in table.items()}}
            for i, table in enumerate(tables)]


def test_fp6_takes_the_fp4_rate_in_a_unit_after_one_that_runs_no_fp6():
    m = metrics_of(chip(processing_units=units({"fp16": 300}, {"fp4": 1000, "fp6": 500}),
                        dies=[die("a", "logic", 600)]))
    assert m.tpp == 4800  # FP16 300 x 16; FP6 500 x 6 = 3,000 and FP4 4,000 are lower
    fp6 = m.readings[Reading.FP6_AT_FP4_RATE]
    assert fp6.tpp == 6000 and fp6.governing_precision is Precision.FP6
    assert fp6.applicable_die_area_mm2 == 600 and fp6.performance_density == 10  # 6,000 / 600


def test_fp6_takes_the_highest_unit():
    for order in [({"fp4": 1000, "fp6": 500}, {"fp6": 800}), ({"fp6": 800}, {"fp4": 1000, "fp6": 500})]:
        m = metrics_of(chip(processing_units=units(*order)))
        assert m.tpp == 4800  # FP6 800 x 6
        assert m.readings[Reading.FP6_AT_FP4_RATE].tpp == 6000


def test_an_unknown_fp6_rate_is_raised_to_the_fp4_rate_but_stays_open_above():
    m = metrics_of(chip(processing_units=units({"fp4": 1000, "fp6": None})))
    assert m.primary.tpp_bounds == (4000, None)
    assert m.readings[Reading.FP6_AT_FP4_RATE].tpp_bounds == (6000, None)


@pytest.mark.parametrize("table", [{"fp6": None}, {"fp6": None, "fp8": 100}, {"fp4": 100, "fp6": 200},
                                   {"fp4": 1000}, {"fp6": 500}])
def test_fp6_at_the_fp4_rate_is_the_primary_result_where_it_cannot_raise_fp6(table):
    # FP4 100 x 6 = 600 is below FP6's own 200 x 6 = 1,200; no FP6, or no FP4, leaves nothing to raise.
    m = metrics_of(chip(processing_units=units(table)))
    assert m.readings[Reading.FP6_AT_FP4_RATE] is m.primary


# --- metrics.py: the I/O-dies-excluded reading --------------------------------------------------


def die(name: str, role: str, area, arch: str | None = "finfet") -> dict:
    return {"name": name, "role": role, "area_mm2": {"value": area, **S},
            **({"transistor_architecture": arch, "source": "s"} if arch else {})}


def test_a_chip_without_an_io_die_has_one_result_for_the_io_reading():
    m = metrics_of(chip(dies=[die("a", "logic", 600), die("m", "memory", 100)]))
    assert m.readings[Reading.IO_DIES_EXCLUDED] is m.primary


def test_io_dies_excluded_keeps_an_unknown_logic_die_open_and_reports_it_once():
    m = metrics_of(chip(dies=[die("a", "logic", 600), die("io", "io", 200), die("x", "logic", 50, arch=None)]))
    assert m.primary.area_bounds == (800, None)
    excluded = m.readings[Reading.IO_DIES_EXCLUDED]
    assert excluded.area_bounds == (600, None)
    assert excluded.tpp_bounds == m.primary.tpp_bounds == (4800, 4800)
    assert excluded.governing_precision is m.governing_precision is Precision.INT8
    assert [u for u in m.unknowns if u.startswith("dies")] == [
        "dies[2] (x).transistor_architecture: unknown, area may apply"]


def test_io_dies_excluded_counts_every_logic_die_times_its_count():
    dies = [die("a", "logic", 300), die("io", "io", 200)]
    dies[0]["count"] = 2
    m = metrics_of(chip(dies=dies))
    assert m.applicable_die_area_mm2 == 800 and m.readings[Reading.IO_DIES_EXCLUDED].applicable_die_area_mm2 == 600
    assert m.readings[Reading.IO_DIES_EXCLUDED].performance_density == Fraction(4800, 600)


# --- metrics.py: the CPU clock readings ---------------------------------------------------------
# TPP scales with the clock (cores x clock x operations per cycle, 3A090 TN 2 item 1).


def cpu(clocks: dict, int8_tops="600") -> dict:
    return chip(kind="cpu", processing_units=units({"int8": int8_tops}),
                clocks={name: value if name == "rates_at" else {"value": value, **S} for name, value in clocks.items()})


def test_a_cpu_at_its_base_clock_keeps_its_governing_precision():
    # INT8 600 TOPS at 3,000 MHz is TPP 4,800; at the 1,500 MHz base clock, 2,400, still INT8's.
    m = metrics_of(cpu({"base_mhz": 1500, "boost_mhz": 3000, "rates_at": "boost_mhz"}))
    base = m.readings[Reading.CPU_BASE_CLOCK]
    assert base.tpp == 2400 and base.governing_precision is Precision.INT8


def test_an_upper_bound_on_the_line_leaves_the_answer_open():
    # Rated at an unstated clock between base 2,000 and maximum 4,000 MHz: at base, TPP is between
    # 4,800 x 2,000 / 4,000 = 2,400 and 4,800 itself, so "at least 4,800?" cannot be answered no.
    base = metrics_of(cpu({"base_mhz": 2000, "boost_mhz": 4000})).readings[Reading.CPU_BASE_CLOCK]
    assert base.tpp_bounds == (2400, 4800)
    assert base.tpp_at_least(Decimal(4800)) is Comparison.UNKNOWN
    assert base.tpp_at_least(Decimal("4800.000000001")) is Comparison.NO
    assert base.tpp_at_least(Decimal(2400)) is Comparison.YES


# --- metrics.py: each unit's ratings, and the highest of them -----------------------------------


def test_a_unit_whose_first_rating_is_unknown_still_counts_the_rest():
    m = metrics_of(chip(processing_units=units({"fp8": None, "fp16": 200})))
    assert m.tpp_by_precision == {Precision.FP8: None, Precision.FP16: 3200}  # FP16 200 x 16
    assert m.primary.tpp_bounds == (3200, None)


@pytest.mark.parametrize(("table", "governing"), [({"fp16": 300, "int8": 600}, Precision.FP16),
                                                  ({"int8": 600, "fp16": 300}, Precision.INT8)])
def test_on_a_tie_the_precision_written_first_governs(table, governing):
    # FP16 300 x 16 = INT8 600 x 8 = 4,800 (TN 2 item 2's worked example, both ways).
    m = compute_metrics(spec_from_figures(table))
    assert m.tpp == 4800 and m.governing_precision is governing
    summed = metrics_of(chip(processing_units=units(table, {"fp32": 1}))).readings[Reading.CONCURRENT_UNITS_SUMMED]
    assert summed.tpp == 4800 + 32 and summed.governing_precision is governing


def test_units_summed_takes_each_units_best_rating_wherever_it_is_written():
    # FP8 296 x 8 = 2,368 is the first unit's best (its FP32 10 x 32 = 320 is not); FP16 50 x 16 = 800.
    m = metrics_of(chip(processing_units=units({"fp8": 296, "fp32": 10}, {"fp16": 50})))
    assert m.tpp == 2368
    summed = m.readings[Reading.CONCURRENT_UNITS_SUMMED]
    assert summed.tpp == 2368 + 800 and summed.governing_precision is Precision.FP8


def test_units_summed_with_a_unit_not_fully_rated_is_bounded_below_only():
    m = metrics_of(chip(processing_units=units({"fp8": 296}, {"fp16": None, "fp32": 44})))
    summed = m.readings[Reading.CONCURRENT_UNITS_SUMMED]
    assert summed.tpp_bounds == (2368 + 44 * 32, None) and summed.governing_precision is None


def test_units_summed_on_a_tie_between_units_names_the_first_units_precision():
    # FP16 300 x 16 = INT8 600 x 8 = 4,800 each; summed 9,600.
    summed = metrics_of(chip(processing_units=units({"fp16": 300}, {"int8": 600}))).readings[
        Reading.CONCURRENT_UNITS_SUMMED]
    assert summed.tpp == 9600 and summed.governing_precision is Precision.FP16


# --- metrics.py: the applicable die area, die by die (TN 2 item 4) and HBM density --------------


def test_without_a_die_list_the_area_is_at_least_zero_and_unbounded_above():
    assert compute_metrics(spec_from_figures({"int8": 600})).primary.area_bounds == (0, None)


@pytest.mark.parametrize(("first", "primary_area"), [(die("m", "memory", 100), 610), (die("io", "io", 214), 824),
                                                     (die("p", "logic", 300, arch="planar"), 610)])
def test_a_die_that_does_not_count_written_first_does_not_hide_the_rest(first, primary_area):
    # Primary: non-planar logic and I/O dies count (600 + 10, plus 214 when the first die is I/O).
    m = metrics_of(chip(dies=[first, die("a", "logic", 600), die("io2", "io", 10)]))
    assert m.primary.area_bounds == (primary_area, primary_area)
    assert m.readings[Reading.IO_DIES_EXCLUDED].area_bounds == (600, 600)


@pytest.mark.parametrize("unknown", [die("x", "logic", 50, arch=None),
                                     {**die("y", "logic", 50), "area_mm2": {"unknown": "not published"}}])
def test_a_logic_die_of_unknown_area_or_node_leaves_the_area_open_above_the_known_dies(unknown):
    for dies in ([unknown, die("a", "logic", 600)], [die("a", "logic", 600), unknown]):
        m = metrics_of(chip(dies=dies))
        assert m.primary.area_bounds == (600, None)
        assert m.readings[Reading.IO_DIES_EXCLUDED] is m.primary


@pytest.mark.parametrize("stacks", [[(1000, 100), (800, 100)], [(800, 100), (1000, 100)]])
def test_hbm_density_is_the_highest_stacks(stacks):
    # 1,000 GB/s over 100 mm2 is 10 GB/s/mm2; 800 over 100 is 8 (3A090.c TN 1: the highest stack).
    m = metrics_of(chip(memory={"dram_bandwidth_gbps": {"value": 1800, **S},
                                "hbm_stacks": [{"bandwidth_gbps": {"value": bw, **S},
                                                "package_area_mm2": {"value": area, **S}} for bw, area in stacks]}))
    assert m.hbm_bandwidth_density_gbps_per_mm2 == 10
