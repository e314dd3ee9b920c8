"""The precisions a MAC unit can run, with the bit length the rule multiplies by.

3A090 Technical Note 2, item 1.c: the 'bit length of the operation' of a multiply-accumulate is the
largest bit length of the *inputs to the multiply*, so an FP8 x FP8 -> FP32 MAC counts 8 bits and
the accumulator width never matters. Where the text leaves the count open (TF32) the registry holds
the primary reading and the alternative; ``readings.py`` decides which one a computation uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tppcalc.errors import UnknownPrecisionError


class Precision(StrEnum):
    FP64 = "fp64"
    FP32 = "fp32"
    TF32 = "tf32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    FP6 = "fp6"
    FP4 = "fp4"
    INT16 = "int16"
    INT8 = "int8"
    INT4 = "int4"


@dataclass(frozen=True)
class PrecisionInfo:
    precision: Precision
    bits: int
    is_float: bool
    description: str


PRECISIONS: dict[Precision, PrecisionInfo] = {
    info.precision: info
    for info in (
        PrecisionInfo(Precision.FP64, 64, True, "IEEE binary64"),
        PrecisionInfo(Precision.FP32, 32, True, "IEEE binary32 (vector/CUDA-core FMA)"),
        PrecisionInfo(
            Precision.TF32,
            32,
            True,
            "TensorFloat-32: FP32 storage, 19 significant bits in the multiplier; counted at 32 "
            "bits under the primary reading (the input operands are 32-bit registers), 19 under "
            "the alternative",
        ),
        PrecisionInfo(Precision.FP16, 16, True, "IEEE binary16"),
        PrecisionInfo(Precision.BF16, 16, True, "bfloat16"),
        PrecisionInfo(Precision.FP8, 8, True, "FP8 (E4M3/E5M2)"),
        PrecisionInfo(Precision.FP6, 6, True, "FP6 (E3M2/E2M3)"),
        PrecisionInfo(Precision.FP4, 4, True, "FP4 (E2M1, incl. NVFP4/MXFP4)"),
        PrecisionInfo(Precision.INT16, 16, False, "16-bit integer"),
        PrecisionInfo(Precision.INT8, 8, False, "8-bit integer"),
        PrecisionInfo(Precision.INT4, 4, False, "4-bit integer"),
    )
}

# TF32's multiplier sees 1 sign + 8 exponent + 10 mantissa bits.
TF32_SIGNIFICANT_BITS = 19


def parse_precision(name: str) -> Precision:
    """``"FP8"``, ``"fp8"`` or ``" fp8 "`` to ``Precision.FP8``; anything else is an error."""
    key = name.strip().lower()
    try:
        return Precision(key)
    except ValueError:
        known = ", ".join(p.value for p in Precision)
        raise UnknownPrecisionError(f"unknown precision {name!r} (known: {known})") from None


def bit_length(precision: Precision) -> int:
    """The primary reading's bit length (TF32 = 32)."""
    return PRECISIONS[precision].bits
