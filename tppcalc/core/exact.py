"""Exact numbers: decimal figures in, exact rationals out, never a binary float on the way.

Datasheet figures are decimal strings ("1978.9"). They are held as ``decimal.Decimal`` and every
product and sum is done in a Decimal context that *traps* inexact results, so a threshold
comparison can never be flipped by rounding. Division (performance density) is the one operation
that is not closed over decimals; it is done with ``fractions.Fraction``.

Every figure enters through ``to_decimal``, which builds the Decimal exactly from what was
written (never through a context, whose default 28 digits would round) and bounds it: at most
``MAX_SIGNIFICANT_DIGITS`` significant digits and a magnitude within ``10**±MAX_MAGNITUDE``. Any
sum or product of such figures fits ``EXACT``'s precision, so its traps can never fire on user
input; a figure outside the bounds is an InputError, not a decimal.Overflow traceback.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from fractions import Fraction

from tppcalc.errors import InputError, SparseFigureError

# Accepted figures: far beyond any datasheet (TPP of order 1e4, training operations 1e26), and
# small enough that every sum and product the metrics form of them stays exact in EXACT.
MAX_SIGNIFICANT_DIGITS = 60
MAX_MAGNITUDE = 40  # nonzero figures lie in [1e-40, 1e40)

# 400 significant digits: a sum of two figures at opposite magnitudes spans 80 + 60 digits, and
# products and the readings' scalings add a few more. Inexact traps anything beyond, so a result
# is exact or an error, never rounded. (Precision is a cap, not a cost: exact operands stay small.)
EXACT = decimal.Context(
    prec=400,
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
    elif isinstance(value, float):  # nan and inf pass here and are refused as not finite below
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        if _SPARSE_MARK.search(text):
            raise SparseFigureError(
                f"{what} {value!r} is marked sparse; give the dense figure "
                "(TPP counts dense operations only, 3A090 Technical Note 2 item 3)"
            )
        if not _PLAIN_NUMBER.match(text):
            raise InputError(f"{what} must be a decimal number, got {_shown(value)}")
        try:  # the constructor is exact; it only fails on exponents beyond any context's reach
            number = Decimal(text)
        except decimal.InvalidOperation:
            raise InputError(f"{what} {_shown(value)} is out of range") from None
    else:
        raise InputError(f"{what} must be a number, got {type(value).__name__}")
    if not number.is_finite():
        raise InputError(f"{what} must be finite, got {value!r}")
    return _bounded(number, value, what)


def _bounded(number: Decimal, value: object, what: str) -> Decimal:
    """``number`` if it lies within the accepted digits and magnitude (see the module notes)."""
    sign, digits, exponent = number.as_tuple()
    if not any(digits):  # a zero: 0E+999999 is plain 0, not a million-digit string when printed
        return number if -MAX_MAGNITUDE <= exponent <= MAX_MAGNITUDE else Decimal(0)
    if len(digits) > MAX_SIGNIFICANT_DIGITS:  # trailing zeros are exact but not significant
        kept = len(digits)
        while digits[kept - 1] == 0:
            kept -= 1
        if kept > MAX_SIGNIFICANT_DIGITS:
            raise InputError(f"{what} {_shown(value)} has {kept} significant digits; at most "
                             f"{MAX_SIGNIFICANT_DIGITS} are taken")
        number = Decimal((sign, digits[:kept], exponent + len(digits) - kept))
    if not -MAX_MAGNITUDE <= number.adjusted() < MAX_MAGNITUDE:
        raise InputError(f"{what} {_shown(value)} is out of range: nonzero figures lie between "
                         f"1e-{MAX_MAGNITUDE} and 1e{MAX_MAGNITUDE}")
    return number


def _shown(value: object) -> str:
    """A value for an error message, shortened: a 100,000-digit figure must not fill the screen."""
    if isinstance(value, int) and value.bit_length() >= 1000:  # repr refuses ints over 4,300 digits
        return f"<a {value.bit_length()}-bit integer>"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-12:]} ({len(text)} characters)"


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


_MOST_PLACES = 100  # bounded figures differ from a line by far fewer places than this


def format_number(x: Decimal | Fraction | int | None, digits: int = 3) -> str:
    """Human formatting at the edge: exact integers stay exact, others round to ``digits``.

    A value that is not whole never prints as a whole number: 4,799.99...9 rounded to 3 places
    would read "4,800", the 3A090.a line it is below, so it gets the places it needs instead."""
    if x is None:
        return "unknown"
    text = _rounded(x, digits)
    if "." in text or _whole(x):
        return text
    exact = Fraction(x)
    for places in range(digits + 1, _MOST_PLACES + 1):
        finer = round(exact, places)
        if finer.denominator != 1:
            whole, part = divmod(abs(finer.numerator) * (10 ** places // finer.denominator), 10 ** places)
            return f"{'-' if finer < 0 else ''}{whole:,}.{str(part).zfill(places).rstrip('0')}"
    return f"~{text}"


def _whole(x: Decimal | Fraction | int | float) -> bool:
    if isinstance(x, Fraction):
        return x.denominator == 1
    if isinstance(x, float):  # a display figure (density from a float column) may come as a float
        return x.is_integer()
    return isinstance(x, int) or x == x.to_integral_value()


def _rounded(x: Decimal | Fraction | int, digits: int) -> str:
    if isinstance(x, Fraction):
        if x.denominator == 1:
            return f"{x.numerator:,}"
        x = Decimal(x.numerator) / Decimal(x.denominator)
    number = Decimal(x)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    text = f"{number:,.{digits}f}".rstrip("0").rstrip(".")
    return text
