"""When each catalogue chip was commercially available in the United States, with its source.

91 FR 1684 (15 CFR 742.6(b)(10), 2026-01-15) grants case-by-case review to China and Macau only
for products "commercially available in the United States at the time of publication of this
rule". The spec records hold announcement dates, not that, so the dates live in their own file,
``specs/availability/united-states.toml``::

    [sources]
    h200-q2 = { title = "...", url = "https://...", secondary = true }

    [[chip]]
    id = "nvidia-h200-sxm-141gb"      # a catalogue chip id; an unknown id is a load error
    available_by = 2024-06-30         # a TOML date
    source = "h200-q2"                # a key of [sources]: a date needs a source
    note = "what the source says"

``available_by`` is a day by which the source shows the product on sale or shipping in the United
States: the first day of availability, or a later day (the end of the quarter a source names)
where the source is vaguer. Taking the later day can only make a product look *later* than it was,
which moves an answer toward the rule's otherwise policy (presumption of denial), never toward
case-by-case. A chip with no record is unknown, and the classifier keeps both policies open.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from tppcalc.data.resources import data_dir
from tppcalc.data.spec import StrictModel
from tppcalc.data.specfile import parse_document, validation_errors
from tppcalc.data.validated_cache import cached
from tppcalc.errors import InputError, SpecError

AVAILABILITY_FILE = Path("availability") / "united-states.toml"


class AvailabilitySource(StrictModel):
    """A document that shows a product on sale or shipping; ``secondary`` when it is not the
    vendor's (or a government's) own text."""

    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://\S+$")
    secondary: bool = False


class AvailabilityRecord(StrictModel):
    id: str = Field(min_length=1)
    available_by: dt.date
    source: str = Field(min_length=1, description="Key into the file's [sources]")
    note: str = ""

    @field_validator("available_by", mode="before")
    @classmethod
    def _a_toml_date(cls, value):
        # A string such as "2024-06" or "Q2 2024" would be coerced or refused with a vague
        # message: the file must say a day, as a TOML date.
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise ValueError("give a TOML date (YYYY-MM-DD, unquoted)")
        return value


class AvailabilityFile(StrictModel):
    sources: dict[str, AvailabilitySource] = {}
    chip: list[AvailabilityRecord] = []


@dataclass(frozen=True, slots=True)
class UsAvailability:
    """One chip's record with its source resolved."""

    chip_id: str
    available_by: dt.date
    source: AvailabilitySource
    note: str

    def cited(self) -> str:
        """The source in words, for a reason ("title <url>; secondary source")."""
        return f"{self.source.title} <{self.source.url}>" + ("; secondary source" if self.source.secondary else "")


class AvailabilityTable:
    """Chip id -> its US availability record. Build it with ``load_availability``."""

    def __init__(self, records: dict[str, UsAvailability], origin: str):
        self._records = records
        self.origin = origin

    def get(self, chip_id: str) -> UsAvailability | None:
        return self._records.get(chip_id)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self):
        return iter(self._records.values())


def load_availability(path: Path, chip_ids) -> AvailabilityTable:
    """The records of ``path``, each checked: a known chip id (``chip_ids``, the catalogue's),
    listed once, with a TOML date and a source named in the file's ``[sources]``."""
    where = str(path)
    # The validated cache, as for the catalogue and the rules: a warm run builds no pydantic
    # validator. The chip ids are checked below, each time: the catalogue may have changed.
    parsed = cached("availability", [path], functools.partial(_validated_file, path), AvailabilityFile)
    known = set(chip_ids)
    records: dict[str, UsAvailability] = {}
    for record in parsed.chip:
        if record.id not in known:
            raise InputError(f"chip id {record.id!r} is not in the catalogue", where=where, field=record.id)
        if record.id in records:
            raise InputError(f"chip id {record.id!r} is listed twice", where=where, field=record.id)
        source = parsed.sources.get(record.source)
        if source is None:
            raise InputError(f"source {record.source!r} is not in [sources]", where=where, field=f"{record.id}.source")
        records[record.id] = UsAvailability(record.id, record.available_by, source, record.note)
    return AvailabilityTable(records, where)


def _validated_file(path: Path, contents: list[bytes]) -> AvailabilityFile:
    try:
        return AvailabilityFile.model_validate(parse_document(path, contents[0]))
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=str(path)) from None


@functools.cache
def default_availability() -> AvailabilityTable:
    """The shipped file, checked against the default catalogue (loaded once, when first asked)."""
    from tppcalc.data.catalogue import default_catalogue

    # The ids only (``origins``): no catalogue record is rebuilt for this.
    return load_availability(data_dir("specs") / AVAILABILITY_FILE, default_catalogue().origins)
