"""The peer to beat: a cuBLAS GEMM through the PyTorch (or CuPy) already on the GPU machine.

Dense square products on random data, the way MAMF-finder and the device notes measure them:
three warm-ups, then the mean of ten timed products. Prints one JSON object.

    python bench/gpu/peer_gemm.py [--size 8192]
"""

from __future__ import annotations

import argparse
import json
import time


def torch_gemm(size: int) -> dict:
    import torch

    results = {"library": f"torch {torch.__version__} (cuBLAS)", "device": torch.cuda.get_device_name(0),
               "size": size, "tflops": {}}
    for name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16), ("tf32", torch.float32),
                        ("fp32", torch.float32)):
        torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
        a = torch.randn(size, size, device="cuda", dtype=dtype)
        b = torch.randn(size, size, device="cuda", dtype=dtype)
        for _ in range(3):
            a @ b
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / 10
        results["tflops"][name] = 2 * size**3 / seconds / 1e12
    if hasattr(torch, "_scaled_mm") and hasattr(torch, "float8_e4m3fn"):
        try:
            a = torch.randn(size, size, device="cuda").to(torch.float8_e4m3fn)
            b = torch.randn(size, size, device="cuda").to(torch.float8_e4m3fn).t()
            one = torch.tensor(1.0, device="cuda")
            for _ in range(3):
                torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(10):
                torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
            torch.cuda.synchronize()
            results["tflops"]["fp8"] = 2 * size**3 / ((time.perf_counter() - start) / 10) / 1e12
        except RuntimeError as exc:  # not every build or GPU has FP8 GEMM
            results["fp8_error"] = str(exc).splitlines()[0]
    return results


def cupy_gemm(size: int) -> dict:
    import cupy

    results = {"library": f"cupy {cupy.__version__} (cuBLAS)", "size": size, "tflops": {}}
    for name, dtype in (("fp16", cupy.float16), ("fp32", cupy.float32)):
        a = cupy.random.standard_normal((size, size)).astype(dtype)
        b = cupy.random.standard_normal((size, size)).astype(dtype)
        for _ in range(3):
            a @ b
        cupy.cuda.Device().synchronize()
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        cupy.cuda.Device().synchronize()
        results["tflops"][name] = 2 * size**3 / ((time.perf_counter() - start) / 10) / 1e12
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192)
    size = parser.parse_args().size
    try:
        results = torch_gemm(size)
    except ImportError:
        results = cupy_gemm(size)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
