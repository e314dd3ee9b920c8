"""``tppcalc bench``: measure what the hardware really does and compare it with its label."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--cpu", "cpu_only", is_flag=True, help="Measure only the CPU.")
@click.option("--device", "devices", type=int, multiple=True, metavar="N",
              help="Measure only CUDA device N (repeatable).")
@click.option("--precision", "precisions", multiple=True, metavar="P",
              help="Only these precisions on GPUs (fp64, fp32, fp16, bf16, tf32, fp8, int8; repeatable).")
@click.option("--quick", is_flag=True, help="Short runs (about 5 s for the CPU, 10 s for a GPU).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with a `devices` list.")
@click.option("--compare-stream", is_flag=True,
              help="Also build a C STREAM triad with the system compiler and report it beside the CPU's triad.")
def bench(cpu_only: bool, devices: tuple[int, ...], precisions: tuple[str, ...], quick: bool, as_json: bool,
          compare_stream: bool) -> None:
    """FMA and tensor-core throughput per precision against the theoretical peak at the measured
    and the declared clock, memory bandwidth, and a verdict for each device. Without --cpu or
    --device: every GPU numba-cuda can see, then the CPU."""
    from tppcalc.errors import InputError
    from tppcalc.measure.run import measure_host
    from tppcalc.render.terminal import progress

    if cpu_only and devices:
        raise InputError("give --cpu or --device, not both", field="--device")
    with progress("measuring", enabled=not as_json) as bar:
        document = measure_host(cpu=not devices, gpus=list(devices) or None, all_gpus=not cpu_only and not devices,
                                precisions=set(precisions) or None, quick=quick,
                                progress=lambda step: bar.describe(f"measuring {step}"))
        if compare_stream:
            from tppcalc.measure.stream import add_stream_comparison

            bar.describe("measuring STREAM triad (C)")
            for device in document["devices"]:
                if device["kind"] == "cpu":
                    add_stream_comparison(device)
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    from tppcalc.render.report import measurement_blocks
    from tppcalc.render.terminal import show

    show(measurement_blocks(document))
