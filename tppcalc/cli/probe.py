"""``tppcalc probe``: identify, measure and classify every GPU and CPU of this node (or a dump)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tppcalc.cli.options import current_catalogue, rule_options
from tppcalc.errors import InputError


@click.group(invoke_without_command=True)
@click.option("--replay", type=click.Path(path_type=Path, dir_okay=False),
              help="Replay a recorded dump instead of probing this machine.")
@click.option("--from-nvidia-smi", "nvidia_smi", type=click.Path(path_type=Path, dir_okay=False),
              help="Classify the node an nvidia-smi dump describes (`nvidia-smi -q -x`, or the CSV of "
                   "`--query-gpu=name,pci.device_id,pci.sub_device_id,memory.total,clocks.max.sm --format=csv`).")
@rule_options
@click.option("--explain", is_flag=True, help="Print each device's reasoning.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a self-contained HTML audit report to FILE.")
@click.option("--bench", is_flag=True, help="Also measure every GPU and the CPU with microbenchmark kernels.")
@click.pass_context
def probe(ctx: click.Context, replay: Path | None, nvidia_smi: Path | None, rules, explain: bool, as_json: bool,
          html_path: Path | None, bench: bool) -> None:
    """Find every GPU and CPU, identify each against the catalogue, compute its metrics, classify it
    and the node (4A090), and say plainly what could not be read."""
    if ctx.invoked_subcommand is not None:
        return
    from tppcalc.probe.assess import assess
    from tppcalc.probe.run import load_dump, probe_live, report_from_dump
    from tppcalc.render.report import node_blocks, node_dict

    if replay and nvidia_smi:
        raise InputError("give --replay or --from-nvidia-smi, not both", field="--from-nvidia-smi")
    source = replay or nvidia_smi  # the file the node is read from, if not this machine
    if bench and source:
        raise InputError("--bench measures this machine's hardware; it cannot run on a "
                         + ("replayed dump" if replay else "nvidia-smi dump"), field="--bench")
    if nvidia_smi:
        from tppcalc.probe.nvidia_smi import report_from_nvidia_smi

        report = report_from_nvidia_smi(nvidia_smi)
    else:
        report = report_from_dump(load_dump(replay)) if replay else probe_live()
    catalogue = current_catalogue()
    result = assess(report, catalogue, **rules.keywords())
    measurements = None
    if bench:
        from tppcalc.measure.run import measure_host

        measurements = measure_host(report=report)
    if html_path is not None:
        from tppcalc.outputs import check_target
        from tppcalc.render.html_report import write_node_html

        check_target(html_path, inputs=[source] if source else [], field="--html")  # never the dump read
        write_node_html(result, html_path, catalogue=catalogue, measurements=measurements,
                        extra_files={"probe dump" if replay else "nvidia-smi dump": source} if source else None)
        click.echo(f"wrote {html_path}", err=True)
    if as_json:
        document = node_dict(result)
        if measurements is not None:
            document["measurements"] = measurements
        click.echo(json.dumps(document, indent=2))
    else:
        from tppcalc.render.terminal import show

        blocks = node_blocks(result, explain=explain)
        if measurements is not None:
            from tppcalc.render.report import measurement_blocks

            blocks += measurement_blocks(measurements)
        show(blocks)


@probe.command("record")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the dump (JSON).")
def record(output: Path) -> None:
    """Probe this machine and write every raw NVML answer, the PCI bus (sysfs) and the CPU sources,
    for replay."""
    from tppcalc.probe.run import record_live

    dump = record_live()
    from tppcalc.outputs import write_file

    write_file(output, json.dumps(dump, indent=1, sort_keys=True) + "\n")
    calls = len(dump["nvml"]["calls"])
    functions = len(dump["pci"]["devices"])
    click.echo(f"wrote {output}: {calls} NVML calls ({dump['nvml']['status']}), {functions} PCI functions "
               f"({dump['pci']['status']}), CPU sources", err=True)
