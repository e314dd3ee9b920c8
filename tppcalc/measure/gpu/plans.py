"""The launch plan of every GPU kernel: what it measures, its shape and launch, the operands it is
given and the result it must compute (so that a number is only reported for work that was done)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class KernelPlan:
    """One kernel to run: what it measures, how it is launched, and what it must compute."""

    precision: str
    unit: str                   # "vector" or "tensor"
    kernel: str                 # fma_fp32, fma_fp64, or a C function of gpu_tensor.cu
    description: str
    min_compute_capability: tuple[int, int]
    threads_per_block: int
    blocks_per_sm: int
    ops_per_thread_per_iteration: float
    a: float | int              # kernel operands (floats for FMA, 32-bit patterns for C loops)
    b: float | int
    expected_per_iteration: float  # C loops: mean accumulator growth per iteration
    expected_fixed: float | None = None  # FMA loops: the value every thread ends at
    reaches_peak: bool = True
    reason: str | None = None   # why reaches_peak is False


# FMAs per thread per loop trip: 8 chains x 96 steps written out in kernels/gpu.py (CHAINS, UNROLL),
# 8 x 128 half2 steps in gpu_tensor.cu (TPP_CHAINS, TPP_HFMA2_UNROLL): long enough that the loop's
# own instructions leave over 99 % of the issue slots to the FMAs (tests/test_sass.py checks both).
FMA_CHAINS, FMA_UNROLL, HFMA2_UNROLL = 8, 96, 128


def _fma(bits: int) -> KernelPlan:
    # Each FMA is 2 operations; out[thread] settles at CHAINS x 2b with a = 0.5.
    return KernelPlan(f"fp{bits}", "vector", f"fma_fp{bits}",
                      f"FP{bits} FMA, {FMA_CHAINS} chains x {FMA_UNROLL} unrolled (numba-cuda)",
                      (3, 5), 256, 8, 2 * FMA_CHAINS * FMA_UNROLL, 0.5, 0.25, 0.0, expected_fixed=FMA_CHAINS * 2 * 0.25)


def _mma(precision: str, k: int, a: int, b: int, product: float, min_cc=(8, 0)) -> KernelPlan:
    # m16n8kK per warp: 2 x 16 x 8 x K operations, 8 independent accumulators per iteration.
    return KernelPlan(precision, "tensor", f"tpp_mma_{precision}",
                      f"mma.sync m16n8k{k} {precision}, 8 accumulators per warp (CUDA C)", min_cc, 256, 4,
                      2 * 16 * 8 * k * 8 / 32, a, b, k * product)


def _wgmma(precision: str, k: int, a: int, b: int, product: float) -> KernelPlan:
    # m64n256kK per warpgroup of 128 threads: 2 x 64 x 256 x K operations, 8 per iteration.
    return KernelPlan(precision, "tensor", f"tpp_wgmma_{precision}",
                      f"wgmma m64n256k{k} {precision}, shared-memory operands, 8 per commit group (CUDA C, sm_90a)",
                      (9, 0), 256, 1, 2 * 64 * 256 * k * 8 / 128, a, b, 8 * k * product)


# Operands: a = 1.5 and b = 0.5 in each format (int8: 3 and -2), packed to fill 32 bits.
_FP16, _BF16, _TF32, _FP8, _INT8 = ((0x3E003E00, 0x38003800), (0x3FC03FC0, 0x3F003F00),
                                    (0x3FC00000, 0x3F000000), (0x3C3C3C3C, 0x30303030),
                                    (0x03030303, 0xFEFEFEFE))
MMA_NOT_PEAK_ON = {(9, 0): "mma.sync cannot reach Hopper's tensor peak (only wgmma can): a lower bound",
                   (10, 0): "mma.sync cannot reach Blackwell's datacenter tensor peak (tcgen05): a lower bound"}


def kernel_plans(compute_capability: tuple[int, int]) -> list[KernelPlan]:
    """Every kernel worth running on this architecture (those it cannot run are reported too)."""
    not_peak = MMA_NOT_PEAK_ON.get(compute_capability)
    mma = [_mma("tf32", 8, *_TF32, 0.75), _mma("fp16", 16, *_FP16, 0.75), _mma("bf16", 16, *_BF16, 0.75),
           _mma("fp8", 32, *_FP8, 0.75, min_cc=(8, 9)), _mma("int8", 32, *_INT8, -6)]
    if not_peak:
        mma = [replace(p, reaches_peak=False, reason=not_peak) for p in mma]
    plans = [_fma(64), _fma(32),
             KernelPlan("fp16", "vector", "tpp_hfma2_loop", "packed FP16 FMA (fma.rn.f16x2), 8 chains (CUDA C)",
                        (5, 3), 256, 8, 2 * 2 * FMA_CHAINS * HFMA2_UNROLL, 0x38003800, 0x34003400, 0.0, expected_fixed=0.5),
             *mma]
    if compute_capability == (9, 0):
        plans += [_wgmma("tf32", 8, *_TF32, 0.75), _wgmma("fp16", 16, *_FP16, 0.75),
                  _wgmma("bf16", 16, *_BF16, 0.75), _wgmma("fp8", 32, *_FP8, 0.75), _wgmma("int8", 32, *_INT8, -6)]
    return plans
