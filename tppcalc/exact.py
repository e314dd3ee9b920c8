"""Exact numbers: decimal figures in, exact rationals out, never a binary float on the way.

Datasheet figures are decimal strings ("1978.9"). They are held as ``decimal.Decimal`` and every
product and sum is done in a Decimal context that *traps* inexact results, so a threshold
comparison can never be flipped by rounding. Division (performance density) is the one operation
that is not closed over decimals; it is done with ``fractions.Fraction``.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from fractions import Fraction

from tppcalc.errors import InputError, SparseFigureError

# 80 significant digits: far beyond any product of datasheet figures; Inexact traps anything else.
EXACT = decimal.Context(
    prec=80,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation, decimal.Overflow],
)

# Markers people put next to sparse datasheet figures ("3958*", "3,958 sparse", "(with sparsity)").
_SPARSE_MARK = re.compile(r"(sparse|sparsity|\*|\bsp\b)", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def to_decimal(value: object, *, what: str = "value") -> Decimal:
    """Turn a user or file value into an exact finite Decimal.

    Accepts Decimal, int, str and float. A float is taken by its shortest repr, i.e. the decimal
    the writer typed (``1978.9`` stays 1978.9, not 1978.900000000000090949...). Thousands
    separators are accepted in strings; NaN, infinities and sparse markers are refused.
    """
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number, got a boolean")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
        if number is None:
            raise InputError(f"{what} must be finite, got {value!r}")
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        if _SPARSE_MARK.search(text):
            raise SparseFigureError(
                f"{what} {value!r} is marked sparse; give the dense figure "
                "(TPP counts dense operations only, 3A090 Technical Note 2 item 3)"
            )
        if not _PLAIN_NUMBER.match(text):
            raise InputError(f"{what} must be a decimal number, got {value!r}")
        number = Decimal(text)
    else:
        raise InputError(f"{what} must be a number, got {type(value).__name__}")
    if not number.is_finite():
        raise InputError(f"{what} must be finite, got {value!r}")
    return number


def positive(value: object, *, what: str = "value") -> Decimal:
    """An exact Decimal that must be strictly greater than zero."""
    number = to_decimal(value, what=what)
    if number <= 0:
        raise InputError(f"{what} must be greater than zero, got {value!r}")
    return number


def ratio(numerator: Decimal, denominator: Decimal) -> Fraction:
    """Exact quotient of two Decimals.

    Built from the two integer ratios in one step: ``Fraction(a) / Fraction(b)`` normalises three
    Fractions on the way and costs three times as much.
    """
    n1, d1 = numerator.as_integer_ratio()
    n2, d2 = denominator.as_integer_ratio()
    return Fraction(n1 * d2, d1 * n2)


def to_plain(x: Decimal | Fraction | int) -> int | float:
    """A JSON-friendly number: an int when integral, else the nearest float (display only)."""
    if isinstance(x, int):
        return x
    if isinstance(x, Decimal):
        return int(x) if x == x.to_integral_value() else float(x)
    return x.numerator if x.denominator == 1 else float(x)


def format_number(x: Decimal | Fraction | int | None, digits: int = 3) -> str:
    """Human formatting at the edge: exact integers stay exact, others round to ``digits``."""
    if x is None:
        return "unknown"
    if isinstance(x, Fraction):
        if x.denominator == 1:
            return f"{x.numerator:,}"
        x = Decimal(x.numerator) / Decimal(x.denominator)
    number = Decimal(x)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    text = f"{number:,.{digits}f}".rstrip("0").rstrip(".")
    return text
