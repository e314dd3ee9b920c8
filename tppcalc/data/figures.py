"""A ChipSpec from loose figures: command-line flags, a batch row, a procurement form.

The figures arrive as text ("fp8=1978.9", "814:finfet") or numbers; each is parsed exactly and
the resulting spec cites where it came from (``source_title``), so the provenance rule holds for
ad-hoc input as it does for the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from tppcalc.core.exact import EXACT, positive, to_decimal
from tppcalc.core.precision import Precision, parse_precision
from tppcalc.data.spec import (
    SLUG,
    ChipSpec,
    Die,
    DieRole,
    Kind,
    Memory,
    ProcessingUnit,
    Source,
    Sourced,
    SourcedFlag,
    SourcedNonNegative,
    SourcedPositive,
    Throughput,
    TransistorArchitecture,
    check_area,
)
from tppcalc.errors import InputError

# Rate units accepted after a number; the model stores tera-operations per second.
_RATE_SCALE = {
    "": Decimal(1), "t": Decimal(1), "tops": Decimal(1), "tflops": Decimal(1),
    "g": Decimal("0.001"), "gops": Decimal("0.001"), "gflops": Decimal("0.001"),
    "p": Decimal(1000), "pops": Decimal(1000), "pflops": Decimal(1000),
}
_RATE = re.compile(r"^\s*(?P<number>[^a-zA-Z]*[0-9.][^a-zA-Z]*?)\s*(?P<unit>[a-zA-Z]*)\s*$")
# Refused as a rate, with its own message: a spreadsheet writes 1978.9 as 1.98E+03, digits lost, and
# a figure rounded down can cross a line the wrong way.
_EXPONENT = re.compile(r"^\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+\s*[a-zA-Z]*\s*$")

_SOURCE_KEY = "input"


def parse_rate(text: str | int | float | Decimal, *, what: str = "throughput") -> Decimal:
    """A dense rate in TOPS from ``"1978.9"``, ``"1978900 GFLOPS"`` or ``"1.9789P"``."""
    if not isinstance(text, str):
        return positive(text, what=what)
    match = _RATE.match(text)
    unit = match.group("unit").lower() if match else ""
    if match is None or unit not in _RATE_SCALE:
        # Let to_decimal produce the precise complaint (sparse marker, not a number, ...).
        if _EXPONENT.match(text):
            raise InputError(f"{what} {text!r}: exponent notation is not read as a rate (a spreadsheet's "
                             "1.98E+03 may have lost digits): write the figure out, with TOPS, GOPS or POPS if you like")
        positive(text, what=what)
        raise InputError(f"{what} {text!r}: unknown unit (use TOPS, GOPS or POPS)")
    number = positive(match.group("number"), what=what)
    # In EXACT: the default context's 28 digits rounded 599.99...9 (44 digits) up to 600.
    return EXACT.multiply(number, _RATE_SCALE[unit])


def parse_dense_flag(text: str) -> tuple[Precision, Decimal]:
    """``"fp8=1978.9"`` to ``(Precision.FP8, Decimal("1978.9"))``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise InputError(f"expected PRECISION=VALUE, got {text!r}", field="--dense")
    try:
        precision = parse_precision(name)
        return precision, parse_rate(value, what=f"{precision} throughput")
    except InputError as exc:
        raise type(exc)(exc.problem, field="--dense") from None


def die_area(value: object) -> Decimal:
    """A die's area in mm2: greater than zero and no larger than a whole wafer (``check_area``)."""
    return check_area(positive(value, what="die area"), "die area")


def parse_die_flag(text: str) -> tuple[Decimal, TransistorArchitecture]:
    """``"814:finfet"`` to ``(Decimal("814"), TransistorArchitecture.FINFET)``."""
    area, sep, arch = text.partition(":")
    if not sep:
        raise InputError(f"expected AREA_MM2:ARCH, got {text!r}", field="--die")
    architecture = _architecture(arch.strip().lower(), field="--die")
    try:
        return die_area(area), architecture
    except InputError as exc:
        raise InputError(exc.problem, field="--die") from None


