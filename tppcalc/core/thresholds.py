"""Named constants the metric engine reports against, each with its citation.

The classification itself reads its thresholds from the rule-edition data; these are the lines a
chip's *headroom* is measured to, and the H100-equivalent unit the AI Diffusion caps are quoted in.
"""

from __future__ import annotations

from decimal import Decimal

# 3A090.a.1 / a.2 / b.1 / b.2 lines, unchanged from 2023-11-17 through the June 2026 eCFR
# (15 CFR 774 Supp. 1, ECCN 3A090; regulation.md section 2.1).
TPP_LINES: tuple[Decimal, ...] = (Decimal(1600), Decimal(2400), Decimal(4800))
DENSITY_LINES: tuple[Decimal, ...] = (Decimal("1.6"), Decimal("3.2"), Decimal("5.92"))

# One H100-equivalent: NVIDIA H100 SXM5 dense FP8 1,978.9 TFLOPS x 8 bits = 15,831.2 TPP
# (NVIDIA H100 Tensor Core GPU datasheet, https://www.nvidia.com/en-us/data-center/h100/ ;
# the same figure SemiAnalysis uses for the AI Diffusion caps: 790,000,000 TPP = 49,901 H100e).
H100_EQUIVALENT_TPP = Decimal("15831.2")
