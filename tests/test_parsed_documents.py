"""TOML documents parsed when the wheel is built (tppcalc/data/parsed_documents.py): the same document
as tomllib gives for the same bytes, used only for exactly those bytes, and never trusted when
damaged. The expected documents come from tomllib itself, parsing the very bytes."""

import datetime as dt
import os
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from tppcalc.data import parsed_documents
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.parsed_documents import encode, file_name, stored
from tppcalc.data.specfile import parse_document

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_TOML = sorted([*(ROOT / "specs").rglob("*.toml"), *(ROOT / "tppcalc").rglob("*.toml")])


def parsed(data: bytes) -> dict:
    return tomllib.loads(data.decode(), parse_float=Decimal)


def same(a, b) -> bool:
    return parsed_documents._same(a, b)


def store(folder: Path, data: bytes, text: bytes | None = None) -> Path:
    path = folder / file_name(data)
    path.write_bytes(encode(parsed(data)) if text is None else text)
    return path


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """The package's folder of stored documents, empty (a checkout has none)."""
    stored_folder = tmp_path / "parsed"
    stored_folder.mkdir()
    monkeypatch.setattr(parsed_documents, "_FOLDER", stored_folder)
    return stored_folder


def test_every_shipped_toml_file_reads_back_as_tomllib_parses_it(tmp_path):
    assert len(SHIPPED_TOML) > 10
    for path in SHIPPED_TOML:
        data = path.read_bytes()
        store(tmp_path, data)
        assert same(stored(data, tmp_path), parsed(data)), path


def test_types_are_kept_exactly():
    document = {"i": 5, "d": Decimal("5"), "e": Decimal("1E+3"), "z": Decimal("-0.0"), "b": True,
                "day": dt.date(2024, 3, 18), "a": [1, Decimal("1.0"), "1"], "t": {"x": {}}}
    again = parsed_documents._read(encode(document))["document"]
    assert same(again, document)
    assert [type(again[k]) for k in ("i", "d", "b", "day")] == [int, Decimal, bool, dt.date]
    assert again["e"].as_tuple() == Decimal("1E+3").as_tuple() and str(again["z"]) == "-0.0"


@pytest.mark.parametrize("document", [
    {"a": Decimal("Infinity")}, {"a": Decimal("NaN")}, {"a": 1.5}, {"a": dt.time(7, 32)},
    {"a": dt.datetime(2024, 1, 1, 7, 32)}, {"a": {"\0date": "2024-01-01"}}, {"a": {"\0decimal": "1"}},
    {"a": 10 ** 5000},
])
def test_what_json_cannot_hold_exactly_is_not_stored(document):
    assert encode(document) is None


def test_the_stored_document_is_used_for_exactly_those_bytes(folder, monkeypatch):
    data = (ROOT / "specs" / "amd.toml").read_bytes()
    store(folder, data)
    expected = parsed(data)

    def no_parse(*args, **kwargs):
        raise AssertionError("tomllib was called")

    monkeypatch.setattr(tomllib, "loads", no_parse)
    assert same(parse_document(Path("amd.toml"), data), expected)
    with pytest.raises(AssertionError, match="tomllib was called"):  # one byte more: another file
        parse_document(Path("amd.toml"), data + b"\n")


@pytest.mark.parametrize("damage", [
    b"", b"{", b"[]", b'{"format":"tppcalc-parsed-toml-2","document":{}}',
    b'{"format":"tppcalc-parsed-toml-1","document":[]}',
    b'{"format":"tppcalc-parsed-toml-1","document":{"a":1.5}}',
    b'{"format":"tppcalc-parsed-toml-1","document":{"a":NaN}}',
    b'{"format":"tppcalc-parsed-toml-1","document":{"a":{"\\u0000decimal":"x"}}}',
    b'{"format":"tppcalc-parsed-toml-1","document":{"a":{"\\u0000decimal":1}}}',
    b'{"format":"tppcalc-parsed-toml-1","document":{"a":{"\\u0000date":"2024-13-01"}}}',
    b'{"format":"tppcalc-parsed-toml-1","document":{"a":{"\\u0000date":"2024-01-01","b":1}}}',
    b'{"format":"tppcalc-parsed-toml-1","document":' + b'[' * 100_000 + b']' * 100_000 + b'}',
])
def test_a_damaged_stored_document_is_parsed_again_from_the_bytes(folder, damage):
    data = b'a = 1\nb = 2.50\n'
    store(folder, data, damage)
    assert stored(data) is None
    document = parse_document(Path("x.toml"), data)
    assert same(document, {"a": 1, "b": Decimal("2.50")})


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink to a device"])
def test_a_stored_entry_that_is_not_a_regular_file_is_parsed_again(folder, kind):
    data = b'a = 1\n'
    entry = folder / file_name(data)
    if kind == "folder":
        entry.mkdir()
    elif kind == "fifo":
        os.mkfifo(entry)  # opening it without O_NONBLOCK would wait for a writer forever
    else:
        entry.symlink_to("/dev/zero")  # read, never ends
    assert stored(data) is None and parse_document(Path("x.toml"), data) == {"a": 1}


def test_the_first_catalogue_load_from_stored_documents_equals_one_from_tomllib(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(tmp_path / "cache-a"))
    from_tomllib = Catalogue.load()
    for path in SHIPPED_TOML:
        store(folder, path.read_bytes())
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(tmp_path / "cache-b"))
    monkeypatch.setattr(tomllib, "loads", lambda *a, **k: pytest.fail("tomllib was called"))
    from_stored = Catalogue.load()
    assert from_stored.chips == from_tomllib.chips and len(from_stored) > 200
