from decimal import Decimal

import pytest

from tppcalc.errors import InputError, SparseFigureError
from tppcalc.exact import format_number, positive, to_decimal


@pytest.mark.parametrize(
    ("given", "expected"),
    [("1978.9", "1978.9"), (1978.9, "1978.9"), (600, "600"), (" 3,958 ", "3958"), ("1e3", "1E+3"),
     (Decimal("0.1"), "0.1")],
)
def test_values_become_the_decimal_that_was_written(given, expected):
    assert to_decimal(given) == Decimal(expected)


def test_a_float_is_read_by_its_shortest_repr_not_its_binary_expansion():
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(0.1) != Decimal(0.1)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", float("nan"), float("inf"), "", "abc", True, None, "1.2.3"])
def test_non_finite_and_non_numbers_are_refused(bad):
    with pytest.raises(InputError):
        to_decimal(bad)


@pytest.mark.parametrize("bad", ["3958*", "3958 sparse", "3,958 (with sparsity)", "3958sparse"])
def test_sparse_markers_are_refused(bad):
    with pytest.raises(SparseFigureError, match="dense"):
        to_decimal(bad)


@pytest.mark.parametrize("bad", ["0", "-1", 0, -0.5])
def test_positive_refuses_zero_and_negatives(bad):
    with pytest.raises(InputError, match="greater than zero"):
        positive(bad)


def test_format_number_keeps_integers_exact_and_rounds_the_rest():
    assert format_number(Decimal("15831.2")) == "15,831.2"
    assert format_number(Decimal(4800)) == "4,800"
    assert format_number(None) == "unknown"
