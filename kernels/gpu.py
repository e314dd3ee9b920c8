"""GPU peak-throughput kernels in numba-cuda: FP32/FP64 FMA, device-memory bandwidth, and the
kernels that run the CUDA C tensor-core and packed-FP16 loops of gpu_tensor.cu.

Loaded by tppcalc.measure.gpu on first use (never at import of tppcalc) and compiled then. Also
importable under numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1), where the FMA and bandwidth
kernels run on the CPU for correctness tests; the CUDA C loops need a real GPU.

FMA: each thread runs CHAINS independent chains x = x * a + b, UNROLL steps per loop trip written
out in the source (numba has no unroll pragma), so the loop body is CHAINS x UNROLL fused
multiply-adds (NVVM contracts x * a + b into fma.rn by default) and a few loop instructions.
a and b are kernel arguments, so nothing can be folded at compile time; a = 0.5 makes every chain
settle at exactly 2b, which the host checks.

Every kernel records, from thread 0 of each block, the SM cycle counter (%clock64) and the global
nanosecond timer (%globaltimer) at its start and end: their ratio is the SM clock the block really
ran at, whatever NVML says.
"""

from __future__ import annotations

import time
from pathlib import Path

from numba import cuda, float32, float64
from numba.core import config

CHAINS = 8
UNROLL = 96
FMA_PER_THREAD_PER_ITERATION = CHAINS * UNROLL
TENSOR_SOURCE = Path(__file__).with_name("gpu_tensor.cu")

# Columns of the per-block clock record.
START_CYCLES, END_CYCLES, START_NS, END_NS = range(4)

if config.ENABLE_CUDASIM:
    # The simulator runs kernels as Python threads: the host clocks stand in for the SM's.
    def clock64():
        return time.perf_counter_ns()

    def globaltimer():
        return time.perf_counter_ns()
else:
    from llvmlite import ir
    from numba.core import types
    from numba.cuda.extending import intrinsic

    def _read_special_register(register: str):
        @intrinsic
        def read(typingctx):
            def codegen(context, builder, signature, args):
                asm = ir.InlineAsm(ir.FunctionType(ir.IntType(64), []), f"mov.u64 $0, {register};", "=l",
                                   side_effect=True)
                return builder.call(asm, [])

            return types.int64(), codegen

        return read

    _clock64 = _read_special_register("%clock64")
    _globaltimer = _read_special_register("%globaltimer")

    @cuda.jit(device=True, inline="always")
    def clock64():
        return _clock64()

    @cuda.jit(device=True, inline="always")
    def globaltimer():
        return _globaltimer()


@cuda.jit(device=True, inline="always")
def record_clocks(clocks, start_cycles, start_ns):
    """Thread 0 of each block writes its start and end (cycles, nanoseconds) to its row."""
    if cuda.threadIdx.x == 0:
        clocks[cuda.blockIdx.x, START_CYCLES] = start_cycles
        clocks[cuda.blockIdx.x, END_CYCLES] = clock64()
        clocks[cuda.blockIdx.x, START_NS] = start_ns
        clocks[cuda.blockIdx.x, END_NS] = globaltimer()


def _fma_source(name: str, scalar: str, unroll: int) -> str:
    chains = range(CHAINS)
    lines = [f"def {name}(out, clocks, iterations, a, b):",
             "    start_cycles = clock64()",
             "    start_ns = globaltimer()",
             *(f"    x{c} = b * {scalar}({c + 1})" for c in chains),
             "    for _ in range(iterations):"]
    for _ in range(unroll):
        lines += [f"        x{c} = x{c} * a + b" for c in chains]
    lines += [f"    out[cuda.grid(1)] = {' + '.join(f'x{c}' for c in chains)}",
              "    record_clocks(clocks, start_cycles, start_ns)"]
    return "\n".join(lines) + "\n"


def fma_function(bits: int, unroll: int = UNROLL):
    """The plain Python function of the FMA kernel for FP``bits`` (for cuda.jit or compile_ptx).
    ``unroll`` other than UNROLL is for tests only: the measurement counts UNROLL steps per trip."""
    name = f"fma_fp{bits}"
    scalar = {32: "float32", 64: "float64"}[bits]
    namespace = {"cuda": cuda, "float32": float32, "float64": float64,
                 "clock64": clock64, "globaltimer": globaltimer, "record_clocks": record_clocks}
    # Generated source, our own text: numba needs the unrolled statements written out.
    exec(compile(_fma_source(name, scalar, unroll), f"<tppcalc kernels/gpu.py {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


def make_fma_kernel(bits: int):
    """``kernel[blocks, threads](out, clocks, iterations, a, b)``: CHAINS x UNROLL x iterations FMAs
    per thread; out[thread] ends at CHAINS x 2b when a = 0.5."""
    return cuda.jit(fma_function(bits))


def expected_fma_result(b: float) -> float:
    return CHAINS * 2 * b


def copy(destination, source, clocks):
    """Device-memory copy, four independent loads in flight per thread before any store."""
    start_cycles = clock64()
    start_ns = globaltimer()
    stride = cuda.gridsize(1)
    i = cuda.grid(1)
    n = source.size
    while i + 3 * stride < n:
        v0 = source[i]
        v1 = source[i + stride]
        v2 = source[i + 2 * stride]
        v3 = source[i + 3 * stride]
        destination[i] = v0
        destination[i + stride] = v1
        destination[i + 2 * stride] = v2
        destination[i + 3 * stride] = v3
        i += 4 * stride
    while i < n:
        destination[i] = source[i]
        i += stride
    record_clocks(clocks, start_cycles, start_ns)


def triad(a, b, c, scalar, clocks):
    """STREAM triad a = b + scalar * c: two reads and one write per element."""
    start_cycles = clock64()
    start_ns = globaltimer()
    stride = cuda.gridsize(1)
    i = cuda.grid(1)
    n = a.size
    while i + stride < n:
        b0 = b[i]
        c0 = c[i]
        b1 = b[i + stride]
        c1 = c[i + stride]
        a[i] = b0 + scalar * c0
        a[i + stride] = b1 + scalar * c1
        i += 2 * stride
    while i < n:
        a[i] = b[i] + scalar * c[i]
        i += stride
    record_clocks(clocks, start_cycles, start_ns)


def make_copy_kernel():
    return cuda.jit(copy)


def make_triad_kernel():
    return cuda.jit(triad)


# ---------------------------------------------------------------- CUDA C loops (gpu_tensor.cu)
def linked_loop_function(c_function: str):
    """A numba kernel body calling ``c_function`` of gpu_tensor.cu (declared, linked on compile)."""
    loop = cuda.declare_device(c_function, "float32(int32, uint32, uint32)", link=[str(TENSOR_SOURCE)])

    def run_loop(out, clocks, iterations, a_bits, b_bits):
        start_cycles = clock64()
        start_ns = globaltimer()
        value = loop(iterations, a_bits, b_bits)
        out[cuda.grid(1)] = value
        record_clocks(clocks, start_cycles, start_ns)

    return run_loop


def make_linked_kernel(c_function: str, *, max_threads_per_block: int):
    """The kernel for one CUDA C loop. LTO (numba-cuda's default where nvJitLink is installed)
    inlines the loop into the kernel; the launch bound gives it the registers of one block."""
    try:
        return cuda.jit(linked_loop_function(c_function), launch_bounds=(max_threads_per_block, 1))
    except TypeError:  # numba-cuda before launch_bounds: ptxas assumes 1024 threads, fewer registers
        return cuda.jit(linked_loop_function(c_function))
