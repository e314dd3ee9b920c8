"""Tests written for the mutants of tppcalc/batch/engine.py that the batch tests let through
(issue 17, bench/RESULTS.md "Mutation testing"). Expected values come from the rule text's
comparisons ("at least" is >=, "above" >, "at most" <=, "below" <, an unknown figure is unknown),
the exact message a user reads, or the scalar engine, which the batch engine must agree with row
by row."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from tppcalc.batch import engine
from tppcalc.batch.io import Cells, Chunk
from tppcalc.decisions.rules.editions import Bound, default_rulebook

NO, UNKNOWN, YES = "no", "unknown", "yes"
WORDS = {engine._NO: NO, engine._UNKNOWN: UNKNOWN, engine._YES: YES}

# I/O rates in 1/10,000ths of a GB/s: one step below 900, on it, one step above, then not given.
IO_UNITS = np.array([8_999_999, 9_000_000, 9_000_001, 0], np.int64)
IO_KNOWN = np.array([True, True, True, False])
# TPP as numpy holds it (1/10,000ths too): the same three places around 4,800, then a far one.
TPP_UNITS = np.array([47_999_999, 48_000_000, 48_000_001, 10_000], np.int64)
TPP_KNOWN = np.ones(4, bool)
# Density as numpy holds it, (TPP, die area) in 1/10,000ths: 5.9199, 5.92, 5.9201 and 0.0000001.
DENSITY_PAIRS = (np.array([59_199_000, 59_200_000, 59_201_000, 1], np.int64), np.full(4, 10_000_000, np.int64))
LINES = {"io": Decimal(900), "tpp": Decimal(4800)}  # notice bounds are on these (and DRAM), never on density


def bound_answers(**limits) -> dict[str, list[str]]:
    """The answers of one bound on the I/O and TPP rows, each one step (of 1/10,000) around its line."""
    values = {"io": (IO_UNITS, IO_KNOWN), "tpp": (TPP_UNITS, TPP_KNOWN)}
    found = {}
    for figure, line in LINES.items():
        bound = Bound(figure=figure, **{k: line + v for k, v in limits.items()})
        answers = engine._bound_answers(bound, values)
        found[figure] = [WORDS[int(a)] for a in answers]
    return found


@pytest.mark.parametrize("limit, expected", [
    ("at_least", [NO, YES, YES]),
    ("above", [NO, NO, YES]),
    ("at_most", [YES, YES, NO]),
    ("below", [YES, NO, NO]),
])
def test_a_notice_bound_on_its_line_and_one_step_either_side(limit, expected):
    """Each limit alone; an unknown I/O rate is unknown, a far TPP is on the side the limit puts it."""
    found = bound_answers(**{limit: Decimal(0)})
    assert found["io"] == [*expected, UNKNOWN]
    assert found["tpp"] == [*expected, YES if limit in ("at_most", "below") else NO]


@pytest.mark.parametrize("offset, at_least, above", [
    (Decimal(0), [False, True, True, False], [False, False, True, False]),
    (Decimal("0.0001"), [False, False, True, False], [False, False, False, False]),
    (Decimal("-0.0001"), [True, True, True, False], [False, True, True, False]),
])
def test_density_is_compared_exactly_as_its_tpp_and_area(offset, at_least, above):
    """5.9199, 5.92 and 5.9201 (TPP over area, both in 1/10,000ths) against 5.92 and a step either side."""
    line = Decimal("5.92") + offset
    assert engine._at_least("density", DENSITY_PAIRS, line).tolist() == at_least
    assert engine._above("density", DENSITY_PAIRS, line).tolist() == above


@pytest.mark.parametrize("limits, expected", [
    # Each pair: the first limit fails on some rows where the second holds; both must hold.
    ({"at_least": Decimal(0), "below": Decimal("0.00005")}, [NO, YES, NO]),
    ({"at_least": Decimal(0), "at_most": Decimal(0)}, [NO, YES, NO]),
    ({"at_least": Decimal("0.0001"), "above": Decimal("-1")}, [NO, NO, YES]),
    ({"above": Decimal("-0.0001"), "at_most": Decimal(0)}, [NO, YES, NO]),
    ({"at_least": Decimal("0.0001"), "at_most": Decimal(1)}, [NO, NO, YES]),
    ({"above": Decimal(0), "below": Decimal(1)}, [NO, NO, YES]),
])
def test_a_notice_bound_holds_only_where_every_limit_holds(limits, expected):
    found = bound_answers(**limits)
    assert found["io"] == [*expected, UNKNOWN]
    assert found["tpp"][:3] == expected


def test_exact_unit_comparisons_beyond_int64_are_false_arrays():
    """A line past what an int64 of 1/10,000ths holds: no row is above it, nor at least on it,
    and the answer is still one boolean per row."""
    units = np.array([0, 9_000_000, 2**62 - 1], np.int64)
    for compare in (engine._units_above, engine._units_at_least):
        for line in (Decimal("1e30"), Decimal(2**62) / engine.SCALE):
            result = compare(units, line)
            assert result.dtype == bool and result.tolist() == [False, False, False], (compare, line)


# ------------------------------------------------------------------------------ whole chunks

RULES_2026_CN = {"as_of": dt.date(2026, 2, 1), "dest": "CN"}


def classified(columns: dict[str, list[str]], **rules) -> tuple[engine.Engine, engine.Results]:
    """One chunk of the given columns (lines numbered from 1) through a fresh engine."""
    n = len(next(iter(columns.values())))
    batch = engine.Engine(list(columns), **(rules or RULES_2026_CN))
    chunk = Chunk(np.arange(1, n + 1), {name: Cells.from_texts(texts) for name, texts in columns.items()}, {})
    return batch, batch.classify(chunk)


def fields(results: engine.Results, row: int) -> tuple:
    """(eccn, licence required, reason, error) of one row."""
    outcome = results.outcomes[results.outcome[row]]
    return outcome.eccn, outcome.license_required, outcome.reason, outcome.error


def test_reasons_name_the_paragraph_its_conditions_the_note_or_no_paragraph():
    """The reason column word for word (91 FR 1684 keeps 3A090.a.2's two conditions, TPP 1,600 and
    density 5.92, and Note 2's exclusion of chips not designed or marketed for datacenters)."""
    _, results = classified({"dense_int8_tops": ["250", "250", "250", "100", "700"],  # TPP 2,000 or 800 or 5,600
                             "die_area_mm2": ["300", "", "300", "", ""],
                             "datacenter": ["true", "", "false", "", "true"]})
    assert fields(results, 0) == ("3A090.a", True, "3A090.a.2: TPP >= 1,600 and performance density >= 5.92", None)
    assert fields(results, 1) == (None, None, "undetermined: 3A090.a, 3A090.b or outside 3A090 "
                                  "(datacenter use, performance density unknown)", None)
    assert fields(results, 2) == ("outside 3A090", False, "excluded by Note 2 to 3A090.a and 3A090.b", None)
    assert fields(results, 3) == ("outside 3A090", False, "no 3A090 paragraph applies", None)
    assert fields(results, 4) == ("3A090.a", True, "3A090.a.1: TPP >= 4,800", None)


@pytest.mark.parametrize("column, text, error", [
    ("io_bidir_gbps", "-5", "I/O rate must not be negative, got '-5'"),
    ("dram_bandwidth_gbps", "-5", "DRAM bandwidth must not be negative, got '-5'"),
    ("die_area_mm2", "-5", "die area must be greater than zero, got '-5'"),
    ("io_bidir_gbps", "abc", "I/O rate must be a decimal number, got 'abc'"),
    ("dram_bandwidth_gbps", "abc", "DRAM bandwidth must be a decimal number, got 'abc'"),
    ("die_area_mm2", "abc", "die area must be a decimal number, got 'abc'"),
    ("die_area_mm2", "0.00000", "die area must be greater than zero, got '0.00000'"),
    ("die_area_mm2", "0", "die area must be greater than zero, got '0'"),
])
def test_a_refused_amount_names_its_column_and_figure(column, text, error):
    _, results = classified({"dense_int8_tops": ["700"], column: [text]})
    assert fields(results, 0) == (None, None, None, f"line 1: {column}: {error}")


@pytest.mark.parametrize("column", ["io_bidir_gbps", "dram_bandwidth_gbps"])
@pytest.mark.parametrize("text", ["0", "0.00000", "0.5"])
def test_a_zero_or_fractional_bandwidth_is_taken(column, text):
    """I/O rate and DRAM bandwidth may be zero (a chip without the interface): not refused."""
    _, results = classified({"dense_int8_tops": ["700"], "datacenter": ["true"], column: [text]})
    assert fields(results, 0)[:2] == ("3A090.a", True)


@pytest.mark.parametrize("column, text, by_numpy", [
    ("dense_int8_tops", "0.7 POPS", True),         # 700 TOPS: whole in 1/10,000ths
    ("io_bidir_gbps", "0.00000", True),            # zero, in a form the fast parser leaves
    ("io_bidir_gbps", "0.000001", False),          # not whole in 1/10,000ths
    ("io_bidir_gbps", "999999999.99990", True),    # just under 10^9
    ("io_bidir_gbps", "1000000000", False),        # 10^9: past what the fast path holds
])
def test_figures_in_other_forms_reach_numpy_only_when_exact_in_fixed_point(column, text, by_numpy):
    columns = {"dense_int8_tops": ["700"], "datacenter": ["true"]}
    columns[column] = [text]
    _, results = classified(columns)
    assert fields(results, 0)[:2] == ("3A090.a", True)
    assert (0 not in results.exact) is by_numpy
    assert (int(results.tpp[0]) == 5600 * engine.SCALE) is by_numpy


def test_a_blank_figure_is_empty_and_the_cells_after_it_are_still_read():
    _, results = classified({"dense_int8_tops": ["  ", "0.7 POPS", "700"], "datacenter": ["true"] * 3})
    assert fields(results, 0) == (None, None, None, "line 1: no dense_* figure and no chip: nothing to classify")
    assert fields(results, 1)[:2] == fields(results, 2)[:2] == ("3A090.a", True)
    assert results.texts()[0].tolist() == [b"", b"5600", b"5600"]


def test_unresolved_names_are_counted_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(engine, "MAX_UNRESOLVED_NAMES", 2)
    batch, _ = classified({"chip": ["nope-1", "nope-2", "nope-3", "nope-4", "nope-1", "nope-5"]})
    assert list(batch.unresolved) == ["nope-1", "nope-2"]
    assert [{k: v for k, v in entry.items() if k != "suggestions"} for entry in batch.unresolved.values()] == [
        {"name": "nope-1", "rows": 2, "first": "line 1", "why": "unknown"},
        {"name": "nope-2", "rows": 1, "first": "line 2", "why": "unknown"}]
    assert all(isinstance(entry["suggestions"], list) for entry in batch.unresolved.values())
    assert batch.unresolved_left_out == 3


def test_labels_keep_a_trailing_nul_apart_and_an_empty_chunk_has_no_rows():
    labels, inverse = engine._labels(Cells.from_texts(["ab", "ab\0", "ab"]))
    assert [labels[i] for i in inverse] == ["ab", "ab\0", "ab"]
    _, results = classified({"chip": []})
    assert len(results.outcome) == 0


def test_either_joins_the_outcomes_still_possible():
    assert engine._either(["3A090.a"]) == "3A090.a"
    assert engine._either(["3A090.a", "outside 3A090"]) == "3A090.a or outside 3A090"
    assert engine._either(["3A090.a", "3A090.b", "outside 3A090"]) == "3A090.a, 3A090.b or outside 3A090"


def test_row_problems_word_for_word_each_given_once_joined():
    _, results = classified({"id": ["a", "a", "b"], "chip": ["", "", "nvidia-h100-sxm5-80gb"],
                             "dense_int8_tops": ["700", "700", "700"], "io_bidir_gbps": ["-1", "", ""],
                             "dram_bandwidth_gbps": ["-2", "", ""]})
    assert fields(results, 0)[3] == ("line 1: io_bidir_gbps: I/O rate must not be negative, got '-1'; "
                                     "dram_bandwidth_gbps: DRAM bandwidth must not be negative, got '-2'")
    assert fields(results, 1)[3] == "line 2: id: 'a' is given on an earlier line"
    assert fields(results, 2)[3] == "line 3: give a chip or its figures, not both"


def test_a_chip_named_twice_in_two_spellings_is_classified_on_both_rows():
    _, results = classified({"chip": ["nvidia-h100-sxm5-80gb", " nvidia-h100-sxm5-80gb", "amd-instinct-mi308x"]})
    tpp, _ = results.texts()
    assert fields(results, 0)[:2] == fields(results, 1)[:2] == ("3A090.a", True)
    assert tpp[0] == tpp[1] != b""
    # A catalogue chip whose TPP is not known has no TPP text (and is still classified).
    assert tpp[2] == b"" and fields(results, 2)[3] is None


def test_note_2_excludes_only_a_chip_a_paragraph_would_otherwise_control():
    """A non-datacenter chip below every paragraph is simply outside 3A090, not excluded."""
    _, results = classified({"dense_int8_tops": ["100", "250"], "die_area_mm2": ["", "300"],
                             "datacenter": ["false", "false"]})
    assert fields(results, 0) == ("outside 3A090", False, "no 3A090 paragraph applies", None)
    assert fields(results, 1) == ("outside 3A090", False, "excluded by Note 2 to 3A090.a and 3A090.b", None)


QUANTITIES = {"0": False, "1.5": False, "-1": False, "abc": False, "0.00001": False, "00": False,
              "2.0000": True, "3": True, " 4 ": True, "": True, "  ": True, " 1": True, "1e3": True, "10000000000000000": True}


def test_quantity_is_a_whole_number_above_zero_word_for_word():
    texts = list(QUANTITIES)
    _, results = classified({"dense_int8_tops": ["700"] * len(texts), "quantity": texts})
    for row, (text, taken) in enumerate(QUANTITIES.items()):
        expected = None if taken else f"line {row + 1}: quantity: must be a whole number above zero, got {text!r}"
        assert fields(results, row)[3] == expected, text


def test_datacenter_flags_in_any_case_and_spacing():
    """TPP 2,000 on 300 mm2 (density 6.67): 3A090.a.2 for a datacenter chip, Note 2 excludes
    another, and an unstated use leaves it open."""
    flags = {"true": "3A090.a", " TRUE ": "3A090.a", "Yes": "3A090.a", "1": "3A090.a",
             "false": "outside 3A090", "No": "outside 3A090", "0": "outside 3A090", " False": "outside 3A090",
             "": None, "maybe": None}
    texts = list(flags)
    _, results = classified({"dense_int8_tops": ["250"] * len(texts), "die_area_mm2": ["300"] * len(texts),
                             "datacenter": texts})
    assert [fields(results, row)[0] for row in range(len(texts))] == list(flags.values())
    assert fields(results, texts.index(""))[2].startswith("undetermined: ")
    assert fields(results, texts.index("maybe"))[3] == "line 10: datacenter: expected true, false or empty, got 'maybe'"


KNOWN = ("known columns: id, chip, quantity, dense_fp64_tflops, dense_fp32_tflops, dense_tf32_tflops, "
         "dense_fp16_tflops, dense_bf16_tflops, dense_fp8_tflops, dense_fp6_tflops, dense_fp4_tflops, "
         "dense_int16_tops, dense_int8_tops, dense_int4_tops, die_area_mm2, io_bidir_gbps, dram_bandwidth_gbps, "
         "datacenter (any other column is copied through)")
RESULT = ("is a result column (tpp, performance_density, eccn, license_required, reason, notices, error are written "
          "by tppcalc): rename it, or classify the file the earlier run read")
PER_ROW = ("reads as a per-row destination, headquarters or date, but --dest, --hq, --as-of, --edition and "
           "--as-written apply to every row and the column would not be read: split the file by destination and "
           "give the options, or rename the column to keep it as a note")


@pytest.mark.parametrize("columns, message", [
    (["chip", "chip"], "column 'chip' appears twice"),
    (["chip", "eccn"], f"column 'eccn' {RESULT}"),
    (["chip", " ECCN"], f"column ' ECCN' {RESULT}"),
    (["chip", "Dest"], f"column 'Dest' {PER_ROW}"),
    (["chip", "ship to"], f"column 'ship to' {PER_ROW}"),
    (["chip", "Ship-To"], f"column 'Ship-To' {PER_ROW}"),
    (["chip", "dense_int8_top"], f"column 'dense_int8_top' is not a column tppcalc knows (did you mean "
                                 f"'dense_int8_tops'?); {KNOWN}"),
    (["chip", "Chip"], f"column 'Chip' is not a column tppcalc knows (did you mean 'chip'?); {KNOWN}"),
    (["chip", "dense_foo"], f"column 'dense_foo' is not a column tppcalc knows; {KNOWN}"),
    (["id"], f"no chip column and no dense_* column: nothing to classify; {KNOWN}"),
])
def test_a_refused_header_word_for_word(columns, message):
    with pytest.raises(engine.InputError) as caught:
        engine.check_columns(columns, "f.csv")
    assert str(caught.value) == f"f.csv: {message}"


@pytest.mark.parametrize("columns", [["chip", "notes"], ["dense_int8_tops", "Comment"], ["chip", "dense_int8_tops"]])
def test_a_header_with_other_columns_is_taken(columns):
    engine.check_columns(columns, "f.csv")


FIXED_POINT = {  # text -> (state, 1/10,000ths): plain decimals of up to 9 integer digits and 4 decimals
    "1978.9": (engine._FAST, 19_789_000), "600": (engine._FAST, 6_000_000), ".5": (engine._FAST, 5_000),
    "5.": (engine._FAST, 50_000), "0": (engine._FAST, 0), "0.0001": (engine._FAST, 1), "9": (engine._FAST, 90_000),
    "123456789.1234": (engine._FAST, 1_234_567_891_234),
    "1234567890": (engine._OTHER, 0), "1.23456": (engine._OTHER, 0), "1..2": (engine._OTHER, 0),
    ".": (engine._OTHER, 0), "-1": (engine._OTHER, 0), "1e3": (engine._OTHER, 0), " 1": (engine._OTHER, 0),
    "1,000": (engine._OTHER, 0), "/": (engine._OTHER, 0), ":": (engine._OTHER, 0), "": (engine._EMPTY, 0),
}


def test_fixed_point_takes_plain_decimals_and_leaves_every_other_form():
    units, state = engine._fixed_point(Cells.from_texts(list(FIXED_POINT)))
    assert dict(zip(FIXED_POINT, zip(state.tolist(), units.tolist()))) == FIXED_POINT


def test_a_density_below_one_ten_thousandth_prints_as_zero():
    """TPP 0.0008 (8 x 0.0001 TOPS) on 1,000 mm2: 0.0000008, rounded down to 1/10,000ths."""
    _, results = classified({"dense_int8_tops": ["0.0001"], "die_area_mm2": ["1000"], "datacenter": ["true"]})
    assert [t.tolist() for t in results.texts()] == [[b"0.0008"], [b"0"]]


def test_a_set_of_answers_confirmed_once_is_not_checked_again_in_a_later_chunk(monkeypatch):
    """The scalar engine confirms numpy's answers once per set of answers for the whole file."""
    calls = []
    original = engine.Engine._classify_figures
    monkeypatch.setattr(engine.Engine, "_classify_figures", lambda self, *a: calls.append(a) or original(self, *a))
    batch = engine.Engine(["dense_int8_tops", "datacenter"], **RULES_2026_CN)
    for rate in ("700", "701"):  # TPP 5,600 and 5,608: the same answers, one scalar run
        results = batch.classify(Chunk(np.arange(1, 2), {"dense_int8_tops": Cells.from_texts([rate]),
                                                         "datacenter": Cells.from_texts(["true"])}, {}))
        assert fields(results, 0)[:2] == ("3A090.a", True)
    assert len(calls) == 1


def test_the_engine_defaults_name_lines_and_the_input():
    with pytest.raises(engine.InputError) as caught:
        engine.Engine(["chip", "chip"])
    assert str(caught.value) == "input: column 'chip' appears twice"


def test_labels_longer_than_eight_bytes_are_not_cut():
    labels, inverse = engine._labels(Cells.from_texts(["abcdefghi", "abcdefghj", "abcdefghi"]))
    assert [labels[i] for i in inverse] == ["abcdefghi", "abcdefghj", "abcdefghi"]


@pytest.mark.parametrize("value, text", [("1E+3", "1000"), ("4800.000", "4800"), ("12.50", "12.5"),
                                         ("1E-6", "0.000001"), ("0", "0")])
def test_decimal_text_is_plain_without_trailing_zeros(value, text):
    assert engine._decimal_text(Decimal(value)) == text


def test_a_named_edition_is_the_one_the_rows_are_classified_under():
    """Under the 2022 rule (87 FR 62186) 3A090 needs TPP 4,800 and I/O 600 GB/s: TPP 5,600 with
    no I/O rate is undetermined there, while the rules in force in 2026 control it outright."""
    columns = {"dense_int8_tops": ["700"], "datacenter": ["true"]}
    _, named = classified(columns, as_of=dt.date(2026, 2, 1), dest="CN", edition="2022-10-07")
    _, in_force = classified(columns, **RULES_2026_CN)
    assert fields(named, 0)[0] is None and "I/O rate unknown" in fields(named, 0)[2]
    assert fields(in_force, 0)[:2] == ("3A090.a", True)


def rulebook_with_conditions(count: int):
    book = default_rulebook()
    base = book.get("2023-11-17")
    many = base.model_copy(update={"paragraphs": [
        base.paragraphs[0].model_copy(update={"id": f"p{i}", "when": [{"tpp_at_least": Decimal(i + 1)}]})
        for i in range(count)], "exclusions": []})
    return book.model_copy(update={"editions": (many,)})


def test_as_many_conditions_as_a_row_packs_are_taken_one_more_is_refused_by_name():
    keywords = {"edition": "2023-11-17", "as_of": dt.date(2024, 1, 1)}
    engine.Engine(["dense_int8_tops"], rulebook=rulebook_with_conditions(engine._MAX_CONDITIONS), **keywords)
    with pytest.raises(engine.InputError) as caught:
        engine.Engine(["dense_int8_tops"], rulebook=rulebook_with_conditions(engine._MAX_CONDITIONS + 1), **keywords)
    assert str(caught.value) == ("rule edition 2023-11-17: 40 conditions in paragraphs and exclusions; batch mode "
                                 "takes at most 39")


def test_a_notice_that_names_a_chip_reaches_that_chip_only():
    """BIS's 2025-05-13 guidance names the Ascend 910B (GP10 notice). A spec row with the same
    answers as its 910B4 bin (FP16 280 TFLOPS: TPP 4,480 on 665.61 mm2, I/O unknown) does not get
    its notice."""
    _, results = classified({"chip": ["", "huawei-ascend-910b4"], "dense_fp16_tflops": ["280", ""],
                             "die_area_mm2": ["665.61", ""], "datacenter": ["true", ""]},
                            as_of=dt.date(2025, 6, 1), dest="CN")
    notices = [results.outcomes[results.outcome[row]].notices for row in range(2)]
    assert notices == ["ai-training-d5; diversion-red-flags", "gp10-ascend; ai-training-d5; diversion-red-flags"]
