"""The batch engine gives, row for row, what the scalar engine gives: on every line, one ulp
either side, with unknowns, under every edition; and its exact-text helpers are exact."""

import csv
import dataclasses
import datetime as dt
import functools
import io
import math
import re
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tppcalc.batch.io as batch_io
from tppcalc import classify, compute_metrics, spec_from_figures
from tppcalc.batch import classify_file, engine
from tppcalc.batch.engine import DENSE_COLUMNS
from tppcalc.batch.io import Cells, Chunk
from tppcalc.core.precision import PRECISIONS
from tppcalc.decisions.rules.editions import default_rulebook
from tppcalc.decisions.rules.predicates import PREDICATES
from tppcalc.errors import InputError

D = dt.date
AS_OF = [D(2022, 12, 1), D(2023, 12, 1), D(2024, 6, 1), D(2025, 2, 1), D(2026, 2, 1)]
DESTINATIONS = [None, "CN", "AE", "DE"]
HEADER = ["id", "dense_fp16_tflops", "dense_fp8_tflops", "dense_fp6_tflops", "dense_int8_tops", "dense_int4_tops",
          "die_area_mm2", "datacenter", "io_bidir_gbps", "dram_bandwidth_gbps"]
FLAGS = {"true": True, "false": False, "": None}


def lines_of(name_prefix: str) -> list[Decimal]:
    """Every line the edition data draws for one quantity (tpp, density, io, dram)."""
    found = set()
    for edition in default_rulebook().editions:
        for entry in (*edition.paragraphs, *edition.exclusions, *edition.exceptions, *edition.review_policies):
            for condition in entry.when:
                found |= {v for k, v in condition.items() if k.startswith(name_prefix)}
    return sorted(found)


TPP_LINES, DENSITY_LINES = lines_of("tpp"), lines_of("density")
IO_LINES, DRAM_LINES = lines_of("io"), lines_of("dram")


