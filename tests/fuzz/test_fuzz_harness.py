"""The harness's own parts: the order of answers, the isolation of a case, the hostile writers.

The order's expected values come from issue 14's statement of the property ("a fault may move an
answer only toward undetermined or more controlled"; licence True > None > False; controlled >
undetermined > outside), not from tppcalc.
"""

from __future__ import annotations

import csv
import io
import json
import time
import tomllib

import pytest
from fuzz_batch import BATCH_COLUMNS, BATCH_ROWS, row_answer, write_rows
from fuzz_isolate import run_isolated
from fuzz_mutate import HUGE_INTEGER, deep_nesting, exact_country, mutate_tree
from fuzz_order import Answer, check_flip, eccn_rank, permissive_flip
from fuzz_writers import dump_json, dump_toml

A = Answer.of


@pytest.mark.parametrize(("original", "mutant", "flips"), [
    (A("3A090.a", None, True), A("3A090.a", None, True), False),
    (A("3A090.a", None, True), A(None, ["3A090.a", "outside 3A090"], None), False),  # toward undetermined
    (A("3A090.a", None, True), Answer.refused(), False),                               # refused: fail closed
    (A("3A090.a", None, True), A("outside 3A090", None, False), True),
    (A("3A090.a", None, True), A("3A090.b", None, True), True),                        # a dropped to b
    (A("3A090.a", None, True), A(None, ["3A090.b", "outside 3A090"], None), True),     # a no longer possible
    (A("3A090.a", None, True), A("3A090.a", None, None), False),                       # licence open
    (A("3A090.a", None, None), A("3A090.a", None, False), True),                       # open to "not required"
    (A(None, ["3A090.a", "outside 3A090"], None), A("3A090.a", None, True), False),    # more controlled
    (A(None, ["3A090.a", "outside 3A090"], None), A("outside 3A090", None, False), True),
    (A("outside 3A090", None, False), A(None, ["3A090.a", "outside 3A090"], None), False),
    (A("outside 3A090", None, False), A("outside 3A090", None, False), False),
    (A("4A090.a", None, True), A("outside 4A090", None, True), True),                  # a node losing its GPUs
])
def test_a_flip_is_any_move_away_from_controlled_or_undetermined(original, mutant, flips):
    assert (permissive_flip(original, mutant) is not None) is flips


def test_outcomes_rank_a_above_b_and_c_above_outside_and_unknown_words_as_controlled():
    assert eccn_rank("3A090.a") == eccn_rank("4A090.a") > eccn_rank("3A090.b") == eccn_rank("3A090.c")
    assert eccn_rank("3A090.b") > eccn_rank("outside 3A090") == eccn_rank("outside 4A090")
    assert eccn_rank("5A992") == eccn_rank("3A090.a")  # an outcome the reference does not know


@pytest.mark.parametrize(("original", "mutant", "flips"), [
    ("fail", "pass", True), ("undetermined", "pass", True), ("pass", "pass", False),
    ("pass", "undetermined", False), ("fail", "undetermined", False), ("undetermined", "fail", False),
])
def test_a_fleet_check_may_not_pass_after_a_fault(original, mutant, flips):
    assert (check_flip(original, mutant) is not None) is flips


class Always:
    """A chooser that picks what it is told: the path to mutate, then the text to set."""

    def __init__(self, *picks):
        self.picks = list(picks)

    def choice(self, options):
        pick = self.picks.pop(0)
        assert pick in options
        return pick


@pytest.mark.parametrize(("field", "text", "plausible"), [
    ("country", "NA", True),          # Namibia (seed 77, fleet case 2470: a node moved from AE)
    ("operator_hq", "NA", True),
    ("operator", "NA", False),        # a placeholder in a name
    ("country", "N/A", False),
    ("country", "\x1b[31mred\x1b[0m", False),
])
def test_a_country_set_to_a_real_code_is_real_data_and_a_placeholder_elsewhere_is_not(field, text, plausible):
    _, described = mutate_tree({field: "AE"}, Always((field,), text), "text")
    assert described.plausible is plausible


def test_an_isolated_case_that_loops_is_reported_as_a_hang_within_its_limit():
    start = time.monotonic()
    result = run_isolated(time.sleep, 60, time_limit=1.0)
    assert result.status == "hang" and time.monotonic() - start < 8


