"""What the GPU will really issue: nvdisasm's SASS text read into functions and loops, and the
checks that prove a throughput kernel's reach before it ever runs.

A loop is the run of instructions from a label to a branch back to it; the timed loop is the
innermost one with the most work instructions. The checks:
- the share of the loop's instructions that do the measured work (FFMA, DFMA, HFMA2, HMMA,
  IMMA, QMMA, HGMMA, ...): every other instruction takes an issue slot from them;
- no local-memory traffic (LDL/STL: spills, or arrays the compiler could not keep in registers);
- registers that let as many blocks stay resident per SM as the launch plan assumes;
- the tensor instruction each precision must compile to.

The issue-limited ceiling: each SM sub-partition (4 per SM) issues one warp instruction per
clock, and its pipe for the work instruction takes ``cycles_per_instruction`` clocks per warp
instruction (32 lanes / lanes per sub-partition; for MMAs, the instruction's MACs over the tensor
core's MACs per clock). A loop trip costs max(instructions, work x cycles) clocks, of which
work x cycles do useful work: that ratio bounds the fraction of peak the loop can reach, whatever
the clock. It leaves out latency and memory, which the measurement itself shows.

Run ``python -m tppcalc.measure.sass --report`` to compile every kernel for every architecture
(tppcalc.measure.cubin) and print the table of bench/RESULTS.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# Opcodes (the mnemonic before its first dot) that are the work of a throughput loop.
WORK_OPCODES = frozenset({"FFMA", "DFMA", "HFMA2", "HMMA", "IMMA", "QMMA", "DMMA", "HGMMA", "IGMMA", "QGMMA",
                          "UTCHMMA", "UTCQMMA", "UTCIMMA", "UTCMMA"})
LOCAL_MEMORY_OPCODES = frozenset({"LDL", "STL"})
# Branches that can close a loop.
_BRANCH_OPCODES = frozenset({"BRA", "JMP"})

_FUNCTION = re.compile(r"^\s*\.text\.(\S+):\s*$")
_LABEL = re.compile(r"^\s*(\.L_x_\d+|\.L_\w+):\s*$")
_INSTRUCTION = re.compile(r"^\s*/\*(?P<address>[0-9a-f]{4,})\*/\s+(?P<text>.*?)\s*;\s*(?:/\*.*\*/)?\s*$")
_PREDICATE = re.compile(r"^@!?U?P[T0-9]+\s+")
_TARGET = re.compile(r"`\((\.L_\w+)\)")


@dataclass(frozen=True)
class Instruction:
    address: int
    predicate: str | None   # "@P0", "@!P1", or None
    mnemonic: str           # the whole name with its modifiers, e.g. HMMA.16816.F32.BF16
    operands: str

    @property
    def opcode(self) -> str:
        return self.mnemonic.split(".", 1)[0]

    @property
    def target(self) -> str | None:
        found = _TARGET.search(self.operands)
        return found.group(1) if found else None


@dataclass(frozen=True)
class Loop:
    """The instructions from a label to a branch back to it (inclusive): one trip of a loop."""

    label: str
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True)
class Function:
    name: str
    instructions: tuple[Instruction, ...]
    labels: dict[str, int]  # label -> index of the instruction it names

    def loops(self) -> list[Loop]:
        """The innermost loops: a branch to a label at or before it closes a loop, and a loop is
        innermost when no other backward branch lies inside it. (ptxas may close a loop with an
        unconditional BRA after a predicated exit, e.g. ``@!P0 CALL.REL.NOINC`` on sm_80, so a
        loop is this range rather than one basic block.)"""
        backward = []
        for index, instruction in enumerate(self.instructions):
            start = self.labels.get(instruction.target) if instruction.opcode in _BRANCH_OPCODES else None
            if start is not None and start <= index:
                backward.append((start, index, instruction.target))
        return [Loop(label, self.instructions[start:end + 1]) for start, end, label in backward
                if not any((s, e) != (start, end) and start <= s and e <= end for s, e, _ in backward)]


def _instruction(text: str, address: int) -> Instruction:
    predicate = None
    found = _PREDICATE.match(text)
    if found:
        predicate, text = found.group(0).strip(), text[found.end():]
    mnemonic, _, operands = text.partition(" ")
    return Instruction(address, predicate, mnemonic, operands.strip())


def parse(text: str) -> list[Function]:
    """nvdisasm's text (``nvdisasm -c``) as functions: instructions in address order and their
    labels. A ``{ A ; B }`` dual-issue pair counts as its two instructions."""
    functions: list[Function] = []
    name: str | None = None
    instructions: list[Instruction] = []
    labels: dict[str, int] = {}

    def close_function():
        if name is not None:
            functions.append(Function(name, tuple(instructions), dict(labels)))

    for line in text.splitlines():
        if found := _FUNCTION.match(line):
            close_function()
            name, instructions, labels = found.group(1), [], {}
        elif name is None:
            continue
        elif found := _LABEL.match(line):
            labels[found.group(1)] = len(instructions)
        else:
            for part in line.replace("{", "").replace("}", "").split(";"):
                if found := _INSTRUCTION.match(part + ";"):
                    instructions.append(_instruction(found.group("text").strip(), int(found.group("address"), 16)))
    close_function()
    return functions


@dataclass(frozen=True)
class LoopMix:
    """The instruction mix of one loop trip."""

    label: str
    instructions: int
    work: int                       # instructions of the work opcodes
    work_mnemonics: dict[str, int]  # e.g. {"HMMA.16816.F32.BF16": 8}
    others: dict[str, int]          # opcode -> count of everything else
    local_memory: int               # LDL/STL in the loop

    @property
    def work_share(self) -> Fraction:
        return Fraction(self.work, self.instructions) if self.instructions else Fraction(0)

    def issue_ceiling(self, cycles_per_instruction: Fraction | int) -> Fraction:
        """Fraction of the pipe's peak a loop trip can use when one warp instruction issues per
        clock: work x cycles over max(instructions, work x cycles)."""
        busy = self.work * Fraction(cycles_per_instruction)
        trip = max(Fraction(self.instructions), busy)
        return busy / trip if trip else Fraction(0)


def loop_mix(loop: Loop, work_opcodes=WORK_OPCODES) -> LoopMix:
    work: dict[str, int] = {}
    others: dict[str, int] = {}
    for instruction in loop.instructions:
        if instruction.opcode in work_opcodes:
            work[instruction.mnemonic] = work.get(instruction.mnemonic, 0) + 1
        else:
            others[instruction.opcode] = others.get(instruction.opcode, 0) + 1
    local = sum(n for opcode, n in others.items() if opcode in LOCAL_MEMORY_OPCODES)
    return LoopMix(loop.label, len(loop.instructions), sum(work.values()), work, others, local)


def timed_loop(function: Function, work_opcodes=WORK_OPCODES) -> LoopMix | None:
    """The loop with the most work instructions (the timed one; the others are set-up or tails)."""
    mixes = [loop_mix(loop, work_opcodes) for loop in function.loops()]
    mixes = [m for m in mixes if m.work]
    return max(mixes, key=lambda m: (m.work, -m.instructions)) if mixes else None


def local_memory_instructions(function: Function) -> int:
    return sum(1 for i in function.instructions if i.opcode in LOCAL_MEMORY_OPCODES)


# ---- occupancy --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmLimits:
    """Per-SM resources of an architecture (CUDA C Programming Guide, "Technical Specifications
    per Compute Capability"; the register allocation unit is 256 registers per warp)."""

    registers: int = 65536
    max_warps: int = 64
    max_blocks: int = 32
    register_unit: int = 256
    max_registers_per_thread: int = 255


SM_LIMITS = {
    "sm_80": SmLimits(),
    "sm_86": SmLimits(max_warps=48, max_blocks=16),
    "sm_89": SmLimits(max_warps=48, max_blocks=24),
    "sm_90": SmLimits(),
    "sm_90a": SmLimits(),
    "sm_100": SmLimits(),
    "sm_100a": SmLimits(),
    "sm_120": SmLimits(max_warps=48, max_blocks=24),
    "sm_120a": SmLimits(max_warps=48, max_blocks=24),
}


def resident_blocks_by_registers(registers_per_thread: int, threads_per_block: int, limits: SmLimits) -> int:
    """Blocks of ``threads_per_block`` one SM can hold by its register file alone."""
    per_warp = -(-registers_per_thread * 32 // limits.register_unit) * limits.register_unit
    warps_per_block = -(-threads_per_block // 32)
    # Registers are split between the 4 sub-partitions: a warp lives in one of them.
    warps_per_partition = (limits.registers // 4) // per_warp if per_warp else limits.max_warps // 4
    return (4 * warps_per_partition) // warps_per_block


def resident_blocks(registers_per_thread: int, threads_per_block: int, limits: SmLimits) -> int:
    """Blocks one SM can hold, by registers, warps and its block limit (shared memory aside)."""
    warps_per_block = -(-threads_per_block // 32)
    return min(resident_blocks_by_registers(registers_per_thread, threads_per_block, limits),
               limits.max_warps // warps_per_block, limits.max_blocks)


# ---- the kernels of kernels/gpu.py, checked per architecture -----------------------------------

# The work instruction each kernel must compile to (the whole mnemonic), per architecture where
# it differs. None: no native instruction, the loop is emulated (the reason is in EMULATED).
EXPECTED_WORK = {
    "fma_fp32": r"FFMA", "fma_fp64": r"DFMA", "tpp_hfma2_loop": r"HFMA2(\.MMA)?",
    "tpp_mma_tf32": r"HMMA\.1688\.F32\.TF32", "tpp_mma_fp16": r"HMMA\.16816\.F32",
    "tpp_mma_bf16": r"HMMA\.16816\.F32\.BF16", "tpp_mma_int8": r"IMMA\.16832\.S8\.S8",
    "tpp_mma_fp8": r"QMMA\.16832\.F32\.E4M3\.E4M3",
    "tpp_wgmma_tf32": r"HGMMA\.64x256x8\.F32\.TF32", "tpp_wgmma_fp16": r"HGMMA\.64x256x16\.F32",
    "tpp_wgmma_bf16": r"HGMMA\.64x256x16\.F32\.BF16", "tpp_wgmma_fp8": r"QGMMA\.64x256x32\.F32\.E4M3\.E4M3",
    "tpp_wgmma_int8": r"IGMMA\.64x256x32\.S8\.S8",
}
# Found in the SASS: ptxas has no FP8 mma.sync instruction on Hopper and datacenter Blackwell and
# converts the operands (F2FP, FADD) for an FP16 HMMA instead. The plans already call mma.sync a
# lower bound there; the FP8 peak needs wgmma (QGMMA) or tcgen05.
EMULATED = {("tpp_mma_fp8", arch): "FP8 mma.sync is emulated (F2FP + FADD + FP16 HMMA): not an FP8 tensor rate"
            for arch in ("sm_90a", "sm_100a")}
# Floor on the work share of the FMA loops (issue: the 98 % goal needs 99 % of the issue slots).
FMA_SHARE_FLOOR = Fraction(99, 100)
FMA_KERNELS = ("fma_fp32", "fma_fp64", "tpp_hfma2_loop")

_SHAPE = re.compile(r"\.(?:(\d+)x(\d+)x(\d+)|(16)(8)(\d+))\.")


def macs_per_warp_instruction(mnemonic: str) -> int:
    """Multiply-adds one warp's instruction does: 32 lanes for FFMA/DFMA, 64 for HFMA2; for an MMA
    its M x N x K (a warpgroup's xGMMA is issued by its 4 warps, so a quarter each)."""
    opcode = mnemonic.split(".", 1)[0]
    if opcode in ("FFMA", "DFMA"):
        return 32
    if opcode == "HFMA2":
        return 64
    found = _SHAPE.search(mnemonic + ".")
    if found is None:
        raise ValueError(f"no MMA shape in {mnemonic!r}")
    m, n, k = (int(g) for g in (found.groups()[:3] if found.group(1) else found.groups()[3:]))
    return m * n * k // (4 if opcode.endswith("GMMA") else 1)


def cycles_per_instruction(mnemonic: str, unit: str, precision: str, architecture: dict) -> Fraction | None:
    """Clocks one SM sub-partition's pipe spends on one warp instruction, from the sourced
    per-SM rates (tppcalc/probe/data/gpu_architectures.toml); None where the table has no rate."""
    table = architecture.get("tensor_dense_macs_per_sm_per_clock" if unit == "tensor"
                             else "vector_fma_per_sm_per_clock", {})
    per_sm = table.get(precision, {}).get("value")
    return Fraction(macs_per_warp_instruction(mnemonic) * 4, per_sm) if per_sm else None


@dataclass(frozen=True)
class KernelCheck:
    kernel: str
    arch: str
    precision: str
    unit: str
    registers: int
    spill_bytes: int           # -1: the report did not say (counts as spilling)
    local_memory: int          # LDL/STL anywhere in the kernel
    loop: LoopMix | None
    cycles: Fraction | None    # per work instruction, per sub-partition
    blocks_by_registers: int
    planned_blocks: int
    max_resident_blocks: int   # by registers, warps and the block limit together
    emulated: str | None

    @property
    def ceiling(self) -> Fraction | None:
        if self.loop is None or self.cycles is None or self.emulated:
            return None
        return self.loop.issue_ceiling(self.cycles)

    def problems(self) -> list[str]:
        """Everything that keeps this loop from its peak; empty when the kernel is proven."""
        found = []
        if self.spill_bytes != 0:
            found.append(f"spills ({self.spill_bytes} bytes by ptxas's report)" if self.spill_bytes > 0
                         else "ptxas's report does not say whether it spills")
        if self.local_memory:
            found.append(f"{self.local_memory} local-memory instructions (LDL/STL)")
        if self.blocks_by_registers < self.planned_blocks:
            found.append(f"{self.registers} registers allow {self.blocks_by_registers} blocks per SM, "
                         f"the launch plan assumes {self.planned_blocks}")
        if self.loop is None:
            found.append("no loop with work instructions")
            return found
        expected = EXPECTED_WORK.get(self.kernel)
        if self.emulated is None and expected is not None:
            wrong = sorted(m for m in self.loop.work_mnemonics if not re.fullmatch(expected, m))
            if wrong:
                found.append(f"loop issues {', '.join(wrong)}, expected {expected}")
        if self.local_memory == 0 and self.loop.local_memory:
            found.append("local memory in the loop")
        if self.kernel in FMA_KERNELS and self.loop.work_share < FMA_SHARE_FLOOR:
            found.append(f"FMA share {float(self.loop.work_share):.2%} of {self.loop.instructions} instructions, "
                         f"under {float(FMA_SHARE_FLOOR):.0%}")
        return found


def check_kernel(kernel: str, arch: str, *, fma_unroll: int | None = None, max_registers: int | None = None) -> KernelCheck:
    """Compile ``kernel`` for ``arch`` (tppcalc.measure.cubin) and read its SASS."""
    from tppcalc.measure import cubin
    from tppcalc.measure.gpu import kernel_plans
    from tppcalc.probe.identify import gpu_architectures

    cc = cubin.compute_capability(arch)
    plan = next(p for p in kernel_plans(cc[:2]) if p.kernel == kernel)
    compiled = cubin.compile_kernel(kernel, arch, fma_unroll=fma_unroll, max_registers=max_registers,
                                    threads_per_block=plan.threads_per_block)
    functions = [f for f in parse(compiled.sass) if f.instructions]
    if len(functions) != 1:
        raise ValueError(f"{kernel} {arch}: expected one function after linking, found {len(functions)}")
    function = functions[0]
    loop = timed_loop(function)
    limits = SM_LIMITS[arch]
    registers = compiled.registers()
    cycles = None
    if loop is not None and loop.work_mnemonics:
        mnemonic = max(loop.work_mnemonics, key=loop.work_mnemonics.get)
        architecture = gpu_architectures().get(f"{cc[0]}.{cc[1]}", {})
        cycles = cycles_per_instruction(mnemonic, plan.unit, plan.precision, architecture)
    return KernelCheck(kernel, arch, plan.precision, plan.unit, registers, compiled.spill_bytes(),
                       local_memory_instructions(function), loop, cycles,
                       resident_blocks_by_registers(registers, plan.threads_per_block, limits), plan.blocks_per_sm,
                       resident_blocks(registers, plan.threads_per_block, limits), EMULATED.get((kernel, arch)))


def kernels_for(arch: str) -> list[str]:
    """The throughput kernels the launch plan runs on ``arch`` (those it can compile there)."""
    from tppcalc.measure import cubin
    from tppcalc.measure.gpu import kernel_plans

    cc = cubin.compute_capability(arch)
    return [p.kernel for p in kernel_plans(cc[:2]) if cc[:2] >= p.min_compute_capability
            and ("wgmma" not in p.kernel or arch == "sm_90a")]


def report(architectures=None) -> str:
    """The markdown table of bench/RESULTS.md: every kernel's timed loop on every architecture."""
    from tppcalc.measure import cubin

    rows = ["| arch | kernel | work instruction | work / loop instructions | work share | clocks per work instr. "
            "| issue-limited ceiling | registers | blocks/SM (plan) | spills | problems |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for arch in architectures or cubin.ARCHITECTURES:
        for kernel in kernels_for(arch):
            check = check_kernel(kernel, arch)
            loop = check.loop
            mnemonics = ", ".join(f"{m} x{n}" for m, n in sorted(loop.work_mnemonics.items())) if loop else "-"
            ceiling = f"{float(check.ceiling):.1%}" if check.ceiling is not None else "n/a"
            problems = "; ".join(check.problems() + ([check.emulated] if check.emulated else [])) or "none"
            rows.append(f"| {arch} | {kernel} | {mnemonics} | {loop.work if loop else 0} / "
                        f"{loop.instructions if loop else 0} | {float(loop.work_share) if loop else 0:.2%} | "
                        f"{'' if check.cycles is None else f'{float(check.cycles):g}'} | {ceiling} | "
                        f"{check.registers} | {check.max_resident_blocks} ({check.planned_blocks}) | "
                        f"{check.spill_bytes} | {problems} |")
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tppcalc.measure.sass",
                                     description="Compile every GPU kernel to SASS and check its timed loop.")
    parser.add_argument("--report", action="store_true", help="print the markdown table of bench/RESULTS.md")
    parser.add_argument("--arch", action="append", help="an architecture (default: sm_80 sm_89 sm_90a sm_100a)")
    arguments = parser.parse_args(argv)
    print(report(arguments.arch), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
