"""``tppcalc bench``: measure what the hardware really does and compare it with its label."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.option("--cpu", "cpu_only", is_flag=True, help="Measure only the CPU.")
@click.option("--device", "devices", type=int, multiple=True, metavar="N",
              help="Measure only CUDA device N (repeatable).")
@click.option("--precision", "precisions", multiple=True, metavar="P",
              help="Only these precisions on GPUs (fp64, fp32, fp16, bf16, tf32, fp8, int8; repeatable).")
@click.option("--quick", is_flag=True, help="Short runs (about 5 s for the CPU, 10 s for a GPU).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with a `devices` list.")
def bench(cpu_only: bool, devices: tuple[int, ...], precisions: tuple[str, ...], quick: bool, as_json: bool) -> None:
    """FMA and tensor-core throughput per precision against the theoretical peak at the measured
    and the declared clock, memory bandwidth, and a verdict for each device. Without --cpu or
    --device: every GPU numba-cuda can see, then the CPU."""
    from tppcalc.errors import InputError
    from tppcalc.measure.run import measure_host

    if cpu_only and devices:
        raise InputError("give --cpu or --device, not both", field="--device")

    def progress(step: str) -> None:
        if not as_json and sys.stderr.isatty():
            click.echo(f"measuring {step} ...", err=True)

    document = measure_host(cpu=not devices, gpus=None if not devices else list(devices),
                            all_gpus=not cpu_only and not devices, precisions=set(precisions) or None,
                            quick=quick, progress=progress)
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(measurement_text(document))


def measurement_text(document: dict) -> str:
    lines = [f"{entry['kind']}: {entry['reason']}" for entry in document["unavailable"]]
    for entry in document["devices"]:
        clock = entry["measured_clock_mhz"]
        heading = entry["name"] + (f" ({entry['microarchitecture']}, {entry['threads']} threads)" if entry["kind"] == "cpu"
                                   else f" (GPU {entry['index']}, sm_{entry['compute_capability'].replace('.', '')}, "
                                        f"{entry['multiprocessors']} SMs)")
        lines.append(heading + (f", measured clock {clock:.0f} MHz" if clock else ", clock not measured"))
        for result in entry["results"]:
            label = f"  {result['precision']:<5} {result['unit']:<6}"
            if result["status"] != "measured":
                lines.append(f"{label} cannot run: {result['reason']}")
                continue
            fraction, declared = result["fraction_at_measured_clock"], result["fraction_of_datasheet"]
            lines.append(f"{label} {result['measured_tflops']:10.3f} T/s"
                         + (f"  {fraction:6.1%} of theoretical at the measured clock" if fraction else "")
                         + (f"  {declared:6.1%} of the datasheet" if declared else "")
                         + ("" if result["reaches_peak"] else "  (lower bound)"))
        bandwidth = entry["memory_bandwidth_gbps"]
        if bandwidth is not None:
            share = entry.get("memory_bandwidth_fraction")
            lines.append(f"  memory bandwidth {bandwidth:.1f} GB/s" + (f" ({share:.1%} of the datasheet)" if share else ""))
        lines.append(f"  verdict: {entry['verdict']}")
    return "\n".join(lines)
