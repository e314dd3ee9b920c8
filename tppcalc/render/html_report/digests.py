"""SHA-256 digests of every input a report was computed from (sha256sum-style, so they can be checked)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from tppcalc.errors import InputError
from tppcalc.render.html_report.page import Digest


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digests(group: str, paths: Iterable[Path], *, relative_to: Path | None = None) -> list[Digest]:
    """One digest per file, and a combined digest of the group (sha256sum-style lines, sorted)."""
    found = []
    for path in sorted({Path(p) for p in paths}):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read for its digest: {exc.strerror or exc}", where=str(path)) from None
        name = str(path)
        if relative_to is not None:
            try:
                name = path.resolve().relative_to(relative_to.resolve()).as_posix()
            except ValueError:
                pass
        found.append(Digest(group, name, sha256_bytes(data)))
    if len(found) > 1:
        listing = "".join(f"{d.sha256}  {d.name}\n" for d in sorted(found, key=lambda d: d.name))
        found.insert(0, Digest(group, f"all {len(found)} files (SHA-256 of their sorted sha256sum lines)",
                               sha256_bytes(listing.encode())))
    return found


def catalogue_digests(catalogue) -> list[Digest]:
    """The spec files the catalogue was loaded from (shipped ones and any --specs-dir)."""
    from tppcalc.data.resources import data_dir

    origins = [Path(p) for p in set(catalogue.origins.values()) if not str(p).startswith("<")]
    return file_digests("catalogue", origins, relative_to=data_dir("specs"))


def _package_data(package: str) -> Path:
    return Path(str(resources.files(package) / "data"))


def rule_digests() -> list[Digest]:
    """Every rule data file: the editions and the country groups."""
    root = _package_data("tppcalc.decisions.rules")
    return file_digests("rule data", root.rglob("*.toml"), relative_to=root)


def identification_digests() -> list[Digest]:
    """The architecture tables used to identify and derive probed devices."""
    root = _package_data("tppcalc.probe")
    return file_digests("identification data", root.rglob("*.toml"), relative_to=root)



def extra_file_digests(extra_files: Mapping[str, Path] | None) -> list[Digest]:
    """Each further input file (``{label: path}``: a dump, a product list) digested under its label."""
    digests = []
    for label, path in (extra_files or {}).items():
        digests.extend(file_digests(label, [Path(path)]))
    return digests
