"""CPU peak-throughput kernels: FMA throughput, the clock, and memory bandwidth (triad), in numba.

Loaded by tppcalc.measure on first use (never at import of tppcalc) and compiled then.

FMA: LLVM's auto-vectorisers do not keep many independent vector accumulators in registers (the
loop vectoriser stores them to memory each iteration, numba leaves the SLP vectoriser off, and with
it on it shuffles every iteration). So the timed loop is written directly in LLVM IR through a numba
``@intrinsic``: ``accumulators`` vectors of ``lanes`` elements live in phi nodes and each iteration
issues one ``llvm.fma`` per accumulator. Enough accumulators (FMA units x FMA latency) keep every
FMA pipe busy; the disassembly is checked for packed FMAs and no memory traffic in the loop.

Clock: a chain of dependent ``imul r64`` instructions (3 cycles of latency on Intel since Sandy
Bridge and AMD since Zen) in inline assembly, which LLVM cannot fold, run for a known number of
steps gives cycles per second. x86-64 only.
"""

from __future__ import annotations

import numpy as np
from llvmlite import binding, ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# numba initialises the native target but not its assembly parser, which inline asm needs.
binding.initialize_native_asmparser()

IMULS_PER_STEP = 8
IMUL_LATENCY_CYCLES = 3
CYCLES_PER_CLOCK_STEP = IMULS_PER_STEP * IMUL_LATENCY_CYCLES


def make_fma_kernel(bits: int, lanes: int, accumulators: int):
    """A numba function ``kernel(iterations, threads) -> checksum`` running ``threads`` copies of the
    FMA loop in parallel. Each iteration of each copy does ``accumulators x lanes`` FMAs."""
    scalar = types.float64 if bits == 64 else types.float32

    @intrinsic
    def fma_loop(typingctx, iterations, seed):
        def codegen(context, builder, signature, args):
            count, seed_value = args
            element = ir.DoubleType() if bits == 64 else ir.FloatType()
            vector = ir.VectorType(element, lanes)
            suffix = f"v{lanes}f{bits}"  # llvmlite cannot mangle vector intrinsic names itself
            fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector] * 3),
                                                 f"llvm.fma.{suffix}")

            def splat(value):
                return _splat(builder, vector, value, lanes)

            # Multiplier just under 1 and a tiny addend keep values finite and non-denormal.
            x = splat(ir.Constant(element, 0.999999))
            y = splat(ir.Constant(element, 1e-7))
            start = [splat(builder.fadd(seed_value, ir.Constant(element, 0.001 * i))) for i in range(accumulators)]

            entry = builder.block
            loop = builder.append_basic_block("fma.loop")
            done = builder.append_basic_block("fma.done")
            builder.branch(loop)
            builder.position_at_end(loop)
            step = builder.phi(ir.IntType(64))
            step.add_incoming(ir.Constant(ir.IntType(64), 0), entry)
            phis = []
            for value in start:
                phi = builder.phi(vector)
                phi.add_incoming(value, entry)
                phis.append(phi)
            updated = [builder.call(fma, [phi, x, y]) for phi in phis]
            next_step = builder.add(step, ir.Constant(ir.IntType(64), 1))
            step.add_incoming(next_step, loop)
            for phi, value in zip(phis, updated):
                phi.add_incoming(value, loop)
            builder.cbranch(builder.icmp_signed("<", next_step, count), loop, done)

            builder.position_at_end(done)
            total = updated[0]
            for value in updated[1:]:
                total = builder.fadd(total, value)
            result = builder.extract_element(total, ir.Constant(ir.IntType(32), 0))
            for lane in range(1, lanes):
                result = builder.fadd(result, builder.extract_element(total, ir.Constant(ir.IntType(32), lane)))
            return result

        return scalar(types.int64, scalar), codegen

    @njit(parallel=True, fastmath=False)
    def kernel(iterations, threads):
        sums = np.zeros(threads)
        for t in prange(threads):
            sums[t] = fma_loop(iterations, scalar(1.0 + t))
        return sums.sum()

    kernel.fma_loop = fma_loop
    kernel.flops_per_iteration = 2 * lanes * accumulators
    return kernel


def _splat(builder, vector, value, lanes):
    undefined = ir.Constant(vector, ir.Undefined)
    first = builder.insert_element(undefined, value, ir.Constant(ir.IntType(32), 0))
    mask = ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes)
    return builder.shuffle_vector(first, undefined, mask)


@intrinsic
def _imul_chain(typingctx, steps, seed):
    """``steps`` x 8 dependent ``imul`` in inline assembly; returns the chain's value."""
    def codegen(context, builder, signature, args):
        count, start = args
        i64 = ir.IntType(64)
        body = "\n".join(["imulq $2, $0"] * IMULS_PER_STEP)
        chain = ir.InlineAsm(ir.FunctionType(i64, [i64, i64]), body, "=r,0,r", side_effect=True)
        entry = builder.block
        loop = builder.append_basic_block("clock.loop")
        done = builder.append_basic_block("clock.done")
        builder.branch(loop)
        builder.position_at_end(loop)
        step = builder.phi(i64)
        value = builder.phi(i64)
        step.add_incoming(ir.Constant(i64, 0), entry)
        value.add_incoming(start, entry)
        multiplied = builder.call(chain, [value, ir.Constant(i64, 3)])
        following = builder.add(step, ir.Constant(i64, 1))
        step.add_incoming(following, loop)
        value.add_incoming(multiplied, loop)
        builder.cbranch(builder.icmp_signed("<", following, count), loop, done)
        builder.position_at_end(done)
        return multiplied

    return types.int64(types.int64, types.int64), codegen


@njit(parallel=True)
def clock_chain(steps, threads):
    """The imul chain on ``threads`` cores at once (the all-core clock)."""
    out = np.zeros(threads, dtype=np.int64)
    for t in prange(threads):
        out[t] = _imul_chain(steps, t + 1)
    return out.sum()


@njit(parallel=True, fastmath=True)
def triad(a, b, c, scalar):
    """STREAM triad a = b + scalar * c: 2 arrays read, 1 written (24 bytes per float64 element)."""
    for i in prange(a.shape[0]):
        a[i] = b[i] + scalar * c[i]
