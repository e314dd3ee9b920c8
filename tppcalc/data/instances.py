"""Cloud instance types as computers: ``p5.48xlarge`` holds 8 x H100 SXM5 80GB.

The mapping is data (``specs/instances/cloud-instances.toml``), every entry with its source. An
instance name is an identifier, so it is matched exactly (ignoring case), never by the name
model: a near miss is not an instance, and the query goes on to the chip catalogue.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, StrictInt, ValidationError, model_validator

from tppcalc.data.catalogue import Catalogue
from tppcalc.data.resources import data_dir
from tppcalc.data.spec import ChipSpec, Source, StrictModel
from tppcalc.data.specfile import read_document, validation_errors
from tppcalc.errors import SpecError

INSTANCES_FILE = Path("instances") / "cloud-instances.toml"


def _check_sources(kind: str, entries, sources: dict) -> None:
    for entry in entries:
        if entry.source not in sources:
            raise ValueError(f"{kind} {entry.name!r}: source {entry.source!r} is not in [sources]")


class Instance(StrictModel):
    """One instance type: ``count`` units of the catalogue chip ``chip``."""

    provider: str = Field(min_length=1)
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    chip: str = Field(min_length=1, description="A catalogue chip id")
    count: StrictInt = Field(ge=1, le=1024)
    source: str
    note: str | None = None


class InstanceFile(StrictModel):
    sources: dict[str, Source]
    instance: tuple[Instance, ...]

    @model_validator(mode="after")
    def _sources_resolve(self):
        _check_sources("instance", self.instance, self.sources)
        return self


class Computer(StrictModel):
    """An instance resolved against a catalogue: what a computer classification reports."""

    instance: Instance
    source: Source
    chip: ChipSpec

    def describe(self) -> str:
        return f"{self.instance.count} x {self.chip.name}"


@functools.cache
def _shipped() -> InstanceFile:
    return read_instances(data_dir("specs") / INSTANCES_FILE)


def read_instances(path: Path) -> InstanceFile:
    return _read_data_file(path, InstanceFile)


def find_instance(query: str, catalogue: Catalogue, instances: InstanceFile | None = None) -> Computer | None:
    """The instance type named exactly ``query`` (case-insensitive), its chip checked against
    ``catalogue``; None when no instance has that name."""
    wanted = query.strip().casefold()
    if not wanted:
        return None
    data = _shipped() if instances is None else instances
    for entry in data.instance:
        if wanted in {n.casefold() for n in (entry.name, *entry.aliases)}:
            # A chip id the catalogue lacks is a data error: never a computer of unknown chips passing.
            return Computer(instance=entry, source=data.sources[entry.source], chip=catalogue.get(entry.chip))
    return None


# ---- superchips and boards as compositions of unit records ------------------------------------

COMPOSITIONS_FILE = Path("instances") / "compositions.toml"


class Unit(StrictModel):
    chip: str = Field(min_length=1, description="A catalogue chip id")
    count: StrictInt = Field(ge=1, le=1024)


class Composition(StrictModel):
    """A superchip or board: ``count`` x each unit chip. ``decomposes`` is the catalogue record
    that models the whole package as one chip, where there is one ("GB200 Superchip")."""

    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    decomposes: str | None = Field(default=None, description="A catalogue chip id")
    units: tuple[Unit, ...] = Field(min_length=1)
    source: str
    note: str | None = None


class CompositionFile(StrictModel):
    sources: dict[str, Source]
    composition: tuple[Composition, ...]

    @model_validator(mode="after")
    def _sources_resolve(self):
        _check_sources("composition", self.composition, self.sources)
        return self


class Assembly(StrictModel):
    """A composition resolved against a catalogue: its unit chips and how many of each."""

    composition: Composition
    source: Source
    units: tuple[tuple[ChipSpec, int], ...]

    def describe(self) -> str:
        return " + ".join(f"{count} x {chip.name}" for chip, count in self.units)


@functools.cache
def _shipped_compositions() -> CompositionFile:
    return read_compositions(data_dir("specs") / COMPOSITIONS_FILE)


def read_compositions(path: Path) -> CompositionFile:
    return _read_data_file(path, CompositionFile)


def _read_data_file(path: Path, model):
    """A TOML data file read as spec files are (a regular file, bounded, nesting checked; errors
    name the file), then validated as ``model``."""
    document = read_document(path)
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=str(path)) from None


def find_composition(query: str, catalogue: Catalogue, *, chip_id: str | None = None,
                     compositions: CompositionFile | None = None) -> Assembly | None:
    """The composition named exactly ``query`` (case-insensitive), or the one that decomposes the
    catalogue record ``chip_id`` (what ``query`` resolved to); its units checked against
    ``catalogue``. None when neither names one."""
    wanted = query.strip().casefold()
    data = _shipped_compositions() if compositions is None else compositions
    for entry in data.composition:
        if (chip_id is not None and entry.decomposes == chip_id) or (
                wanted and wanted in {n.casefold() for n in (entry.name, *entry.aliases)}):
            # A unit the catalogue lacks is a data error: never a computer of unknown chips passing.
            units = tuple((catalogue.get(unit.chip), unit.count) for unit in entry.units)
            return Assembly(composition=entry, source=data.sources[entry.source], units=units)
    return None
