"""``tppcalc batch``: every row of a CSV, JSON Lines, Parquet or Excel file, classified."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import click

from tppcalc.cli.options import current_catalogue, rule_options
from tppcalc.errors import InputError

EXIT_CONTROLLED = 3
EXIT_ROW_ERRORS = 4
# tppcalc.batch.FORMATS, named here so that loading the CLI does not import numpy (a test checks).
FORMAT_NAMES = ("csv", "jsonl", "parquet", "xlsx")


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", default="-", show_default=True, metavar="OUTPUT", help="Output file (a regular file, written whole or not at all); - for stdout.")
@click.option("--format", "file_format", type=click.Choice(FORMAT_NAMES),
              help="Output format (default: OUTPUT's extension; on stdout, the input's if text, else csv); "
                   "also the input's, where its extension does not tell.")
@rule_options
@click.option("--fail-on", type=click.Choice(["controlled", "error"]), multiple=True,
              help=f"Exit {EXIT_CONTROLLED} if any row is or may be controlled (undetermined and error rows "
                   f"count), or {EXIT_ROW_ERRORS} if any row has an error; repeatable.")
@click.option("--json-summary", is_flag=True, help="Print the summary on stderr as one JSON object.")
@click.option("--raw-cells", is_flag=True,
              help="Write text cells that start with =, +, -, @, tab or CR as they are; by default CSV and Excel "
                   "output prefix them with ' so that a spreadsheet does not run them as formulas.")
@click.pass_context
def batch(ctx: click.Context, input_path: Path, output: str, file_format: str | None, rules,
          fail_on: tuple[str, ...], json_summary: bool, raw_cells: bool) -> None:
    """Classify every row of INPUT and write it back with tpp, performance_density, eccn,
    license_required, reason and error.

    \b
    Rows give either a catalogue chip (`chip`, optional `quantity`) or figures
    (dense_<precision>_tflops / dense_int8_tops ..., die_area_mm2, datacenter, io_bidir_gbps,
    dram_bandwidth_gbps; empty means unknown). Formats: .csv, .jsonl, .parquet, .xlsx.

    \b
    Examples:
      tppcalc batch products.csv -o classified.csv --dest CN --as-of 2026-02-01
      tppcalc batch fleet.xlsx --format jsonl --fail-on controlled --json-summary
    """
    from tppcalc.batch import classify_file
    from tppcalc.outputs import atomic_output, check_target, checked_stdout
    from tppcalc.render.terminal import progress

    input_format, output_format = _formats(input_path, output, file_format)
    if output != "-":
        check_target(output, inputs=[input_path])  # before any work: not a device, folder or the input
    with _open_input(input_path, input_format) as source:
        # Text formats are read front to back, so the bytes read measure the work done (where the
        # input is a regular file: a pipe has no size and no position). Rows written to the
        # terminal itself would tear through a bar.
        streamed = stat.S_ISREG(os.fstat(source.fileno()).st_mode) and input_format in ("csv", "jsonl")
        with progress(f"classifying {input_path.name}", total=os.fstat(source.fileno()).st_size if streamed
                      else None, enabled=not (output == "-" and sys.stdout.isatty())) as bar:
            def done(rows: int) -> None:
                bar.describe(f"classifying {input_path.name}: {rows:,} rows")
                if streamed:
                    bar.update(source.tell())

            options = dict(input_format=input_format, output_format=output_format, where=str(input_path),
                           catalogue=current_catalogue, progress=done, raw_cells=raw_cells, **rules.keywords())
            # Binary sinks: formats choose their encoding. Every write is checked; a file appears
            # only when complete.
            with (checked_stdout() if output == "-" else atomic_output(output, inputs=[input_path])) as sink:
                summary = classify_file(source, sink, **options)

    _show_summary(summary, json_summary)
    if "error" in fail_on and summary.errors:
        ctx.exit(EXIT_ROW_ERRORS)
    if "controlled" in fail_on and (summary.controlled or summary.undetermined or summary.errors):
        ctx.exit(EXIT_CONTROLLED)


def _formats(input_path: Path, output: str, file_format: str | None) -> tuple[str, str]:
    """The input's format and the output's: --format, else each file's extension; on stdout, the
    input's if text, else csv."""
    from tppcalc.batch import format_of

    input_format = format_of(str(input_path), file_format)
    if input_format is None:
        raise InputError("cannot tell the format from the extension; name the file .csv, .jsonl, .parquet or "
                         ".xlsx, or give --format", where=str(input_path))
    output_format = (file_format or (format_of(output, None) if output != "-" else None)
                     or (input_format if input_format in ("csv", "jsonl") else "csv"))
    return input_format, output_format


def _open_input(input_path: Path, input_format: str):
    """The input, opened once (binary); a pipe or device only for the formats read front to back."""
    try:
        source = open(input_path, "rb")
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), where=str(input_path)) from None
    if not stat.S_ISREG(os.fstat(source.fileno()).st_mode) and input_format in ("parquet", "xlsx"):
        source.close()
        raise InputError(f"a {input_format} file is read out of order: give a regular file, not a pipe or "
                         "device", where=str(input_path))
    return source


def _show_summary(summary, json_summary: bool) -> None:
    """The summary on stderr: one JSON object, or the table and every unresolved name at once (one
    run to clean a file)."""
    if json_summary:
        click.echo(json.dumps(summary.as_dict()), err=True)
    else:
        from tppcalc.render.report import batch_notice_items, batch_summary_table, batch_unresolved_items
        from tppcalc.render.terminal import show

        extra = [items for items in (batch_notice_items(summary), batch_unresolved_items(summary)) if items]
        show([batch_summary_table(summary), *extra], stream=sys.stderr)
