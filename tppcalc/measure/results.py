"""What a measurement reports for one precision, and the fractions that decide a verdict.

Shared by the CPU and GPU measurements, so ``tppcalc bench --json`` has one shape for both.
"""

from __future__ import annotations

from dataclasses import dataclass

# A measured rate under this fraction of the theoretical one is "below" its label.
CONSISTENT_FRACTION = 0.90
# Above this fraction of the theoretical rate at the declared clock, or of the datasheet figure,
# is a red flag: the hardware does more than its label says.
ABOVE_FRACTION = 1.10


@dataclass(frozen=True)
class PrecisionResult:
    precision: str
    measured_tflops: float | None          # TOPS for integer precisions; None when it could not run
    theoretical_tflops_at_measured_clock: float | None
    fraction_at_measured_clock: float | None
    theoretical_tflops_at_datasheet_clock: float | None
    fraction_at_datasheet_clock: float | None
    kernel: str
    reaches_peak: bool                     # False: the kernel is known to stop short; a lower bound
    unit: str = "vector"                   # "vector" (FMA units) or "tensor"
    datasheet_tflops: float | None = None  # the catalogue's dense figure for this unit and precision
    fraction_of_datasheet: float | None = None
    status: str = "measured"               # "measured" or "cannot run"
    reason: str | None = None              # why it cannot run, or what limits it


def ratio(measured: float | None, reference: float | None) -> float | None:
    return None if measured is None or not reference else measured / reference
