"""Options shared by the commands that take a chip's figures (calc now, classify later)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tppcalc.errors import InputError

if TYPE_CHECKING:  # the models are imported by the commands that use them, after start-up
    from tppcalc.data.spec import ChipSpec


@dataclass(frozen=True)
class CatalogueChoice:
    """The group's catalogue options; the catalogue itself is loaded only by commands that need it."""

    specs_dirs: tuple[Path, ...] = ()
    override: bool = False

    def load(self):
        from tppcalc.data.catalogue import Catalogue, default_catalogue, user_spec_dirs

        if not self.specs_dirs and not self.override:
            return default_catalogue()
        return Catalogue.load(user_dirs=user_spec_dirs(self.specs_dirs), allow_override=self.override)


def current_catalogue():
    """The catalogue chosen by the group options of the running command."""
    ctx = click.get_current_context()
    choice = ctx.find_object(CatalogueChoice) or CatalogueChoice()
    return choice.load()


def figure_options(command):
    """``--dense``, ``--die``, ``--datacenter/--no-datacenter``, ``--io-gbps``, ``--dram-gbps``,
    ``--spec FILE`` and ``--id``."""
    options = [
        click.option("--dense", "dense", multiple=True, metavar="PREC=VALUE",
                     help="Dense throughput in TFLOPS/TOPS (suffix G/T/P for GOPS/TOPS/POPS); repeatable."),
        click.option("--die", "dies", multiple=True, metavar="AREA_MM2:ARCH",
                     help="A logic die: area in mm² and transistor architecture planar|finfet|gaa; repeatable."),
        click.option("--datacenter/--no-datacenter", default=None,
                     help="Designed or marketed for datacenters (unknown when omitted)."),
        click.option("--io-gbps", metavar="GB/S", help="Aggregate bidirectional I/O rate."),
        click.option("--dram-gbps", metavar="GB/S", help="Total DRAM bandwidth."),
        click.option("--spec", "spec_file", type=click.Path(path_type=Path, dir_okay=False),
                     help="A spec file (TOML or JSON) instead of the flags."),
        click.option("--id", "record_id", metavar="ID", help="Which record of a multi-record --spec file."),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapper(*args, dense, dies, datacenter, io_gbps, dram_gbps, spec_file, record_id, **kwargs):
        spec = spec_from_options(dense, dies, datacenter, io_gbps, dram_gbps, spec_file, record_id)
        return command(*args, spec=spec, **kwargs)

    return wrapper


def spec_from_options(dense, dies, datacenter, io_gbps, dram_gbps, spec_file, record_id) -> ChipSpec | None:
    flags_given = dense or dies or datacenter is not None or io_gbps or dram_gbps
    if spec_file is not None:
        if flags_given:
            raise click.UsageError("give either --spec FILE or figure flags, not both")
        from tppcalc.data.specfile import load_spec_file

        return _pick_record(load_spec_file(spec_file), record_id, spec_file)
    if record_id is not None:
        raise click.UsageError("--id selects a record of a --spec file")
    if not flags_given:
        return None  # the command decides whether figures were required
    from tppcalc.data.figures import parse_dense_flag, parse_die_flag, spec_from_figures

    if not dense:
        raise click.UsageError("give at least one --dense PREC=VALUE (or --spec FILE)")
    rates = {}
    for text in dense:
        precision, value = parse_dense_flag(text)
        if precision in rates:
            raise InputError(f"{precision} given twice", field="--dense")
        rates[precision] = value
    return spec_from_figures(
        rates,
        dies=[parse_die_flag(text) for text in dies],
        datacenter=datacenter,
        io_bidir_gbps=_flag_number(io_gbps, "--io-gbps"),
        dram_bandwidth_gbps=_flag_number(dram_gbps, "--dram-gbps"),
        source_title="command-line flags",
    )


def _flag_number(text: str | None, flag: str):
    from tppcalc.core.exact import to_decimal

    if text is None:
        return None
    try:
        return to_decimal(text, what="value")
    except InputError as exc:
        raise InputError(exc.problem, field=flag) from None


def _pick_record(specs: list[ChipSpec], record_id: str | None, path: Path) -> ChipSpec:
    if record_id is None:
        if len(specs) == 1:
            return specs[0]
        ids = ", ".join(s.id for s in specs)
        raise InputError(f"holds {len(specs)} records ({ids}); choose one with --id", where=str(path))
    for spec in specs:
        if spec.id == record_id:
            return spec
    raise InputError(f"no record with id {record_id!r}", where=str(path))


def rule_options(command):
    """``--dest``, ``--hq``, ``--as-of``, ``--edition``, ``--as-written``: which rules, for whom."""
    options = [
        click.option("--dest", metavar="COUNTRY", help="Destination country (ISO code or name)."),
        click.option("--hq", metavar="COUNTRY", help="Country of the end user's headquarters (default: --dest)."),
        click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
                     help="Use the rules in force on this date (default: today)."),
        click.option("--edition", metavar="ID", help="Use this rule edition (see `tppcalc rules list`)."),
        click.option("--as-written", is_flag=True,
                     help="Apply the regulations text even where BIS does not enforce it (AI Diffusion)."),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapper(*args, dest, hq, as_of, edition, as_written, **kwargs):
        from tppcalc.decisions.rules.countries import resolve_country

        choice = RuleChoice(
            dest=None if dest is None else resolve_country(dest, option="--dest"),
            hq=None if hq is None else resolve_country(hq, option="--hq"),
            as_of=None if as_of is None else as_of.date(),
            edition=edition,
            as_written=as_written,
        )
        return command(*args, rules=choice, **kwargs)

    return wrapper


@dataclass(frozen=True)
class RuleChoice:
    dest: str | None
    hq: str | None
    as_of: object
    edition: str | None
    as_written: bool

    def keywords(self) -> dict:
        return {"dest": self.dest, "hq": self.hq, "as_of": self.as_of, "edition": self.edition,
                "as_written": self.as_written}
