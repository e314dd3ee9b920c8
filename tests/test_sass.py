"""The GPU kernels proven at the instruction level, without a GPU (issue 18 item 1).

- tppcalc.measure.sass on short SASS texts written out here: loops, instruction classes, the
  issue-limited ceiling, occupancy by registers (values from the CUDA occupancy rules).
- Every kernel compiled for sm_80, sm_89, sm_90a and sm_100a (numba-cuda, NVRTC, nvJitLink,
  nvdisasm: wheels of the test extra) and its timed loop checked: the work instruction it must
  be, at least 99 % FMA in the FMA loops, no spills, registers for the planned occupancy.
- Variants that must be rejected: a short loop body, and a register cap that forces spills.
Compiled kernels are cached for the session (tppcalc.measure.cubin.compile_kernel).
"""

from __future__ import annotations

import importlib.util
import re
from fractions import Fraction

import pytest

from tppcalc.measure import sass
from tppcalc.measure.gpu import kernel_plans

# nvdisasm -c output, shortened: sm_80 closes the loop with a predicated CALL.REL.NOINC out and
# an unconditional BRA back; a remainder loop of 2 FFMA follows.
SM80_SAMPLE = """\
        .text.fma_kernel:
        /*0000*/                   MOV R1, c[0x0][0x28] ;
        /*0010*/                   ISETP.GE.AND P0, PT, R12, 0x1, PT ;
        /*0020*/              @!P0 BRA `(.L_x_0) ;
.L_x_1:
        /*0030*/                   FFMA R24, R24, c[0x0][0x1e4], R11.reuse ;
        /*0040*/                   FFMA R22, R22, c[0x0][0x1e4], R11.reuse ;
        /*0050*/                   FFMA R20, R20, c[0x0][0x1e4], R11 ;
        /*0060*/                   FFMA R18, R18, c[0x0][0x1e4], R11 ;
        /*0070*/                   IADD3 R12, R12, -0x1, RZ ;
        /*0080*/                   ISETP.NE.AND P0, PT, R12, RZ, PT ;
        /*0090*/              @!P0 CALL.REL.NOINC `(.L_x_0) ;
        /*00a0*/                   BRA `(.L_x_1) ;
.L_x_0:
        /*00b0*/                   STL [R1], R24 ;
.L_x_2:
        /*00c0*/                   FFMA R24, R24, c[0x0][0x1e4], R11 ;
        /*00d0*/                   FFMA R22, R22, c[0x0][0x1e4], R11 ;
        /*00e0*/                   IADD3 R12, R12, -0x1, RZ ;
        /*00f0*/               @P0 BRA `(.L_x_2) ;
        /*0100*/                   EXIT ;
.L_x_3:
        /*0110*/                   BRA `(.L_x_3);
        .text.mma_kernel:
.L_x_4:
        /*0000*/                   HMMA.16816.F32.BF16 R28, R40, R2, R28 ;
        /*0010*/                   HMMA.16816.F32.BF16 R8, R4, R44, R8 ;
        /*0020*/                   LDL R3, [R1+0x4] ;
        /*0030*/               @P1 BRA `(.L_x_4) ;
"""


def test_parse_splits_functions_and_reads_predicates_and_targets():
    fma, mma = sass.parse(SM80_SAMPLE)
    assert (fma.name, mma.name) == ("fma_kernel", "mma_kernel")
    assert len(fma.instructions) == 18 and len(mma.instructions) == 4
    branch = fma.instructions[2]
    assert (branch.predicate, branch.opcode, branch.target) == ("@!P0", "BRA", ".L_x_0")
    assert mma.instructions[0].mnemonic == "HMMA.16816.F32.BF16" and mma.instructions[0].opcode == "HMMA"


def test_loops_close_at_the_backward_branch_even_after_a_call_out():
    fma, _ = sass.parse(SM80_SAMPLE)
    assert [(loop.label, len(loop.instructions)) for loop in fma.loops()] == [(".L_x_1", 8), (".L_x_2", 4), (".L_x_3", 1)]
    timed = sass.timed_loop(fma)
    assert timed.label == ".L_x_1"  # the loop with the most FMAs, not the remainder
    assert (timed.work, timed.instructions, timed.work_share) == (4, 8, Fraction(1, 2))
    assert timed.others == {"IADD3": 1, "ISETP": 1, "CALL": 1, "BRA": 1}
    assert sass.local_memory_instructions(fma) == 1


def test_local_memory_in_a_loop_is_counted():
    _, mma = sass.parse(SM80_SAMPLE)
    timed = sass.timed_loop(mma)
    assert timed.work_mnemonics == {"HMMA.16816.F32.BF16": 2} and timed.local_memory == 1


