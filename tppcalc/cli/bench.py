"""``tppcalc bench``: measure what the hardware really does and compare it with its label."""

from __future__ import annotations

import dataclasses
import json
import sys

import click


@click.command()
@click.option("--cpu", "cpu_only", is_flag=True, help="Measure the CPU (the default while GPU kernels are absent).")
@click.option("--device", type=int, metavar="N", help="Measure GPU N (not available in this version).")
@click.option("--quick", is_flag=True, help="Short runs (about 5 s for the CPU).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with a `devices` list.")
def bench(cpu_only: bool, device: int | None, quick: bool, as_json: bool) -> None:
    """FMA throughput per precision against the theoretical peak at the measured and the declared
    clock, memory bandwidth, and a verdict for each device."""
    from tppcalc.errors import InputError
    from tppcalc.measure.cpu import measure_cpu
    from tppcalc.probe.run import probe_live

    if device is not None:
        raise InputError("GPU microbenchmarks are not available in this version of tppcalc; use --cpu",
                         field="--device")
    report = probe_live()
    devices = []
    for cpu in report.cpus:
        def progress(step: str) -> None:
            if not as_json and sys.stderr.isatty():
                click.echo(f"measuring {step} ...", err=True)
        measurement = measure_cpu(cpu, quick=quick, progress=progress)
        devices.append({"kind": "cpu", **dataclasses.asdict(measurement)})
    if as_json:
        click.echo(json.dumps({"host": report.hostname, "devices": devices}, indent=2))
        return
    for entry in devices:
        clock = entry["measured_clock_mhz"]
        click.echo(f"{entry['name']} ({entry['microarchitecture']}), {entry['threads']} threads, "
                   f"measured clock {clock:.0f} MHz" if clock else f"{entry['name']}: clock not measured")
        for result in entry["results"]:
            fraction = result["fraction_at_measured_clock"]
            click.echo(f"  {result['precision']:<5} {result['measured_tflops'] * 1000:10.1f} GFLOPS"
                       + (f"  {fraction:6.1%} of theoretical at the measured clock" if fraction else ""))
        click.echo(f"  memory bandwidth (triad) {entry['memory_bandwidth_gbps']:.1f} GB/s")
        click.echo(f"  verdict: {entry['verdict']}")
