"""Compile and link the GPU kernels without a GPU: NVRTC for the CUDA C, numba-cuda for the
Python kernels, nvJitLink (with ptxas's report) for the linked result. All three come as wheels
with numba-cuda[cu13]; none of them needs a driver."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cuda.bindings import nvjitlink, nvrtc

from tppcalc.data.resources import data_dir

TENSOR_SOURCE = data_dir("kernels") / "gpu_tensor.cu"


def _check(result, program) -> None:
    if result != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        _, size = nvrtc.nvrtcGetProgramLogSize(program)
        log = b" " * size
        nvrtc.nvrtcGetProgramLog(program, log)
        raise RuntimeError(f"NVRTC: {result}: {log.decode(errors='replace')}")


def nvrtc_ptx(arch: str) -> str:
    """gpu_tensor.cu compiled to PTX for ``arch`` (e.g. sm_80, sm_90a)."""
    source = TENSOR_SOURCE.read_bytes()
    result, program = nvrtc.nvrtcCreateProgram(source, TENSOR_SOURCE.name.encode(), 0, [], [])
    options = [f"--gpu-architecture={arch}".encode(), b"-rdc=true"]
    (result,) = nvrtc.nvrtcCompileProgram(program, len(options), options)
    _check(result, program)
    _, size = nvrtc.nvrtcGetPTXSize(program)
    ptx = b" " * size
    nvrtc.nvrtcGetPTX(program, ptx)
    nvrtc.nvrtcDestroyProgram(program)
    return ptx.rstrip(b"\x00 ").decode()


@dataclass(frozen=True)
class LinkedKernel:
    ptx: str           # the whole kernel after LTO, as PTX
    ptxas_report: str  # ptxas's verbose report of the cubin

    def registers(self) -> int:
        return int(re.search(r"Used (\d+) registers", self.ptxas_report).group(1))

    def spill_bytes(self) -> int:
        stores = re.findall(r"(\d+) bytes spill stores, (\d+) bytes spill loads", self.ptxas_report)
        return sum(int(s) + int(l) for s, l in stores)

    def shared_bytes(self) -> int:
        found = re.search(r"(\d+) bytes smem", self.ptxas_report)
        return int(found.group(1)) if found else 0


def _log(handle, size_fn, get_fn) -> str:
    buffer = bytearray(size_fn(handle))
    get_fn(handle, buffer)
    return buffer.decode(errors="replace").rstrip("\x00")


def link_ltoir(codes: list, arch: str) -> LinkedKernel:
    """Link numba-cuda's LTO-IR (and the NVRTC LTO-IR of linked CUDA C) as the driver would."""
    results = {}
    for extra in (["-ptx"], []):
        options = [f"-arch={arch}", "-lto", "-verbose", *extra]
        handle = nvjitlink.create(len(options), options)
        try:
            for number, code in enumerate(codes):
                data = code if isinstance(code, bytes) else bytes(code.code)
                nvjitlink.add_data(handle, nvjitlink.InputType.LTOIR, data, len(data), f"input{number}")
            try:
                nvjitlink.complete(handle)
            except nvjitlink.nvJitLinkError as exc:
                raise RuntimeError(_log(handle, nvjitlink.get_error_log_size, nvjitlink.get_error_log)) from exc
            if extra:
                size = nvjitlink.get_linked_ptx_size(handle)
                ptx = bytearray(size)
                nvjitlink.get_linked_ptx(handle, ptx)
                results["ptx"] = ptx.decode().rstrip("\x00")
            else:
                results["report"] = _log(handle, nvjitlink.get_info_log_size, nvjitlink.get_info_log)
        finally:
            nvjitlink.destroy(handle)
    return LinkedKernel(results["ptx"], results["report"])


def compile_linked_kernel(kernels, c_function: str, cc: tuple, threads_per_block: int) -> LinkedKernel:
    """kernels/gpu.py's kernel around ``c_function``, compiled and linked for ``cc``."""
    from numba.cuda.compiler import compile_all

    codes, _ = compile_all(kernels.linked_loop_function(c_function),
                           "void(float32[:], int64[:, :], int32, uint32, uint32)", device=False, cc=cc,
                           abi="numba", output="ltoir", launch_bounds=(threads_per_block, 1))
    arch = f"sm_{cc[0]}{cc[1]}{cc[2] if len(cc) > 2 else ''}"
    return link_ltoir(codes, arch)
