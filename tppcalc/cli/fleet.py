"""``tppcalc fleet report`` and ``tppcalc fleet probe``."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from pathlib import Path

import click

from tppcalc.cli.options import current_catalogue

# The code batch --fail-on controlled uses for "is or may be controlled": here, a check that fails
# or may fail. 1 stays "could not run", 2 a usage error.
EXIT_CHECK_FAILED = 3
# As batch's row errors: the output is complete for what answered, but something did not answer.
EXIT_NODES_MISSING = 4


@click.group()
def fleet() -> None:
    """Fleet totals against the caps of the rules, and probing every node of a Ray cluster."""


@fleet.command("report")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--nvidia-smi-dumps", "dump_folders", multiple=True, metavar="COUNTRY=FOLDER",
              help="A folder of nvidia-smi dumps (*.xml of `nvidia-smi -q -x`, *.csv of --query-gpu), one node "
                   "a file, all in COUNTRY; the site is FOLDER/FILE. Repeat for more folders.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date (default: today).")
@click.option("--cap", "caps", multiple=True, metavar="NAME=VALUE", help="What-if limit (see the JSON for names).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a self-contained HTML audit report to FILE.")
@click.option("--unresolved", type=click.Choice(["error", "undetermined"]), default="error", show_default=True,
              help="Inventory chip names not in the catalogue: one error naming them all, or carry them as "
                   "holdings of unknown TPP (every check they touch is undetermined).")
@click.option("--fail-on", "fail_on", type=click.Choice(["failed"]),
              help=f"Exit {EXIT_CHECK_FAILED} if any check fails or is undetermined (may fail), after printing "
                   "the report.")
@click.pass_context
def report(ctx, files, dump_folders, as_of, caps, as_json, html_path, unresolved, fail_on) -> None:
    """Totals of TPP and H100-equivalents per country, tier, site and consignee, and the checks:
    LPP, the Tier 2 allocation, UVEU shares (AI Diffusion, not enforced) and the January 2026
    China volume condition. FILES: inventory TOML files and/or probe JSON Lines."""
    from tppcalc.core.exact import to_decimal
    from tppcalc.errors import InputError
    from tppcalc.fleet import report_fleet
    from tppcalc.render.report import fleet_blocks, fleet_dict

    overrides = {}
    for text in caps:
        name, sep, value = text.partition("=")
        if not sep:
            raise InputError(f"expected NAME=VALUE, got {text!r}", field="--cap")
        overrides[name.strip()] = to_decimal(value, what=f"--cap {name.strip()}")
    if not files and not dump_folders:
        raise InputError("give inventory or probe files, or --nvidia-smi-dumps COUNTRY=FOLDER", field="FILES")
    catalogue = current_catalogue()
    chips: dict = {}
    with contextlib.ExitStack() as stack:
        paths = list(files)
        if dump_folders:
            import tempfile

            from tppcalc.outputs import write_file
            from tppcalc.probe.nvidia_smi import fleet_lines

            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tppcalc-nvidia-smi-")))
            for number, text in enumerate(dump_folders):
                country, sep, folder = text.partition("=")
                if not sep or not country.strip() or not folder:
                    raise InputError(f"expected COUNTRY=FOLDER, got {text!r}", field="--nvidia-smi-dumps")
                lines = scratch / f"{number}-{Path(folder).name or 'dumps'}.jsonl"
                write_file(lines, fleet_lines(Path(folder), country.strip()), field="--nvidia-smi-dumps")
                paths.append(lines)
        result = report_fleet(paths, catalogue, as_of=None if as_of is None else as_of.date(), caps=overrides,
                              chips=chips, unresolved=unresolved)
    if html_path is not None:
        from tppcalc.outputs import check_target
        from tppcalc.render.html_report import write_fleet_html

        check_target(html_path, inputs=files, field="--html")  # never one of the inventories read
        write_fleet_html(result, html_path, inputs=list(files), chips=chips, catalogue=catalogue)
        click.echo(f"wrote {html_path}", err=True)
    if as_json:
        click.echo(json.dumps(fleet_dict(result), indent=2))
    else:
        from tppcalc.render.terminal import show

        show(fleet_blocks(result))
    # Fail closed, as batch's --fail-on controlled: a check that may fail gates like one that does.
    if fail_on == "failed" and any(check.status != "pass" for check in result.checks):
        ctx.exit(EXIT_CHECK_FAILED)


@fleet.command("probe")
@click.option("--address", help="Ray cluster address (default: the RAY_ADDRESS environment variable).")
@click.option("--local-nodes", type=click.IntRange(1, 16), help="Start a local Ray cluster of N nodes to try it out.")
@click.option("--bench", is_flag=True, help="Also measure each node (exclusive GPUs per task).")
@click.option("--timeout", "timeout_s", type=float, default=300, show_default=True, help="Seconds to wait for the nodes.")
@click.option("--connect-timeout", "connect_timeout_s", type=click.FloatRange(min=0, min_open=True), default=30,
              show_default=True, help="Seconds to wait for the cluster to answer at all.")
@click.option("--country", help="Country of the nodes (ISO code or name, resolved first), recorded on each result.")
@click.option("--site", help="Site name recorded on each result.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write JSON Lines here (atomically).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.pass_context
def probe(ctx, address, local_nodes, bench, timeout_s, connect_timeout_s, country, site, output, as_json) -> None:
    """Run `tppcalc probe` on every alive node of a Ray cluster and gather the results."""
    from tppcalc.fleet.ray_probe import probe_cluster
    from tppcalc.render.terminal import progress

    if country is not None:  # before any node is probed, and recorded as the code a report reads
        from tppcalc.decisions.rules.countries import resolve_country

        country = resolve_country(country, option="--country")

    with _exit_on_signals(), progress("starting the probes") as bar:
        def answered(done: int, total: int) -> None:
            bar.describe(f"waiting for nodes: {done} of {total} done")
            bar.update(done, total=total)

        result = probe_cluster(address=address, local_nodes=local_nodes, timeout_s=timeout_s,
                               connect_timeout_s=connect_timeout_s, bench=bench, progress=answered)
    for node in result.nodes:
        if country is not None:
            node["country"] = country
        if site:
            node["site"] = site
    if output is not None:
        from tppcalc.outputs import write_file

        with _exit_on_signals():
            write_file(output, "".join(json.dumps(node) + "\n" for node in result.nodes))
    for gone in result.missing:
        click.echo(f"tppcalc: node {gone['node_id']} ({gone['address']}) missing: {gone['reason']}", err=True)
    if as_json:
        click.echo(json.dumps({"nodes": result.nodes, "missing": result.missing}, indent=2))
    else:
        from tppcalc.render.report import fleet_probe_table
        from tppcalc.render.terminal import show

        show([fleet_probe_table(result.nodes)])
    # A node that did not answer is a node the output does not count: never a clean exit.
    if result.missing:
        ctx.exit(EXIT_NODES_MISSING)


class _Signalled(BaseException):
    """SIGTERM or SIGINT arrived: unwind (closing the cluster, removing temporaries) and exit."""


@contextlib.contextmanager
def _exit_on_signals():
    """Within the block, SIGTERM and SIGINT unwind it and end the command with 128 + the signal's
    number (Ray's own handler would otherwise wait for its connection attempts to give up)."""
    def stop(signum, _frame):
        raise _Signalled(signum)

    try:
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    except _Signalled as caught:
        signum = caught.args[0]
        click.echo(f"tppcalc: stopped by {signal.Signals(signum).name}", err=True)
        sys.exit(128 + signum)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