def spec_from_figures(
    dense_tops: Mapping[Precision | str, object],
    *,
    dies: Iterable[tuple[object, TransistorArchitecture | str]] = (),
    datacenter: bool | None = None,
    io_bidir_gbps: object = None,
    dram_bandwidth_gbps: object = None,
    chip_id: str = "input",
    name: str = "figures given",
    source_title: str = "figures given by the user",
) -> ChipSpec:
    """Build a one-unit ChipSpec. Omitted figures are recorded as unknown, never as zero.

    Every figure is checked here, by the parsers above and the few checks below, so the record is
    put together with ``model_construct``: validating it would build pydantic's validator for
    ChipSpec, and with it import pydantic's plugin loader (about 35 ms of a ``tppcalc calc``
    start, more than the whole command's own work). ``tests/test_properties.py`` holds every
    record built here equal to what ``ChipSpec.model_validate`` makes of it.
    """
    chip_id, name, source_title = _text(chip_id, "chip_id"), _text(name, "name"), _text(source_title, "source_title")
    if not re.fullmatch(SLUG, chip_id):
        raise InputError(f"{chip_id!r} is not an id: lower-case letters, digits and . + - only", field="chip_id")
    if datacenter is not None and not isinstance(datacenter, bool):
        raise InputError(f"expected true, false or unknown, got {datacenter!r}", field="datacenter")
    rates = {}
    for precision, value in dense_tops.items():
        key = parse_precision(precision) if isinstance(precision, str) else Precision(precision)
        rates[key] = _given(Throughput, parse_rate(value, what=f"{key} throughput"))
    if not rates:
        raise InputError("give at least one dense throughput", field="dense_tops")
    logic_dies = tuple(
        Die.model_construct(name=f"logic die {i + 1}", role=DieRole.LOGIC,
                            area_mm2=_given(SourcedPositive, die_area(area)),
                            transistor_architecture=_architecture(arch, field="dies"), source=_SOURCE_KEY)
        for i, (area, arch) in enumerate(dies)
    )
    check_area(sum((d.area_mm2.value for d in logic_dies), Decimal(0)), "the dies' total area")
    memory = None
    if dram_bandwidth_gbps is not None:
        memory = Memory.model_construct(dram_bandwidth_gbps=_optional(dram_bandwidth_gbps, "DRAM bandwidth"))
    return ChipSpec.model_construct(
        id=chip_id,
        vendor="unspecified",
        name=name,
        kind=Kind.ASIC,
        datacenter=_unknown(SourcedFlag) if datacenter is None else _given(SourcedFlag, datacenter),
        processing_units=(ProcessingUnit.model_construct(name="declared figures", dense_tops=rates),),
        dies=logic_dies,
        memory=memory,
        io_bidir_gbps=_optional(io_bidir_gbps, "I/O rate"),
        sources={_SOURCE_KEY: Source.model_construct(title=source_title)},
    )


def _text(value: object, field: str) -> str:
    """A name as validation would keep it (whitespace stripped); an empty one is refused."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"expected a non-empty text, got {value!r}", field=field)
    return value.strip()


def _architecture(value: TransistorArchitecture | str, *, field: str) -> TransistorArchitecture:
    try:
        return TransistorArchitecture(value)
    except ValueError:
        known = "|".join(a.value for a in TransistorArchitecture)
        raise InputError(f"unknown transistor architecture {value!r} (use {known})", field=field) from None


def _given(model: type[Sourced], value: object) -> Sourced:
    return model.model_construct(value=value, source=_SOURCE_KEY)


def _unknown(model: type[Sourced]) -> Sourced:
    return model.model_construct(unknown="not given")


def _optional(value: object, what: str) -> SourcedNonNegative:
    if value is None:
        return _unknown(SourcedNonNegative)
    number = to_decimal(value, what=what)
    if number < 0:
        raise InputError(f"{what} must not be negative, got {value!r}")
    return _given(SourcedNonNegative, number)
