"""Compile the GPU kernels to machine code without a GPU: numba-cuda (and NVRTC for the linked
CUDA C) to LTO-IR, nvJitLink to a cubin with ptxas's resource report, nvdisasm to SASS text.

Every tool here comes as a wheel (numba-cuda[cu13], nvidia-cuda-nvdisasm) and none needs a
driver, so the instruction-level checks of tppcalc.measure.sass run in CI. nvJitLink, not the
system ptxas, turns the IR into a cubin: it always matches the PTX ISA that numba-cuda's NVVM
emits, where a system ptxas may be older.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tppcalc.data.resources import load_kernel_module
from tppcalc.errors import TppcalcError

# Architectures whose SASS the checks cover: Ampere (A100), Ada, Hopper (wgmma needs the "a"
# feature set), datacenter Blackwell.
ARCHITECTURES = ("sm_80", "sm_89", "sm_90a", "sm_100a")

FMA_SIGNATURE = "void(float{bits}[:], int64[:, :], int32, float{bits}, float{bits})"
LINKED_SIGNATURE = "void(float32[:], int64[:, :], int32, uint32, uint32)"
BANDWIDTH_SIGNATURES = {
    "copy": "void(float64[:], float64[:], int64[:, :])",
    "triad": "void(float64[:], float64[:], float64[:], float64, int64[:, :])",
}


class ToolchainUnavailable(TppcalcError):
    """A compiler or disassembler the SASS checks need is not installed."""


@dataclass(frozen=True)
class CompiledKernel:
    kernel: str
    arch: str
    sass: str          # nvdisasm's text of the whole cubin
    ptxas_report: str  # nvJitLink's info log: registers, spills, shared memory

    def registers(self) -> int:
        found = re.search(r"Used (\d+) registers", self.ptxas_report)
        if found is None:
            raise ToolchainUnavailable(f"{self.kernel} {self.arch}: no register count in the ptxas report")
        return int(found.group(1))

    def spill_bytes(self) -> int:
        """Spill stores plus spill loads; an unreadable report counts as spilling (fail closed)."""
        pairs = re.findall(r"(\d+) bytes spill stores, (\d+) bytes spill loads", self.ptxas_report)
        if not pairs:
            return -1
        return sum(int(stores) + int(loads) for stores, loads in pairs)

    def stack_bytes(self) -> int:
        return sum(int(b) for b in re.findall(r"(\d+) bytes stack frame", self.ptxas_report))

    def shared_bytes(self) -> int:
        found = re.search(r"(\d+) bytes smem", self.ptxas_report)
        return int(found.group(1)) if found else 0


def compute_capability(arch: str) -> tuple:
    """"sm_90a" -> (9, 0, "a"), as numba-cuda's compiler takes it."""
    found = re.fullmatch(r"sm_(\d+)(\d)([af]?)", arch)
    if found is None:
        raise ValueError(f"not an architecture name: {arch!r}")
    major, minor, feature = int(found.group(1)), int(found.group(2)), found.group(3)
    return (major, minor, feature) if feature else (major, minor)


def nvdisasm_path() -> str:
    try:
        from cuda.pathfinder import find_nvidia_binary_utility

        found = find_nvidia_binary_utility("nvdisasm")
    except ImportError:
        found = None
    found = found or shutil.which("nvdisasm")
    if not found:
        raise ToolchainUnavailable("nvdisasm is not installed: pip install nvidia-cuda-nvdisasm "
                                   "(or install tppcalc[test])")
    return found


