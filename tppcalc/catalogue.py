"""The chip catalogue: every spec file loaded, validated, indexed, and looked up.

Loading is two stages: parse every file into validated, frozen records (``specfile``), then index
them with an explicit duplicate policy. A chip id or alias defined twice is an error; a user's own
spec folder may add records, and replaces a shipped record only when ``allow_override`` is set.
The default catalogue is a cached accessor, not a module global: every computation takes the
catalogue as a parameter, so tests build their own.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tppcalc.errors import AmbiguousChipError, InputError, UnknownChipError
from tppcalc.resources import SPECS_DIR_ENV, data_dir
from tppcalc.spec import ChipSpec
from tppcalc.specfile import load_spec_file_cached


_WORD = re.compile(r"[a-z0-9]+")
_PCI_QUERY = re.compile(r"^(?:0x)?([0-9a-f]{4}):(?:0x)?([0-9a-f]{4})(?::(?:0x)?([0-9a-f]{4}):?(?:0x)?([0-9a-f]{4}))?$")


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def _compact(text: str) -> str:
    return "".join(_words(text))


@dataclass(frozen=True)
class _Entry:
    spec: ChipSpec
    origin: str
    words: frozenset[str]
    compact_names: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """An immutable, indexed set of chip records. Build it with ``Catalogue.load``."""

    chips: tuple[ChipSpec, ...]
    origins: dict[str, str] = field(repr=False)   # chip id -> the file it came from
    _by_key: dict[str, str] = field(repr=False)    # compact id/name/alias -> chip id
    _entries: tuple[_Entry, ...] = field(repr=False)
    _by_id: dict[str, ChipSpec] = field(repr=False)

    @classmethod
    def load(
        cls,
        directories: Sequence[Path] | None = None,
        *,
        user_dirs: Sequence[Path] = (),
        allow_override: bool = False,
    ) -> Catalogue:
        """Load the shipped specs (or ``directories``), then each user folder on top."""
        records: dict[str, tuple[ChipSpec, str]] = {}
        for directory in directories if directories is not None else [data_dir("specs")]:
            for spec, origin in _read_dir(Path(directory)):
                if spec.id in records:
                    raise InputError(f"chip id {spec.id!r} is also defined in {records[spec.id][1]}",
                                     where=origin, field=spec.id)
                records[spec.id] = (spec, origin)
        for directory in user_dirs:
            for spec, origin in _read_dir(Path(directory)):
                if spec.id in records and not allow_override:
                    raise InputError(
                        f"chip id {spec.id!r} is already in the catalogue ({records[spec.id][1]}); "
                        "pass --override-specs to replace it", where=origin, field=spec.id)
                records[spec.id] = (spec, origin)
        return cls._index(records.values())

    @classmethod
    def from_specs(cls, specs: Iterable[ChipSpec], origin: str = "<memory>") -> Catalogue:
        records: dict[str, tuple[ChipSpec, str]] = {}
        for spec in specs:
            if spec.id in records:
                raise InputError(f"chip id {spec.id!r} given twice", where=origin, field=spec.id)
            records[spec.id] = (spec, origin)
        return cls._index(records.values())

    @classmethod
    def _index(cls, records: Iterable[tuple[ChipSpec, str]]) -> Catalogue:
        by_key: dict[str, str] = {}
        entries = []
        for spec, origin in records:
            names = [spec.id, spec.name, *spec.aliases]
            for name in names:
                key = _compact(name)
                owner = by_key.get(key)
                if owner is not None and owner != spec.id:
                    raise InputError(f"name or alias {name!r} is also used by chip {owner!r}",
                                     where=origin, field=spec.id)
                by_key[key] = spec.id
            words = frozenset(w for name in [*names, spec.vendor] for w in _words(name))
            entries.append(_Entry(spec, origin, words, tuple(_compact(n) for n in names)))
        chips = tuple(e.spec for e in entries)
        return cls(chips, {e.spec.id: e.origin for e in entries}, by_key, tuple(entries), {c.id: c for c in chips})

    def __len__(self) -> int:
        return len(self.chips)

    def __iter__(self):
        return iter(self.chips)

    def get(self, chip_id: str) -> ChipSpec:
        """The record with exactly this id."""
        spec = self._by_id.get(chip_id)
        if spec is None:
            raise UnknownChipError(chip_id, self._suggest(chip_id))
        return spec

    def lookup(self, query: str) -> ChipSpec:
        """One chip by id, name, alias, PCI id (``10de:2330[:ssvid:ssdid]``) or unique fuzzy name."""
        text = query.strip()
        if not text:
            raise UnknownChipError(query)
        chip_id = self._by_key.get(_compact(text))
        if chip_id is not None:
            return self.get(chip_id)
        pci = _PCI_QUERY.match(text.lower())
        if pci:
            return self._one(query, self._by_pci(*pci.groups()))
        words = set(_words(text))
        matches = [e.spec for e in self._entries if words <= e.words]
        if not matches:
            compact = _compact(text)
            matches = [e.spec for e in self._entries if any(compact in n for n in e.compact_names)]
        return self._one(query, matches)

    def by_pci(self, vendor_id: str, device_id: str, subsystem_id: str | None = None) -> list[ChipSpec]:
        """Every chip listing this PCI id; with a subsystem id, those that list it (or none)."""
        sub_vendor, sub_device = (subsystem_id[2:6], subsystem_id[6:10]) if subsystem_id else (None, None)
        return self._by_pci(vendor_id.lower().removeprefix("0x"), device_id.lower().removeprefix("0x"),
                            sub_vendor, sub_device)

    def _by_pci(self, vendor, device, sub_vendor=None, sub_device=None) -> list[ChipSpec]:
        found = []
        for spec in self.chips:
            for pci in spec.pci:
                if pci.vendor_id[2:] != vendor or pci.device_id[2:] != device:
                    continue
                if sub_vendor and pci.subsystem_ids and f"0x{sub_vendor}{sub_device}" not in pci.subsystem_ids:
                    continue
                found.append(spec)
                break
        if sub_vendor and len(found) > 1:
            exact = [s for s in found if any(f"0x{sub_vendor}{sub_device}" in p.subsystem_ids for p in s.pci)]
            found = exact or found
        return found

    def _one(self, query: str, matches: list[ChipSpec]) -> ChipSpec:
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AmbiguousChipError(query, tuple(s.id for s in matches))
        raise UnknownChipError(query, self._suggest(query))

    def _suggest(self, query: str) -> tuple[str, ...]:
        names = {}
        for spec in self.chips:
            for name in (spec.name, *spec.aliases):
                names.setdefault(name.lower(), spec.name)
        close = difflib.get_close_matches(query.lower(), list(names), n=5, cutoff=0.5)
        return tuple(dict.fromkeys(names[c] for c in close))


def _read_dir(directory: Path) -> list[tuple[ChipSpec, str]]:
    if not directory.is_dir():
        raise InputError("spec folder not found", where=str(directory))
    found = []
    for path in sorted(directory.glob("*.toml")):
        found.extend((spec, str(path)) for spec in load_spec_file_cached(path))
    return found


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