def test_issue_ceiling():
    # The issue's hand count on sm_90a: 128 FFMA among 133 instructions, one FFMA per clock per
    # sub-partition (32 lanes): at most 128/133 = 96.2 % of peak.
    loop = sass.LoopMix("l", 133, 128, {"FFMA": 128}, {"BRA": 1, "IADD3": 4}, 0)
    assert loop.issue_ceiling(1) == Fraction(128, 133) and round(float(loop.issue_ceiling(1)), 3) == 0.962
    # A100's 16 FP32 lanes per sub-partition take 2 clocks per FFMA: the other 5 issue in between.
    assert loop.issue_ceiling(2) == 1


def test_macs_per_warp_instruction_follow_the_shapes():
    assert sass.macs_per_warp_instruction("FFMA") == 32
    assert sass.macs_per_warp_instruction("HFMA2.MMA") == 64  # two FP16 lanes per thread
    assert sass.macs_per_warp_instruction("HMMA.16816.F32.BF16") == 16 * 8 * 16
    assert sass.macs_per_warp_instruction("HMMA.1688.F32.TF32") == 16 * 8 * 8
    assert sass.macs_per_warp_instruction("IMMA.16832.S8.S8") == 16 * 8 * 32
    # wgmma m64n256k16 is one warpgroup's: each of its 4 warps issues the instruction
    assert sass.macs_per_warp_instruction("HGMMA.64x256x16.F32") == 64 * 256 * 16 // 4


def test_blocks_resident_by_registers():
    # CUDA occupancy rules (64K registers per SM, allocated per warp in units of 256):
    sm80 = sass.SM_LIMITS["sm_80"]
    assert sass.resident_blocks_by_registers(32, 256, sm80) == 8   # 32 regs: all 64 warps
    assert sass.resident_blocks_by_registers(64, 256, sm80) == 4   # 64 regs: 50 % occupancy
    assert sass.resident_blocks_by_registers(154, 256, sm80) == 1  # 5120 per warp: 3 warps per partition
    assert sass.resident_blocks(32, 256, sass.SM_LIMITS["sm_89"]) == 6  # Ada holds 48 warps


# ---- the kernels, compiled --------------------------------------------------------------------

def _toolchain_missing() -> str | None:
    for module in ("numba_cuda", "cuda.bindings"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'tppcalc[test]')"
    from tppcalc.measure import cubin

    try:
        cubin.nvdisasm_path()
    except cubin.ToolchainUnavailable as exc:
        return str(exc)
    return None


needs_toolchain = pytest.mark.skipif(_toolchain_missing() is not None, reason=str(_toolchain_missing()))

ARCHITECTURES = ("sm_80", "sm_89", "sm_90a", "sm_100a")
KERNELS = [(arch, kernel) for arch in ARCHITECTURES for kernel in sass.kernels_for(arch)]


def test_every_architecture_runs_every_kernel_it_can():
    names = {arch: set(sass.kernels_for(arch)) for arch in ARCHITECTURES}
    assert "tpp_mma_fp8" not in names["sm_80"] and "tpp_mma_fp8" in names["sm_89"]
    assert {k for k in names["sm_90a"] if "wgmma" in k} == {f"tpp_wgmma_{p}" for p in ("tf32", "fp16", "bf16", "fp8", "int8")}
    assert not any("wgmma" in k for k in names["sm_100a"])
    assert {"fma_fp32", "fma_fp64", "tpp_hfma2_loop"} <= names["sm_80"]


@needs_toolchain
@pytest.mark.parametrize("arch, kernel", KERNELS)
def test_timed_loop_is_proven(arch, kernel):
    check = sass.check_kernel(kernel, arch)
    assert check.problems() == [], check
    assert check.spill_bytes == 0 and check.local_memory == 0
    if check.emulated:
        # No native instruction here: the plan must already call the figure a lower bound.
        cc = (int(arch[3:-2]), int(arch[-2]))
        plan = next(p for p in kernel_plans(cc) if p.kernel == kernel)
        assert not plan.reaches_peak
        assert not any(m.startswith("QMMA") for m in check.loop.work_mnemonics)
    else:
        assert all(re.fullmatch(sass.EXPECTED_WORK[kernel], m) for m in check.loop.work_mnemonics)
    if kernel in sass.FMA_KERNELS:
        assert check.loop.work_share >= Fraction(99, 100)


@needs_toolchain
def test_a_short_loop_body_is_flagged():
    short = sass.check_kernel("fma_fp32", "sm_90a", fma_unroll=16)  # the old 8 x 16 body
    assert short.loop.work == 128
    (problem,) = short.problems()
    assert "FMA share" in problem and "under 99%" in problem


@needs_toolchain
def test_a_spilling_loop_is_flagged():
    spilling = sass.check_kernel("fma_fp64", "sm_90a", max_registers=16)  # 8 FP64 chains need 16+ registers
    assert spilling.spill_bytes > 0 and spilling.local_memory > 0
    problems = " ".join(spilling.problems())
    assert "spills" in problems and "local-memory" in problems