def _ltoir(kernel: str, arch: str, *, fma_unroll: int | None = None, threads_per_block: int = 256) -> list:
    """numba-cuda's LTO-IR for one kernel of kernels/gpu.py (with the CUDA C it links)."""
    try:
        from numba.cuda.compiler import compile_all
    except ImportError as exc:
        raise ToolchainUnavailable(f"numba-cuda is not installed ({exc}): pip install 'tppcalc[gpu]'") from None
    kernels = _kernel_module()
    cc = compute_capability(arch)
    if kernel.startswith("fma_fp"):
        bits = int(kernel[len("fma_fp"):])
        function = kernels.fma_function(bits) if fma_unroll is None else kernels.fma_function(bits, unroll=fma_unroll)
        signature, bounds = FMA_SIGNATURE.format(bits=bits), None
    elif kernel in BANDWIDTH_SIGNATURES:
        function, signature, bounds = getattr(kernels, kernel), BANDWIDTH_SIGNATURES[kernel], None
    else:
        function, signature = kernels.linked_loop_function(kernel), LINKED_SIGNATURE
        bounds = (threads_per_block, 1)  # as make_linked_kernel launches it
    if bounds is None:
        try:
            return [_typed_once(function, signature).get_ltoir(cc=cc)]
        except (AttributeError, TypeError):  # numba-cuda moved its internals: the slow public way
            pass
    codes, _ = compile_all(function, signature, device=False, cc=cc, abi="numba", output="ltoir", launch_bounds=bounds)
    return codes


_TYPED: dict = {}


def _typed_once(function, signature):
    """numba-cuda's code library of a kernel that links nothing, typed and lowered once for every
    architecture: typing the 768 written-out FMAs takes seconds, NVVM per architecture ~0.1 s.
    (compile_all would redo both per architecture.) A private numba-cuda function: callers fall
    back to compile_all when it changes."""
    from numba.cuda import compiler

    key = (function.__code__.co_filename, function.__name__, function.__code__.co_code, signature)
    if key not in _TYPED:
        _TYPED[key], _ = compiler._compile_pyfunc_with_fixup(
            function, signature, device=False, cc=(8, 0), abi="numba", lto=True)
    return _TYPED[key]


@cache
def _kernel_module():
    return load_kernel_module("gpu.py")


def link_cubin(codes: list, arch: str, *, max_registers: int | None = None) -> tuple[bytes, str]:
    """nvJitLink the LTO-IR to a cubin for ``arch``; returns (cubin, ptxas report)."""
    from cuda.bindings import nvjitlink

    options = [f"-arch={arch}", "-lto", "-verbose"]
    if max_registers is not None:
        options.append(f"-maxrregcount={max_registers}")
    handle = nvjitlink.create(len(options), options)
    try:
        for number, code in enumerate(codes):
            data = code if isinstance(code, bytes) else bytes(code.code)
            nvjitlink.add_data(handle, nvjitlink.InputType.LTOIR, data, len(data), f"input{number}")
        try:
            nvjitlink.complete(handle)
        except nvjitlink.nvJitLinkError as exc:
            log = bytearray(nvjitlink.get_error_log_size(handle))
            nvjitlink.get_error_log(handle, log)
            raise ToolchainUnavailable(f"nvJitLink could not link for {arch}: "
                                       f"{log.decode(errors='replace').strip()}") from exc
        cubin = bytearray(nvjitlink.get_linked_cubin_size(handle))
        nvjitlink.get_linked_cubin(handle, cubin)
        log = bytearray(nvjitlink.get_info_log_size(handle))
        nvjitlink.get_info_log(handle, log)
    finally:
        nvjitlink.destroy(handle)
    return bytes(cubin), log.decode(errors="replace").rstrip("\x00")


def disassemble(cubin: bytes) -> str:
    """nvdisasm's text of ``cubin`` (-c: code only, no data sections)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kernel.cubin"
        path.write_bytes(cubin)
        result = subprocess.run([nvdisasm_path(), "-c", str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ToolchainUnavailable(f"nvdisasm failed: {result.stderr.strip()}")
    return result.stdout


@cache
def compile_kernel(kernel: str, arch: str, *, fma_unroll: int | None = None, max_registers: int | None = None,
                   threads_per_block: int = 256) -> CompiledKernel:
    """One kernel of kernels/gpu.py as SASS for ``arch`` (cached: each build takes ~0.1-1 s).

    ``fma_unroll`` and ``max_registers`` build variants that the checks must reject (a shorter
    loop body; a register cap that forces spills)."""
    codes = _ltoir(kernel, arch, fma_unroll=fma_unroll, threads_per_block=threads_per_block)
    cubin, report = link_cubin(codes, arch, max_registers=max_registers)
    return CompiledKernel(kernel, arch, disassemble(cubin), report)