def test_an_isolated_case_that_allocates_without_bound_is_stopped_by_its_memory_budget():
    result = run_isolated(bytearray, 4 << 30, memory_budget=256 << 20)
    assert result.status == "memory"


def test_an_isolated_case_reports_its_exception_and_its_value():
    assert run_isolated(int, "12").value == 12
    failed = run_isolated(int, "x")
    assert failed.status == "exception" and "ValueError" in failed.detail


def test_hostile_json_keeps_numbers_past_the_digit_limit_and_deep_nesting():
    text = dump_json({"n": HUGE_INTEGER, "deep": deep_nesting(3000), "nan": float("nan")})
    assert "1" + "0" * 5000 + "," in text and text.count("[") == 3001 and "NaN" in text


def test_hostile_toml_round_trips_what_a_spec_file_holds():
    document = {"sources": {"a": {"title": "t\x1b"}}, "chip": [{"id": "x", "n": 3, "deep": deep_nesting(400)}]}
    parsed = tomllib.loads(dump_toml(document))
    assert parsed["sources"]["a"]["title"] == "t\x1b" and parsed["chip"][0]["n"] == 3


@pytest.mark.parametrize("line_end", ["\r", "\r\n", "\n", "mixed"])
def test_batch_files_written_with_any_line_end_parse_back_to_the_same_rows(line_end):
    rows = [{"id": key, **values} for key, values in BATCH_ROWS.items()]
    text = write_rows("csv", list(BATCH_COLUMNS), rows, line_end=line_end).decode()
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["id"] for r in parsed] == list(BATCH_ROWS)


def test_batch_jsonl_lines_hold_every_column():
    rows = [{"id": "a", "chip": "H20"}, {"id": "b", "dense_int8_tops": "600"}]
    lines = write_rows("jsonl", list(BATCH_COLUMNS), rows).decode().splitlines()
    assert [set(json.loads(line)) for line in lines] == [set(BATCH_COLUMNS)] * 2


def test_a_batch_row_reads_as_error_undetermined_or_definite():
    assert row_answer({"error": "line 2: bad"}) == Answer.refused()
    open_row = row_answer({"eccn": "", "license_required": "",
                           "reason": "undetermined: 3A090.a, 3A090.b or outside 3A090 (density unknown)"})
    assert open_row == A(None, ["3A090.a", "3A090.b", "outside 3A090"], None)
    assert row_answer({"eccn": "3A090.a", "license_required": "true"}) == A("3A090.a", None, True)


@pytest.mark.parametrize(("text", "code"), [
    ("China", "CN"), ("cn", "CN"), ("CHN", "CN"), ("People's Republic of China", "CN"), ("Taiwan", "TW"),
    ("XX", None), ("Chna", None), ("", None), ("D", None), ("Korea", None), ("UAE", None),
    ("Cn ", "CN"), (" us ", "US"), ("UK", "GB"), ("Macau", "MO"),  # padding and the README's everyday names
    ("cn\n", None), ("\x1eUS", None), ("US\u3000", None), (" ", None),  # garbling
])
def test_exact_country_takes_only_iso_codes_and_names(text, code):
    assert exact_country(text) == code


def test_the_writers_write_integers_past_pythons_digit_limit():
    # A batch mutant holding a 5,001-digit int stopped the whole campaign: str() refuses it.
    from fuzz_batch import _cell_text
    from fuzz_writers import dump_json, dump_toml

    huge = 10**5000
    assert dump_json({"a": huge}) == '{"a": 1' + "0" * 5000 + "}"
    assert dump_toml({"a": huge}) == '"a" = 1' + "0" * 5000 + "\n"
    assert _cell_text(-huge) == "-1" + "0" * 5000


def test_batch_output_with_a_cell_past_csvs_field_limit_is_read_back():
    # A batch mutant's 200 KB cell, echoed in the output, ended the full campaign (_csv.Error).
    import csv as csv_module

    from fuzz_batch import batch_rows
    from fuzz_cases import Outcome
    from fuzz_isolate import Isolated

    cell = "x" * 200_000
    outcome = Outcome(Isolated("ok"), outputs={"out.csv": f"note\n{cell}\n".encode()})
    assert batch_rows(outcome) == [{"note": cell}]
    assert csv_module.field_size_limit() == 131072  # the default is back for the cases that follow
