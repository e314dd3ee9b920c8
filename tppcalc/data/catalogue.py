"""The chip catalogue: every spec file loaded, validated, indexed, and looked up.

Loading is two stages: parse every file into validated, frozen records (``specfile``), then index
them with an explicit duplicate policy. A chip id or alias defined twice is an error; a user's own
spec folder may add records, and replaces a shipped record only when ``allow_override`` is set.
The default catalogue is a cached accessor, not a module global: every computation takes the
catalogue as a parameter, so tests build their own.

Each file is parsed and validated in full; the validated records are then kept in the validated
cache (``validated_cache``) under the file's bytes and this copy of the code, so later loads skip
both the TOML parse and pydantic. An installed wheel ships its own catalogue validated at build time
(``shipped_validated``), used for the shipped folder only, under the same code.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tppcalc.data.naming import (
    NameModel,
    confusable_key,
    invisible_character,
    parse,
    stated_words,
)
from tppcalc.data.plain_records import PlainDataError, from_plain, to_plain
from tppcalc.data.resources import SPECS_DIR_ENV, data_dir
from tppcalc.data.spec import ChipSpec
from tppcalc.data.specfile import parse_document, specs_from_document
from tppcalc.data.validated_cache import Blobs, cached
from tppcalc.errors import AmbiguousChipError, InputError, UnknownChipError

CPU_TABLES_DIR = "cpus"  # tppcalc.data.cpu_tables.CPU_TABLES_DIR, named here so loading needs no import
SPECS_KIND = "specs"  # what the validated cache files a spec file's records under

_WORD = re.compile(r"[a-z0-9]+\+?")  # '+' kept: "8480+" is a SKU, "8480" is not
_PCI_QUERY = re.compile(r"^(?:0x)?([0-9a-f]{4}):(?:0x)?([0-9a-f]{4})(?::(?:0x)?([0-9a-f]{4}):?(?:0x)?([0-9a-f]{4}))?$")


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def _compact(text: str) -> str:
    return "".join(_words(text))


# A PCI id of a record: vendor id, device id, subsystem ids ("0x10de", "0x2330", ("0x10de16c1",)).
_PciKey = tuple[str, str, tuple[str, ...]]


class _Entry:
    """One record in the index: its ChipSpec, the file it came from, and what lookups match on.

    Entries are what the validated cache keeps for a file. Each record is stored as its own blob
    of plain JSON data beside the index, checked and rebuilt when first used: a lookup rebuilds one
    record, not 82 (rebuilding them all would be most of a catalogue load). The origin is set by
    the loader, not cached: the same bytes may sit in another folder.
    """

    __slots__ = ("_blob", "_blobs", "_model", "_spec", "chip_id", "compact_names", "context", "names", "origin", "pci",
                 "vendor")

    def __init__(self, spec: ChipSpec, origin: str):
        self._spec, self._blobs, self._blob, self.origin = spec, None, 0, origin
        self.chip_id, self.names, self.vendor = spec.id, (spec.name, *spec.aliases), spec.vendor
        self.pci: tuple[_PciKey, ...] = tuple((p.vendor_id, p.device_id, p.subsystem_ids) for p in spec.pci)
        self.compact_names = tuple(_compact(n) for n in (self.chip_id, *self.names))
        memory = spec.memory
        capacity = memory.capacity_gb.value if memory and memory.capacity_gb else None
        # What the name model reads beside the names, kept here so a lookup need not rebuild the spec.
        self.context = (spec.architecture, None if capacity is None else float(capacity), memory and memory.type)
        self._model: NameModel | None = None

    @property
    def spec(self) -> ChipSpec:
        if self._spec is None:
            try:
                spec = from_plain(json.loads(self._blobs[self._blob]))
                if type(spec) is not ChipSpec or spec.id != self.chip_id:
                    raise PlainDataError("the stored record is another chip's")
            except (ValueError, RecursionError):  # a damaged record (PlainDataError is a ValueError)
                self._blobs.discard()
                spec = self._validated_again()
            self._spec, self._blobs = spec, None
        return self._spec

    def _validated_again(self) -> ChipSpec:
        """This record validated afresh from its file, for a stored one found damaged."""
        path = Path(self.origin)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", where=self.origin) from None
        for fresh in _validate_file(path, [data]):
            if fresh.index_row() == self.index_row():
                return fresh.spec
        raise InputError("the file changed while tppcalc was reading it; run again",
                         where=self.origin, field=self.chip_id)

    @property
    def name_model(self) -> NameModel:
        """What the record answers to beyond its exact names (made when first needed)."""
        if self._model is None:
            architecture, capacity, memory_type = self.context
            self._model = NameModel.of(self.vendor, (self.chip_id, *self.names), architecture, capacity, memory_type)
        return self._model

    def index_row(self) -> list:
        return [self.chip_id, list(self.names), self.vendor, [[v, d, list(s)] for v, d, s in self.pci],
                list(self.compact_names), list(self.context)]

    @classmethod
    def from_index_row(cls, row: object, blobs: Blobs, blob: int) -> _Entry:
        """An entry as ``index_row`` stored it; its record is rebuilt from ``blobs[blob]`` when used."""
        entry = cls.__new__(cls)
        try:  # the row's shape only: its digest matched, so it is what this code wrote
            chip_id, names, vendor, pci, compact_names, (architecture, capacity, memory_type) = row
            entry.chip_id, entry.vendor = _text(chip_id), _text(vendor)
            entry.names, entry.compact_names = tuple(names), tuple(compact_names)
            entry.pci = tuple([(v, d, tuple(s)) for v, d, s in pci]) if pci else ()
            if capacity is not None and type(capacity) is not float:
                raise PlainDataError("a memory capacity must be a number")
            entry.context = (_optional_text(architecture), capacity, _optional_text(memory_type))
        except (TypeError, ValueError) as exc:
            raise PlainDataError(f"damaged catalogue entry: {exc}") from None
        entry._spec, entry._blobs, entry._blob, entry._model, entry.origin = None, blobs, blob, None, ""
        return entry


def _text(value: object) -> str:
    if type(value) is not str:
        raise PlainDataError("expected text")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _entries_to_plain(entries: tuple[_Entry, ...]) -> tuple[list, list[bytes]]:
    blobs = [json.dumps(to_plain(entry.spec), separators=(",", ":")).encode() for entry in entries]
    return [entry.index_row() for entry in entries], blobs


def _entries_from_plain(rows: object, blobs: Blobs) -> tuple[_Entry, ...]:
    if type(rows) is not list or len(rows) != len(blobs):
        raise PlainDataError("a catalogue entry list was expected")
    return tuple(_Entry.from_index_row(row, blobs, index) for index, row in enumerate(rows))


@dataclass(frozen=True, eq=False)
class Catalogue:
    """An immutable, indexed set of chip records. Build it with ``Catalogue.load``."""

    origins: dict[str, str] = field(repr=False)   # chip id -> the file it came from
    _by_key: dict[str, str] = field(repr=False)    # compact id/name/alias -> chip id
    _entries: tuple[_Entry, ...] = field(repr=False)
    _by_id: dict[str, _Entry] = field(repr=False)

    @classmethod
    def load(
        cls,
        directories: Sequence[Path] | None = None,
        *,
        user_dirs: Sequence[Path] = (),
        allow_override: bool = False,
    ) -> Catalogue:
        """Load the shipped specs (or ``directories``), then each user folder on top."""
        records: dict[str, _Entry] = {}
        # only the shipped folder may be served by the entries the wheel's build validated
        for directory in directories if directories is not None else [data_dir("specs")]:
            for entry in _read_dir(Path(directory), shipped=directories is None):
                if entry.chip_id in records:
                    raise InputError(f"chip id {entry.chip_id!r} is also defined in {records[entry.chip_id].origin}",
                                     where=entry.origin, field=entry.chip_id)
                records[entry.chip_id] = entry
        shipped_looks = {confusable_key(n): (e.chip_id, n) for e in records.values() for n in (e.chip_id, *e.names)}
        for directory in user_dirs:
            for entry in _read_dir(Path(directory)):
                if entry.chip_id in records and not allow_override:
                    raise InputError(
                        f"chip id {entry.chip_id!r} is already in the catalogue ({records[entry.chip_id].origin}); "
                        "pass --override-specs to replace it", where=entry.origin, field=entry.chip_id)
                if not allow_override:
                    _refuse_look_alikes(entry, shipped_looks)
                records[entry.chip_id] = entry
        return cls._index(records.values())

    @classmethod
    def from_specs(cls, specs: Iterable[ChipSpec], origin: str = "<memory>") -> Catalogue:
        records: dict[str, _Entry] = {}
        for spec in specs:
            if spec.id in records:
                raise InputError(f"chip id {spec.id!r} given twice", where=origin, field=spec.id)
            records[spec.id] = _Entry(spec, origin)
        return cls._index(records.values())

    @classmethod
    def _index(cls, records: Iterable[_Entry]) -> Catalogue:
        by_key: dict[str, str] = {}
        entries = tuple(records)
        for entry in entries:
            for name, key in zip((entry.chip_id, *entry.names), entry.compact_names):
                owner = by_key.get(key)
                if owner is not None and owner != entry.chip_id:
                    raise InputError(f"name or alias {name!r} is also used by chip {owner!r}",
                                     where=entry.origin, field=entry.chip_id)
                by_key[key] = entry.chip_id
        return cls({e.chip_id: e.origin for e in entries}, by_key, entries, {e.chip_id: e for e in entries})

    @functools.cached_property
    def chips(self) -> tuple[ChipSpec, ...]:
        """Every record, in file order."""
        return tuple(e.spec for e in self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        return iter(self.chips)

    def get(self, chip_id: str) -> ChipSpec:
        """The record with exactly this id."""
        entry = self._by_id.get(chip_id)
        if entry is None:
            raise UnknownChipError(chip_id, self._suggest(chip_id))
        return entry.spec

    def lookup(self, query: str) -> ChipSpec:
        """One chip by id, name, alias or PCI id (``10de:2330[:ssvid:ssdid]``), or by a product name
        that carries one chip's model token and fits no other (``tppcalc.data.naming``); else an
        UnknownChipError or AmbiguousChipError with suggestions, never a guess."""
        text = query.strip()
        if not text:
            raise UnknownChipError(query)
        hidden = invisible_character(text)
        if hidden is not None:
            raise UnknownChipError(query, why=f"it holds an invisible or control character (U+{ord(hidden):04X}); "
                                               "type the name again")
        chip_id = self._by_key.get(_compact(text))
        if chip_id is not None:
            return self.get(chip_id)
        pci = _PCI_QUERY.match(text.lower())
        if pci:
            return self._one(query, self._entries_by_pci(*pci.groups()))
        return self._one(query, self._by_product_name(text))

    def _by_product_name(self, text: str) -> list[_Entry]:
        name = parse(text)
        owner = self._by_normal_key.get(name.key)
        if owner is not None:
            return [self._by_id[owner]]
        if not name.models:  # "N/A", "TBD", "GPU": nothing names a model, so nothing is identified
            return []
        candidates = self._by_model_token.get(min(name.models), ())  # a fit must hold every model token
        fitting = [e for e in candidates if e.name_model.admits(name)]
        # "RTX 3060 8GB" fits only the 3060 Ti by its memory, but it does not say "Ti": a chip is
        # picked only when the query says the words that set it apart from its siblings.
        said = [e for e in fitting if self._distinguishing_words[e.chip_id] <= name.words]
        if len(said) == 1 or len(fitting) <= 1:
            return said
        return said or fitting  # several fit: ambiguous between them

    @functools.cached_property
    def _distinguishing_words(self) -> dict[str, frozenset[str]]:
        """For each chip, the words all its names carry that some chip sharing its model token lacks
        ("ti", "super", "d"); a chip alone with its model token has none."""
        stated = {e.chip_id: stated_words(e.names) for e in self._entries}
        words: dict[str, frozenset[str]] = {chip_id: frozenset() for chip_id in stated}
        for siblings in self._by_model_token.values():
            shared = frozenset.intersection(*(stated[e.chip_id] for e in siblings))
            for entry in siblings:
                words[entry.chip_id] |= stated[entry.chip_id] - shared
        return words

    @functools.cached_property
    def _by_model_token(self) -> dict[str, list[_Entry]]:
        by_token: dict[str, list[_Entry]] = {}
        for entry in self._entries:
            for token in entry.name_model.models:
                by_token.setdefault(token, []).append(entry)
        return by_token

    @functools.cached_property
    def _by_normal_key(self) -> dict[str, str | None]:
        """Each name as the name model spells it ("NVIDIA H100 PCIe" -> "h100pcie"); None where two
        chips share one, so neither is picked."""
        keys: dict[str, str | None] = {}
        for entry in self._entries:
            for name in (entry.chip_id, *entry.names):
                key = parse(name).key
                if key:
                    keys[key] = entry.chip_id if keys.get(key, entry.chip_id) == entry.chip_id else None
        return keys

    def by_pci(self, vendor_id: str, device_id: str, subsystem_id: str | None = None) -> list[ChipSpec]:
        """Every chip listing this PCI id; with a subsystem id, those that list it (or none)."""
        sub_vendor, sub_device = (subsystem_id[2:6], subsystem_id[6:10]) if subsystem_id else (None, None)
        return self._by_pci(vendor_id.lower().removeprefix("0x"), device_id.lower().removeprefix("0x"),
                            sub_vendor, sub_device)

    def _by_pci(self, vendor, device, sub_vendor=None, sub_device=None) -> list[ChipSpec]:
        return [e.spec for e in self._entries_by_pci(vendor, device, sub_vendor, sub_device)]

    def _entries_by_pci(self, vendor, device, sub_vendor=None, sub_device=None) -> list[_Entry]:
        found = []
        subsystem = f"0x{sub_vendor}{sub_device}"
        for entry in self._entries:
            for pci_vendor, pci_device, subsystems in entry.pci:
                if pci_vendor[2:] != vendor or pci_device[2:] != device:
                    continue
                if sub_vendor and subsystems and subsystem not in subsystems:
                    continue
                found.append(entry)
                break
        if sub_vendor and len(found) > 1:
            exact = [e for e in found if any(subsystem in subsystems for _, _, subsystems in e.pci)]
            found = exact or found
        return found

    def _one(self, query: str, matches: list[_Entry]) -> ChipSpec:
        if len(matches) == 1:
            return matches[0].spec
        if matches:
            raise AmbiguousChipError(query, tuple(e.chip_id for e in matches))
        raise UnknownChipError(query, self._suggest(query))

    def _suggest(self, query: str) -> tuple[str, ...]:
        """Chips that share a model token with the query, else the closest names by spelling."""
        models = parse(query).models
        sharing = list(dict.fromkeys(e.names[0] for token in sorted(models) for e in self._by_model_token.get(token, ())))
        if sharing:
            return tuple(sharing[:8])
        import difflib  # only to word an error

        names = {}
        for entry in self._entries:
            for name in entry.names:
                names.setdefault(name.lower(), entry.names[0])
        close = difflib.get_close_matches(query.lower(), list(names), n=5, cutoff=0.5)
        return tuple(dict.fromkeys(names[c] for c in close))


def _refuse_look_alikes(entry: _Entry, shipped: dict[str, tuple[str, str]]) -> None:
    """A user record may not take a name that reads like a shipped chip's ("Н100" with a Cyrillic
    Н): a look-alike could pass for the real chip in a report."""
    for name in (entry.chip_id, *entry.names):
        owner = shipped.get(confusable_key(name))
        if owner is not None and owner[0] != entry.chip_id and _compact(name) != _compact(owner[1]):
            raise InputError(f"name {name!r} looks like {owner[1]!r} of shipped chip {owner[0]!r}; "
                             "pass --override-specs to allow it", where=entry.origin, field=entry.chip_id)


def spec_files(directory: Path) -> list[Path]:
    """The spec files of a folder, in load order: its chip files, then its CPU tables."""
    cpu_tables = directory / CPU_TABLES_DIR  # server CPUs as family and SKU tables (tppcalc.data.cpu_tables)
    return [*sorted(directory.glob("*.toml")), *(sorted(cpu_tables.glob("*.toml")) if cpu_tables.is_dir() else [])]


def _read_dir(directory: Path, *, shipped: bool = False) -> list[_Entry]:
    """The entries of every spec file in ``directory``, each file validated in full (or read from
    the validated cache; ``shipped``: or from what the wheel's build validated)."""
    if not directory.is_dir():
        raise InputError("spec folder not found", where=str(directory))
    found: list[_Entry] = []
    for path in spec_files(directory):
        entries = cached(SPECS_KIND, [path], functools.partial(_validate_file, path), tuple,
                         encode=_entries_to_plain, decode=_entries_from_plain, shipped=shipped)
        for entry in entries:
            entry.origin = str(path)
        found.extend(entries)
    return found


def _validate_file(path: Path, contents: list[bytes]) -> tuple[_Entry, ...]:
    """A chip file's records, or a CPU table's SKU rows made records (told apart by the folder)."""
    document = parse_document(path, contents[0])
    if path.parent.name == CPU_TABLES_DIR:
        from tppcalc.data.cpu_tables import specs_from_cpu_document

        specs = specs_from_cpu_document(document, str(path))
    else:
        specs = specs_from_document(document, str(path))
    return tuple(_Entry(spec, str(path)) for spec in specs)


def validated_parts(path: Path, data: bytes) -> tuple[list, list[bytes]]:
    """A spec file's records validated in full, in the validated cache's stored form (for the
    wheel's build, ``tppcalc.data.shipped_validated``)."""
    return _entries_to_plain(_validate_file(path, [data]))


def user_spec_dirs(cli_dirs: Sequence[Path] = ()) -> list[Path]:
    """Folders given by ``--specs-dir``, else by the TPPCALC_SPECS_DIR variable (os.pathsep list)."""
    if cli_dirs:
        return list(cli_dirs)
    value = os.environ.get(SPECS_DIR_ENV, "")
    return [Path(p) for p in value.split(os.pathsep) if p]


@functools.cache
def default_catalogue() -> Catalogue:
    """The shipped catalogue plus any TPPCALC_SPECS_DIR folders (additions only), loaded once."""
    return Catalogue.load(user_dirs=user_spec_dirs())
