"""Measuring what the hardware really does with microbenchmark kernels (compiled on first use)."""
