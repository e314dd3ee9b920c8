"""Tests written for the mutants of tppcalc/batch/engine.py that the batch tests let through
(issue 17, bench/RESULTS.md "Mutation testing"). Expected values come from the rule text's
comparisons ("at least" is >=, "above" >, "at most" <=, "below" <, an unknown figure is unknown)
or from the scalar engine, which the batch engine must agree with row by row."""

from decimal import Decimal

import numpy as np
import pytest

from tppcalc.batch import engine
from tppcalc.decisions.rules.editions import Bound

NO, UNKNOWN, YES = "no", "unknown", "yes"
WORDS = {engine._NO: NO, engine._UNKNOWN: UNKNOWN, engine._YES: YES}

# I/O rates in 1/10,000ths of a GB/s: one step below 900, on it, one step above, then not given.
IO_UNITS = np.array([8_999_999, 9_000_000, 9_000_001, 0], np.int64)
IO_KNOWN = np.array([True, True, True, False])
# TPP as numpy holds it (float64): the same three places around 4,800, then a far one.
TPP_VALUES = np.array([4799.9999, 4800.0, 4800.0001, 1.0])
TPP_KNOWN = np.ones(4, bool)


def bound_answers(**limits) -> dict[str, list[str]]:
    """The answers of one bound on the I/O rows (exact integers) and on the TPP rows (floats)."""
    values = {"io": (IO_UNITS, IO_KNOWN), "tpp": (TPP_VALUES, TPP_KNOWN)}
    found = {}
    for figure, line in (("io", Decimal(900)), ("tpp", Decimal(4800))):
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
    """Each limit alone, on the exact-integer figures and on the float ones; an unknown I/O rate
    is unknown, a far TPP is on the side the limit puts it."""
    found = bound_answers(**{limit: Decimal(0)})
    assert found["io"] == [*expected, UNKNOWN]
    assert found["tpp"] == [*expected, YES if limit in ("at_most", "below") else NO]


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
