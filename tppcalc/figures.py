"""A ChipSpec from loose figures: command-line flags, a batch row, a procurement form.

The figures arrive as text ("fp8=1978.9", "814:finfet") or numbers; each is parsed exactly and
the resulting spec cites where it came from (``source_title``), so the provenance rule holds for
ad-hoc input as it does for the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from pydantic import ValidationError

from tppcalc.errors import InputError, SpecError
from tppcalc.exact import positive, to_decimal
from tppcalc.precision import Precision, parse_precision
from tppcalc.spec import ChipSpec, TransistorArchitecture
from tppcalc.specfile import validation_errors

# Rate units accepted after a number; the model stores tera-operations per second.
_RATE_SCALE = {
    "": Decimal(1), "t": Decimal(1), "tops": Decimal(1), "tflops": Decimal(1),
    "g": Decimal("0.001"), "gops": Decimal("0.001"), "gflops": Decimal("0.001"),
    "p": Decimal(1000), "pops": Decimal(1000), "pflops": Decimal(1000),
}
_RATE = re.compile(r"^\s*(?P<number>[^a-zA-Z]*[0-9.][^a-zA-Z]*?)\s*(?P<unit>[a-zA-Z]*)\s*$")

_SOURCE_KEY = "input"


def parse_rate(text: str | int | float | Decimal, *, what: str = "throughput") -> Decimal:
    """A dense rate in TOPS from ``"1978.9"``, ``"1978900 GFLOPS"`` or ``"1.9789P"``."""
    if not isinstance(text, str):
        return positive(text, what=what)
    match = _RATE.match(text)
    unit = match.group("unit").lower() if match else ""
    if match is None or unit not in _RATE_SCALE:
        # Let to_decimal produce the precise complaint (sparse marker, not a number, ...).
        positive(text, what=what)
        raise InputError(f"{what} {text!r}: unknown unit (use TOPS, GOPS or POPS)")
    number = positive(match.group("number"), what=what)
    return number * _RATE_SCALE[unit]


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


def parse_die_flag(text: str) -> tuple[Decimal, TransistorArchitecture]:
    """``"814:finfet"`` to ``(Decimal("814"), TransistorArchitecture.FINFET)``."""
    area, sep, arch = text.partition(":")
    if not sep:
        raise InputError(f"expected AREA_MM2:ARCH, got {text!r}", field="--die")
    try:
        architecture = TransistorArchitecture(arch.strip().lower())
    except ValueError:
        known = "|".join(a.value for a in TransistorArchitecture)
        raise InputError(f"unknown transistor architecture {arch!r} (use {known})", field="--die") from None
    try:
        return positive(area, what="die area"), architecture
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
    """Build a one-unit ChipSpec. Omitted figures are recorded as unknown, never as zero."""
    unknown = {"unknown": "not given"}
    rates = {}
    for precision, value in dense_tops.items():
        key = parse_precision(precision) if isinstance(precision, str) else precision
        rates[key.value] = {"value": parse_rate(value, what=f"{key} throughput"), "source": _SOURCE_KEY}
    record = {
        "id": chip_id,
        "vendor": "unspecified",
        "name": name,
        "kind": "asic",
        "datacenter": unknown if datacenter is None else {"value": datacenter, "source": _SOURCE_KEY},
        "processing_units": [{"name": "declared figures", "dense_tops": rates}],
        "dies": [
            {
                "name": f"logic die {i + 1}",
                "role": "logic",
                "area_mm2": {"value": positive(area, what="die area"), "source": _SOURCE_KEY},
                "transistor_architecture": str(arch),
                "source": _SOURCE_KEY,
            }
            for i, (area, arch) in enumerate(dies)
        ],
        "io_bidir_gbps": _optional(io_bidir_gbps, "I/O rate"),
        "sources": {_SOURCE_KEY: {"title": source_title}},
    }
    if dram_bandwidth_gbps is not None:
        record["memory"] = {"dram_bandwidth_gbps": _optional(dram_bandwidth_gbps, "DRAM bandwidth")}
    try:
        return ChipSpec.model_validate(record)
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), record=chip_id) from None


def _optional(value: object, what: str) -> dict:
    if value is None:
        return {"unknown": "not given"}
    number = to_decimal(value, what=what)
    if number < 0:
        raise InputError(f"{what} must not be negative, got {value!r}")
    return {"value": number, "source": _SOURCE_KEY}
