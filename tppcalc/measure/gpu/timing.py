"""Timing a kernel and reading the clocks it ran at: CUDA events, the SMs' own cycle counter against
the global nanosecond timer, and NVML sampled on a thread while the kernel runs."""

from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass, field
from typing import Self


@dataclass
class ClockSamples:
    """What NVML said while the kernels ran."""

    sm_clock_mhz: list[int] = field(default_factory=list)
    power_watts: list[float] = field(default_factory=list)
    temperature_c: list[int] = field(default_factory=list)
    reasons: set[str] = field(default_factory=set)
    errors: set[str] = field(default_factory=set)

    def summary(self) -> dict:
        def span(values):
            return {"min": min(values), "max": max(values)} if values else None

        return {"sm_clock_mhz": span(self.sm_clock_mhz), "power_watts": span(self.power_watts),
                "temperature_c": span(self.temperature_c), "clock_event_reasons": sorted(self.reasons),
                "errors": sorted(self.errors)}


class NvmlSampler:
    """Polls NVML on a thread while a kernel runs (every ``interval_s``)."""

    def __init__(self, nvml, index: int | None, interval_s: float = 0.02):
        self._nvml, self._index, self._interval = nvml, index, interval_s
        self.samples = ClockSamples()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        if self._nvml is not None and self._index is not None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample()  # one more after the kernel, so a short run still has a reading

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    def _sample(self) -> None:
        from tppcalc.probe.nvml import NVML_CLOCK_SM, NvmlCallError, clock_event_reasons

        reads = (("sm_clock_mhz", "nvmlDeviceGetClockInfo", (NVML_CLOCK_SM,), int),
                 ("power_watts", "nvmlDeviceGetPowerUsage", (), lambda mw: mw / 1000),
                 ("temperature_c", "nvmlDeviceGetTemperature", (0,), int))
        for name, function, args, convert in reads:
            try:
                getattr(self.samples, name).append(convert(self._nvml.call(function, self._index, *args)))
            except NvmlCallError as exc:
                self.samples.errors.add(f"{function}: {exc.kind}")
        try:
            mask = self._nvml.call("nvmlDeviceGetCurrentClocksEventReasons", self._index)
            self.samples.reasons.update(r for r in clock_event_reasons(mask) if r != "gpu_idle")
        except NvmlCallError as exc:
            self.samples.errors.add(f"nvmlDeviceGetCurrentClocksEventReasons: {exc.kind}")


def merge_samples(total: ClockSamples, part: ClockSamples) -> None:
    total.sm_clock_mhz += part.sm_clock_mhz
    total.power_watts += part.power_watts
    total.temperature_c += part.temperature_c
    total.reasons |= part.reasons
    total.errors |= part.errors


def timed(cuda, kernel, out, clock_record, iterations, a, b) -> float:
    start, end = cuda.event(), cuda.event()
    start.record()
    kernel(out, clock_record, iterations, a, b)
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000


def kernel_clock_mhz(record) -> float | None:
    """Median over blocks of SM cycles per microsecond of the global timer."""
    rates = [(row[1] - row[0]) / (row[3] - row[2]) * 1000 for row in record if row[3] > row[2] and row[1] > row[0]]
    return statistics.median(rates) if rates else None
