import pytest

from tppcalc.core.precision import PRECISIONS, Precision, bit_length, parse_precision
from tppcalc.errors import UnknownPrecisionError

EXPECTED_BITS = {"fp64": 64, "fp32": 32, "tf32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "fp6": 6,
                 "fp4": 4, "int16": 16, "int8": 8, "int4": 4}


def test_registry_holds_every_precision_with_the_rule_bit_length():
    assert {p.value: bit_length(p) for p in Precision} == EXPECTED_BITS
    assert set(PRECISIONS) == set(Precision)


@pytest.mark.parametrize("name", ["FP8", " fp8 ", "Fp8"])
def test_names_are_case_and_space_insensitive(name):
    assert parse_precision(name) is Precision.FP8


def test_unknown_precision_names_itself_and_the_known_ones():
    with pytest.raises(UnknownPrecisionError) as info:
        parse_precision("fp9")
    assert "'fp9'" in str(info.value)
    assert "int4" in str(info.value)