def batch_rows(rows: list[dict], header=HEADER, **rules) -> list[dict]:
    text = io.StringIO()
    writer = csv.DictWriter(text, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out = io.BytesIO()
    summary = classify_file(io.BytesIO(text.getvalue().encode()), out, input_format="csv", **rules)
    result = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert summary.rows == len(result) == len(rows)
    return result


def scalar(row: dict, **rules):
    """The scalar library's answer for a batch row, mapped as the issue specifies."""
    rates = {p: row[c] for c, p in DENSE_COLUMNS.items() if row.get(c, "").strip()}
    area = row.get("die_area_mm2", "").strip()
    spec = spec_from_figures(rates, dies=[(area, "finfet")] if area else (), datacenter=FLAGS[row.get("datacenter", "")],
                             io_bidir_gbps=row.get("io_bidir_gbps") or None,
                             dram_bandwidth_gbps=row.get("dram_bandwidth_gbps") or None)
    metrics = compute_metrics(spec)
    return metrics, classify(metrics, **rules)


def assert_same(row: dict, got: dict, **rules) -> None:
    try:
        metrics, expected = scalar(row, **rules)
    except InputError as exc:  # a figure the scalar library refuses (a die larger than a wafer): so does the row
        assert exc.problem in got["error"], (row, got)
        return
    assert got["error"] == "", (row, got)
    assert (got["eccn"] or None) == expected.eccn, (row, got, expected.reasons)
    assert got["license_required"] == {True: "true", False: "false", None: ""}[expected.license_required], (row, got)
    if expected.eccn is None:
        assert " or ".join(expected.undetermined).split(" or ")[-1] in got["reason"]
        assert all(outcome in got["reason"] for outcome in expected.undetermined), (row, got)
    assert Decimal(got["tpp"]) == metrics.tpp
    density = metrics.performance_density
    if density is None:
        assert got["performance_density"] == ""
    else:
        assert Decimal(got["performance_density"]) == Decimal(math.floor(density * 10_000)) / 10_000


def exact_decimal(value: Fraction) -> str | None:
    """``value`` as a finite decimal string, or None when it has none."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return None
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")


def ulp_neighbours(value: Decimal) -> list[str]:
    x = float(value)
    return [repr(math.nextafter(x, -math.inf)), repr(math.nextafter(x, math.inf))]


# ------------------------------------------------------------------------- every line, by sweep


def threshold_rows() -> list[dict]:
    rows = []
    for line in TPP_LINES:
        for column, precision in DENSE_COLUMNS.items():
            if column not in HEADER:
                continue
            rate = Fraction(line) / PRECISIONS[precision].bits
            texts = ([exact_decimal(rate)] if exact_decimal(rate) else []) + ulp_neighbours(Decimal(float(rate)))
            for text in texts:
                for flag in FLAGS:
                    rows.append({column: text, "datacenter": flag})
    tpp = Fraction(4736)  # int8 592: under every TPP line but 1600 and 2400
    for line in DENSITY_LINES:
        area = tpp / Fraction(line)
        for text in [exact_decimal(area) or str(float(area))] + ulp_neighbours(Decimal(float(area))):
            for flag in FLAGS:
                rows.append({"dense_int8_tops": "592", "die_area_mm2": text, "datacenter": flag})
    for line in IO_LINES:
        for text in [str(line), *ulp_neighbours(line)]:
            rows.append({"dense_int8_tops": "700", "io_bidir_gbps": text, "datacenter": "true"})
    for line in DRAM_LINES:
        for text in [str(line), *ulp_neighbours(line)]:
            rows.append({"dense_int8_tops": "700", "dram_bandwidth_gbps": text, "datacenter": "true"})
    return rows


@pytest.mark.parametrize("as_of", AS_OF)
@pytest.mark.parametrize("dest", ["CN", None])
def test_every_line_and_its_ulp_neighbours_match_the_scalar_engine(as_of, dest):
    rows = threshold_rows()
    for row, got in zip(rows, batch_rows(rows, as_of=as_of, dest=dest)):
        assert_same(row, got, as_of=as_of, dest=dest)


def test_the_sweep_reaches_each_kind_of_line():
    assert TPP_LINES and DENSITY_LINES and IO_LINES and DRAM_LINES
    assert Decimal(4800) in TPP_LINES and Decimal("5.92") in DENSITY_LINES


# ------------------------------------------------------------------------- 4800.0 on every path


FOUR_THOUSAND_EIGHT_HUNDRED = ["600", "600.0", "0600.00", "600 TOPS", "600000 GOPS", "0.6P", "600.000000000001e0",
                               "600.0000000000000000"]


@pytest.mark.parametrize("text", FOUR_THOUSAND_EIGHT_HUNDRED)
@pytest.mark.parametrize("quoted", [False, True])
def test_tpp_4800_exactly_is_3a090a_however_it_is_written(text, quoted):
    rows = [{"dense_int8_tops": text, "datacenter": "false"}]
    if quoted:  # a quote anywhere sends the block through the csv module instead of numpy
        rows.append({"id": '"quoted"', "dense_int8_tops": "1"})
    if text == "600.000000000001e0":
        got = batch_rows(rows, as_of=D(2026, 2, 1))[0]
        assert "exponent notation is not read as a rate" in got["error"]  # as spec_from_figures says
        return
    got = batch_rows(rows, as_of=D(2026, 2, 1))[0]
    assert (got["tpp"], got["eccn"], got["error"]) == ("4800", "3A090.a", "")


@pytest.mark.parametrize("column, text", [("dense_fp4_tflops", "1200"), ("dense_fp64_tflops", "75"),
                                          ("dense_fp6_tflops", "800"), ("dense_tf32_tflops", "150")])
def test_tpp_4800_from_every_bit_length(column, text):
    (got,) = batch_rows([{column: text}], header=[column], as_of=D(2024, 6, 1))
    assert (got["tpp"], got["eccn"]) == ("4800", "3A090.a")


def scalar_calls(monkeypatch) -> list:
    calls = []
    original = engine.Engine._classify_figures
    monkeypatch.setattr(engine.Engine, "_classify_figures", lambda self, *a: calls.append(a) or original(self, *a))
    return calls


def test_rows_near_a_line_are_decided_exactly_and_rechecked_apart(monkeypatch):
    """Rows on or next to a TPP line are decided by numpy's exact integers, as every row, and the
    first of each set of answers near a line gets a scalar run of its own: 600 (TPP 4800) and
    300.0000 (2400) near their lines, 700 for the rows far from any."""
    calls = scalar_calls(monkeypatch)
    on_line = ["600", "600.0", "600.00", "0600", "300.0000"]  # TPP 4800 (int8) and 2400 (with fp8 below)
    far = ["700", "700.5", "701", "702", "703"]  # one set of answers between them
    rows = [{"dense_int8_tops": t, "datacenter": "true"} for t in on_line + far]
    got = batch_rows(rows, as_of=D(2026, 2, 1))
    for row, result in zip(rows, got):
        assert_same(row, result, as_of=D(2026, 2, 1))
    assert [g["eccn"] for g in got[:4]] == ["3A090.a"] * 4
    assert sorted(rates for rates, *_ in calls) == sorted(((engine.Precision.INT8, t),) for t in ("600", "300.0000", "700"))


def test_the_numpy_path_itself_puts_4800_in_3a090a(monkeypatch):
    """With the margin off, on-line rows are decided by numpy: the fixed-point figures keep 4800 exact."""
    monkeypatch.setattr(engine, "MARGIN", 0.0)
    calls = scalar_calls(monkeypatch)
    rows = [{"dense_int8_tops": "600", "datacenter": "true"}] * 50 + [{"dense_int8_tops": "599.9999", "datacenter": "true"}]
    got = batch_rows(rows, as_of=D(2026, 2, 1))
    assert {g["eccn"] for g in got[:50]} == {"3A090.a"} and got[50]["eccn"] == ""
    assert len(calls) == 2  # one scalar check per distinct set of answers, not one per row


# ------------------------------------------------------------------------------ property test


def on_line_rates():
    choices = []
    for line in TPP_LINES:
        for column, precision in DENSE_COLUMNS.items():
            if column in HEADER:
                rate = Fraction(line) / PRECISIONS[precision].bits
                texts = ([exact_decimal(rate)] if exact_decimal(rate) else []) + ulp_neighbours(Decimal(float(rate)))
                choices += [(column, t) for t in texts]
    return st.sampled_from(choices)


decimals = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(200000), places=4, allow_nan=False)
any_rate = st.one_of(decimals.map(str), st.floats(min_value=1e-3, max_value=1e6).map(repr))


@st.composite
def spec_rows(draw):
    row = {"id": "", "datacenter": draw(st.sampled_from(list(FLAGS)))}
    if draw(st.booleans()):
        column, text = draw(on_line_rates())
        row[column] = text
    for column in draw(st.sets(st.sampled_from([c for c in HEADER if c.startswith("dense_")]), max_size=3)):
        row.setdefault(column, draw(any_rate))
    if not any(c.startswith("dense_") for c in row):
        row["dense_int8_tops"] = draw(any_rate)
    tpp = max(Decimal(t) * PRECISIONS[DENSE_COLUMNS[c]].bits for c, t in row.items() if c in DENSE_COLUMNS)
    area = draw(st.one_of(
        st.just(""), decimals.map(str),
        st.sampled_from(DENSITY_LINES).map(lambda d: exact_decimal(Fraction(tpp) / Fraction(d))
                                           or repr(float(Fraction(tpp) / Fraction(d)))),
        st.sampled_from(DENSITY_LINES).flatmap(
            lambda d: st.sampled_from(ulp_neighbours(Decimal(float(Fraction(tpp) / Fraction(d)))))),
    ))
    row["die_area_mm2"] = area
    row["io_bidir_gbps"] = draw(st.one_of(st.just(""), st.sampled_from(IO_LINES).map(str),
                                          st.sampled_from(IO_LINES).flatmap(lambda v: st.sampled_from(ulp_neighbours(v))),
                                          decimals.map(str)))
    row["dram_bandwidth_gbps"] = draw(st.one_of(st.just(""), st.sampled_from(DRAM_LINES).map(str),
                                                st.sampled_from(DRAM_LINES).flatmap(
                                                    lambda v: st.sampled_from(ulp_neighbours(v))),
                                                decimals.map(str)))
    return row


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spec_rows(), min_size=1, max_size=25), st.sampled_from(AS_OF), st.sampled_from(DESTINATIONS))
def test_batch_equals_scalar_row_for_row(rows, as_of, dest):
    for row, got in zip(rows, batch_rows(rows, as_of=as_of, dest=dest)):
        assert_same(row, got, as_of=as_of, dest=dest)


# -------------------------------------------------------------------------- engine internals


# Each predicate on rows one step below, on and above its line, and with the figure missing, with
# the answer the rule text gives: "or more" (>=) for *_at_least (3A090 TN 2: "4800 or more"; 2022:
# I/O "600 GB/s or more"), "less than" (<) for *_below (91 FR 1684: DRAM "less than 6,500"), unknown
# for a missing figure. Batch rows describe processors with no HBM stacks: never a memory item
# (3A090.c TN 1), and HBM density unknown.
PREDICATE_CASES = {
    "tpp_at_least": (4800, "tpp", ["599.999", "600", "600.001"], ["no", "yes", "yes"]),
    "tpp_below": (4800, "tpp", ["599.999", "600", "600.001"], ["yes", "no", "no"]),
    "density_at_least": (Decimal("5.92"), "area", ["500.001", "500", "499.999", None], ["no", "yes", "yes", "unknown"]),
    "density_below": (Decimal("5.92"), "area", ["500.001", "500", "499.999", None], ["yes", "no", "no", "unknown"]),
    "io_at_least": (600, "io", ["599.999", "600", "600.001", None], ["no", "yes", "yes", "unknown"]),
    "dram_bandwidth_below": (6500, "dram", ["6499.999", "6500", "6500.001", None], ["yes", "no", "no", "unknown"]),
    "datacenter": (True, "datacenter", [True, False, None], ["yes", "no", "unknown"]),
    "not_datacenter": (True, "datacenter", [True, False, None], ["no", "yes", "unknown"]),
    "memory_item": (True, "datacenter", [True, False, None], ["no", "no", "no"]),
    "hbm_density_above": (2, "datacenter", [True, False, None], ["unknown", "unknown", "unknown"]),
}
CODES = {"no": 0, "unknown": 1, "yes": 2}  # the engine's answer codes (NOT is 2 - x)


def predicate_rows(varied: str, figures: list) -> list:
    """Metrics of one-unit rows (INT8 370 TOPS: TPP 2960 over 500 mm2 is density 5.92), one per figure."""
    def spec(figure):
        int8 = figure if varied == "tpp" else 370
        area = figure if varied == "area" else "500"
        return spec_from_figures({"int8": int8}, dies=[(area, "finfet")] if area else (),
                                 datacenter=figure if varied == "datacenter" else True,
                                 io_bidir_gbps=figure if varied == "io" else None,
                                 dram_bandwidth_gbps=figure if varied == "dram" else None)
    return [compute_metrics(spec(figure)) for figure in figures]


def column_inputs(metrics: list) -> tuple[dict, np.ndarray]:
    """The engine's column inputs for these rows, as it holds them: exact integers in 1/10,000ths,
    density as a pair (here its numerator and denominator), each with a known mask."""
    def units(value_of):
        found = [value_of(m) for m in metrics]
        return (np.array([0 if v is None else int(Fraction(v) * 10_000) for v in found], np.int64),
                np.array([v is not None for v in found]))

    densities = [m.performance_density for m in metrics]
    ratios = [(0, 1) if d is None else Fraction(d).as_integer_ratio() for d in densities]
    values = {"tpp": units(lambda m: m.tpp),
              "density": ((np.array([a for a, _ in ratios], np.int64), np.array([b for _, b in ratios], np.int64)),
                          np.array([d is not None for d in densities])),
              "io": units(lambda m: m.io_bidir_gbps), "dram": units(lambda m: m.dram_bandwidth_gbps)}
    flags = {True: CODES["yes"], False: CODES["no"], None: CODES["unknown"]}
    return values, np.array([flags[m.datacenter] for m in metrics], np.int8)


@pytest.mark.parametrize("name", sorted(PREDICATES))
def test_the_column_predicates_are_the_rule_predicates(name):
    assert set(PREDICATES) == set(PREDICATE_CASES)
    line, varied, figures, expected = PREDICATE_CASES[name]
    metrics = predicate_rows(varied, figures)
    words = {code: word for word, code in CODES.items()}
    predicate = PREDICATES[name]
    vectorised = [words[int(code)] for code in predicate.vector(engine._ChunkColumns(*column_inputs(metrics)), line)]
    scalar = [predicate.scalar(m, m.primary, line).value for m in metrics]
    assert vectorised == scalar == expected


def test_a_wrong_vectorised_answer_stops_the_batch(monkeypatch):
    wrong = dataclasses.replace(PREDICATES["tpp_at_least"], vector=PREDICATES["tpp_below"].vector)
    monkeypatch.setitem(PREDICATES, "tpp_at_least", wrong)
    with pytest.raises(RuntimeError, match="disagree"):
        batch_rows([{"dense_int8_tops": "2000", "datacenter": "true"}], as_of=D(2026, 2, 1))


def test_more_conditions_than_a_row_can_pack_is_refused():
    book = default_rulebook()
    base = book.get("2023-11-17")
    many = base.model_copy(update={"paragraphs": [
        base.paragraphs[0].model_copy(update={"id": f"p{i}", "when": [{"tpp_at_least": Decimal(i + 1)}]})
        for i in range(engine._MAX_CONDITIONS + 1)]})
    with pytest.raises(engine.InputError, match="conditions"):
        engine.Engine(["dense_int8_tops"], edition="2023-11-17", as_of=D(2024, 1, 1),
                      rulebook=book.model_copy(update={"editions": (many,)}))


@given(st.lists(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=50))
def test_vectorised_fixed_point_text_equals_the_python_text(values):
    texts = engine._fixed_texts(np.array(values, np.int64)).tolist()
    assert texts == [engine._fixed_text(v).encode() for v in values]


@given(st.lists(st.one_of(decimals.map(str), st.text(alphabet="0123456789.+-e ,*", max_size=16)), min_size=1,
                max_size=40))
def test_the_fixed_point_parser_is_exact_or_defers(texts):
    units, state = engine._fixed_point(batch_io.Cells.from_texts(texts))
    for text, value, kind in zip(texts, units.tolist(), state.tolist()):
        if kind == engine._FAST:
            assert Decimal(value) / 10_000 == Decimal(text)
        else:
            assert kind == (engine._EMPTY if text == "" else engine._OTHER)



def plain_decimal_units(text: str) -> int | None:
    """The fixed-point parser's grammar, written apart: digits with at most one point, at least one
    digit, at most 9 before the point and 4 after; its value in 1/10,000ths, or None."""
    match = re.fullmatch(r"([0-9]*)(?:\.([0-9]*))?", text)
    if not match or not (match[1] or match[2]) or len(match[1]) > 9 or len(match[2] or "") > 4:
        return None
    return int(Decimal(text) * 10_000)


@given(st.lists(st.text(alphabet=st.sampled_from("0123456789.") | st.sampled_from("0123456789.-e ,\0\xe9"),
                        max_size=16), min_size=1, max_size=40))
def test_the_fixed_point_parser_takes_exactly_the_plain_decimals(texts):
    """Every plain decimal is taken, at its exact value, and nothing else, wherever the cells lie:
    apart, and side by side in one block as the CSV reader leaves them (the parser reads whole
    words, so the bytes after a cell, the next cells, must never count)."""
    widths = np.array([len(t.encode()) for t in texts])
    block = ",".join(texts).encode()
    ends = np.cumsum(widths + 1) - 1
    for cells in (batch_io.Cells.from_texts(texts), batch_io.Cells(block, ends - widths, ends)):
        units, state = engine._fixed_point(cells)
        for text, value, kind in zip(texts, units.tolist(), state.tolist()):
            expected = plain_decimal_units(text)
            if expected is not None:
                assert (kind, value) == (engine._FAST, expected), text
            else:
                assert kind == (engine._EMPTY if text == "" else engine._OTHER), text

def test_results_do_not_depend_on_where_the_file_is_cut(monkeypatch):
    rows = threshold_rows()[:120] + [{"id": '"q"', "dense_int8_tops": "3000", "die_area_mm2": "500"}] * 3
    whole = batch_rows(rows, as_of=D(2026, 2, 1), dest="CN")
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=61))
    assert batch_rows(rows, as_of=D(2026, 2, 1), dest="CN") == whole


@pytest.mark.parametrize("as_of", ["", "2026-13-01", "yesterday"])
def test_an_empty_or_unreadable_as_of_is_an_error_not_today(as_of):
    # Only a missing date (None) means today; "" came out as today's answer, as classify() refuses.
    with pytest.raises(InputError, match="as_of"):
        classify_file(io.BytesIO(b"chip\nH100 SXM\n"), io.BytesIO(), input_format="csv", dest="CN", as_of=as_of)


def test_rows_on_an_io_or_dram_line_are_decided_exactly_by_numpy(monkeypatch):
    """I/O and DRAM figures are compared as exact integers in 1/10,000ths, so a row on one of
    their lines (I/O 900, a letter's bound; DRAM 4000) needs no scalar run of its own: a quarter
    of a spec sheet can sit on such a line. One scalar check per distinct set of answers."""
    calls = scalar_calls(monkeypatch)
    rows = [{"id": f"r{i}", "dense_int8_tops": str(700 + i), "datacenter": "true", "io_bidir_gbps": io,
             "dram_bandwidth_gbps": dram}
            for i, (io, dram) in enumerate([("900", "4000")] * 20 + [("899.9999", "3999.9999")] * 20)]
    got = batch_rows(rows, as_of=D(2026, 2, 1), dest="CN")
    for row, result in zip(rows, got):
        assert_same(row, result, as_of=D(2026, 2, 1), dest="CN")
    assert len(calls) == 2


@given(st.lists(st.tuples(st.integers(0, 3**39), st.integers(0, 3**39)), min_size=1, max_size=40))
def test_unique_rows_is_numpys_unique_over_rows(pairs):
    array = np.array(pairs, np.int64)
    keys, first, inverse = engine._unique_rows(array)
    expected_keys, expected_first, expected_inverse = np.unique(array, axis=0, return_index=True, return_inverse=True)
    assert (keys == expected_keys).all() and (first == expected_first).all()
    assert (inverse == expected_inverse.ravel()).all()


def test_exact_unit_comparisons_against_lines_with_many_digits():
    """units / 10,000 against a line, exactly: 900 is below 900.000...01 (32 digits, past the
    decimal module's default precision of 28) and at least 899.99995."""
    units = np.array([9_000_000, 9_000_001, 8_999_999], np.int64)
    above_900 = Decimal("900.00000000000000000000000000001")
    assert engine._units_at_least(units, above_900).tolist() == [False, True, False]
    assert engine._units_above(units, above_900).tolist() == [False, True, False]
    assert engine._units_at_least(units, Decimal("899.99995")).tolist() == [True, True, False]
    assert engine._units_above(units, Decimal("900")).tolist() == [False, True, False]
    assert engine._units_at_least(units, Decimal("1e30")).tolist() == [False] * 3


@pytest.mark.parametrize("column, text", [("io_bidir_gbps", "899.99999999999999999999999999999"),
                                          ("dram_bandwidth_gbps", "3999.99999999999999999999999999999"),
                                          ("dram_bandwidth_gbps", "4000.00000000000000000000000000001")])
def test_a_figure_with_more_digits_than_decimal_precision_is_not_rounded_onto_a_line(column, text):
    """32 significant digits: one ten-thousandth scaling in the decimal module's default context
    (28 digits) would round it onto the line, where an exact integer comparison takes it as on."""
    rows = [{"id": "a", "dense_int8_tops": "700", "datacenter": "true", column: text}]
    (got,) = batch_rows(rows, as_of=D(2026, 2, 1), dest="CN")
    assert_same(rows[0], got, as_of=D(2026, 2, 1), dest="CN")


def test_a_density_line_too_fine_for_int64_products_sends_its_rows_to_the_scalar_engine():
    """Density is compared by cross-multiplying with the line's numerator and denominator; a line
    written to 20 decimals (denominator 10^20) would overflow an int64 product, so rows with a die
    area go to the scalar engine one by one, with its answers, and rows without one stay on numpy."""
    fine = Decimal("5.92000000000000000001")
    book = default_rulebook()
    base = book.get("2023-11-17")
    paragraphs = [p.model_copy(update={"when": [{k: fine if v == Decimal("5.92") else v for k, v in c.items()}
                                                for c in p.when]}) for p in base.paragraphs]
    edition = base.model_copy(update={"paragraphs": paragraphs})
    columns = {"dense_int8_tops": ["592", "593", "250"], "die_area_mm2": ["800", "800", ""],
               "datacenter": ["true"] * 3}  # density 5.92 (below the fine line), 5.93, and none
    batch = engine.Engine(list(columns), edition="2023-11-17", as_of=D(2024, 1, 1),
                          rulebook=book.model_copy(update={"editions": (edition,)}))
    chunk = Chunk(np.arange(1, 4), {name: Cells.from_texts(texts) for name, texts in columns.items()}, {})
    results = batch.classify(chunk)
    assert [results.outcomes[o].eccn for o in results.outcome] == ["3A090.b", "3A090.a", None]  # b.2, a.2, unknown
    assert sorted(results.exact) == [0, 1]  # the rows the scalar engine classified itself
