"""The shipped catalogue validated at the wheel's build (tppcalc/data/shipped_validated.py).

The reference for every record is a full validation of the same files by the same code, in the same
test run: a record served from the shipped entries must be that record exactly (type, value, and
the digits of every Decimal, which ``repr`` shows). What the build wrote is trusted only for the
exact bytes, code, Python and pydantic it was made from; anything else is validated as before.
"""

import shutil
from pathlib import Path

import pytest

from tppcalc.data import catalogue as catalogue_module
from tppcalc.data import shipped_validated
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.resources import data_dir
from tppcalc.data.shipped_validated import code_digest, main, write_shipped
from tppcalc.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tppcalc"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """What the wheel's build hook writes, written from this checkout."""
    folder = tmp_path_factory.mktemp("built") / "validated"
    write_shipped(PACKAGE, data_dir("specs"), folder)
    return folder


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The shipped catalogue validated in full (an explicit folder list is never served shipped)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TPPCALC_CACHE_DIR", str(tmp_path_factory.mktemp("reference-cache") / "c"))
        return Catalogue.load([data_dir("specs")])


@pytest.fixture(autouse=True)
def empty_cache_and_fresh_digest(tmp_path, monkeypatch):
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(tmp_path / "cache"))
    shipped_validated._this_code.cache_clear()
    yield
    shipped_validated._this_code.cache_clear()


@pytest.fixture
def validations(monkeypatch):
    """The spec files validated during the test (by name)."""
    seen = []
    validate = catalogue_module._validate_file

    def counting(path, contents):
        seen.append(path.relative_to(path.parents[1] if path.parent.name == "cpus" else path.parent).as_posix())
        return validate(path, contents)

    monkeypatch.setattr(catalogue_module, "_validate_file", counting)
    return seen


def ship(monkeypatch, folder):
    monkeypatch.setattr(shipped_validated, "SHIPPED_DIR", folder)


def assert_same_records(catalogue, reference):
    assert [c.id for c in catalogue.chips] == [c.id for c in reference.chips]
    for served, validated in zip(catalogue.chips, reference.chips, strict=True):
        assert type(served) is type(validated)
        assert served == validated
        assert repr(served) == repr(validated)
    assert catalogue.origins == reference.origins
    # and what lookups match on (names, PCI ids, memory), kept beside each record
    assert [e.index_row() for e in catalogue._entries] == [e.index_row() for e in reference._entries]


def test_the_shipped_entries_give_exactly_the_records_a_full_validation_gives(built, reference, monkeypatch,
                                                                             validations, tmp_path):
    ship(monkeypatch, built)
    catalogue = Catalogue.load()
    assert validations == []  # every file served from the build's entries
    assert len(catalogue) == len(reference) > 300
    assert_same_records(catalogue, reference)
    assert catalogue.lookup("H100 SXM") == reference.lookup("H100 SXM")
    # kept in the user's cache as they are: the next run reads them there, still validating nothing
    assert len(list((tmp_path / "cache").glob("specs-*.json"))) == len(validations) + 11
    ship(monkeypatch, tmp_path / "absent")
    assert_same_records(Catalogue.load(), reference)
    assert validations == []


def test_without_shipped_entries_every_file_is_validated(reference, monkeypatch, validations, tmp_path):
    ship(monkeypatch, tmp_path / "absent")
    assert_same_records(Catalogue.load(), reference)
    assert len(validations) == len(catalogue_module.spec_files(data_dir("specs"))) > 10


@pytest.mark.parametrize("part", ["header", "index", "record"])
def test_an_entry_with_a_byte_changed_is_ignored_and_the_file_validated(built, reference, monkeypatch, validations,
                                                                        tmp_path, part):
    folder = tmp_path / "validated"
    shutil.copytree(built, folder)
    entry = max(folder.glob("specs-*.json"), key=lambda p: p.stat().st_size)
    data = entry.read_bytes()
    header_end = data.index(b"\n")
    plain_end = data.index(b"\n", header_end + 1)
    start = {"header": 0, "index": header_end + 1, "record": plain_end + 1}[part]
    at = data.index(b"0", start)  # a digit: in a record, a figure made 1 digit off
    entry.write_bytes(data[:at] + b"1" + data[at + 1:])
    ship(monkeypatch, folder)
    catalogue = Catalogue.load()
    assert len(validations) == 1  # that file alone
    assert_same_records(catalogue, reference)


def test_a_changed_spec_file_is_validated_and_the_others_served(built, reference, monkeypatch, validations, tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(data_dir("specs"), specs)
    with open(specs / "amd.toml", "a") as file:
        file.write("\n# one more line: other bytes, the same records\n")
    monkeypatch.setattr(catalogue_module, "data_dir", lambda name: specs)
    ship(monkeypatch, built)
    catalogue = Catalogue.load()
    assert validations == ["amd.toml"]
    assert [c.id for c in catalogue.chips] == [c.id for c in reference.chips]
    assert catalogue.chips == reference.chips


def test_entries_built_by_another_pydantic_are_not_used(built, reference, monkeypatch, validations):
    import pydantic.version

    ship(monkeypatch, built)
    monkeypatch.setattr(pydantic.version, "VERSION", "2.0.0-another")
    assert_same_records(Catalogue.load(), reference)
    assert len(validations) == len(catalogue_module.spec_files(data_dir("specs")))


def test_the_code_digest_follows_the_text_of_every_module_not_its_time(tmp_path, monkeypatch):
    package = tmp_path / "tppcalc"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_digest(package)
    assert before == code_digest(PACKAGE)  # an install's copy of the same text: the same code
    module = package / "data" / "spec.py"
    module.touch()
    (package / "data" / "notes.txt").write_text("not code\n")
    assert code_digest(package) == before
    module.write_bytes(module.read_bytes().replace(b"extra", b"extrA", 1))
    assert code_digest(package) != before
    module.write_bytes((PACKAGE / "data" / "spec.py").read_bytes())
    (package / "data" / "added.py").write_text("")
    assert code_digest(package) != before
    import sys

    monkeypatch.setattr(sys, "version", sys.version + " another build")
    (package / "data" / "added.py").unlink()
    assert code_digest(package) != before


def test_a_users_spec_folders_are_never_looked_up_in_the_shipped_entries(built, monkeypatch, validations, tmp_path):
    """Even a user folder holding a shipped file's exact bytes is validated: the build never saw it.
    (Once the shipped folder's entry is in the user's cache, the same bytes are served from there,
    as they were before any entry was shipped.)"""
    user = tmp_path / "user"
    user.mkdir()
    shutil.copy(data_dir("specs") / "amd.toml", user / "amd.toml")
    ship(monkeypatch, built)
    Catalogue.load([user])
    assert validations == ["amd.toml"]

    asked = []
    read_shipped = shipped_validated.read_shipped

    def spying(kind, paths, *args, **kwargs):
        asked.extend(paths)
        return read_shipped(kind, paths, *args, **kwargs)

    monkeypatch.setattr(shipped_validated, "read_shipped", spying)
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(tmp_path / "another-cache"))
    Catalogue.load(user_dirs=[user], allow_override=True)
    assert asked == catalogue_module.spec_files(data_dir("specs"))  # the shipped files, and nothing else


def test_a_spec_file_that_fails_validation_fails_the_build_naming_it(tmp_path, capsys):
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(data_dir("specs") / "amd.toml", specs / "amd.toml")
    (specs / "bad.toml").write_text('[sources]\nds = { title = "D", url = "https://example.com" }\n'
                                    '[[chip]]\nid = "bad"\nvendor = "Acme"\nname = "Bad"\nkind = "gpu"\n'
                                    'colour = "red"\n')
    with pytest.raises(SpecError, match="colour"):
        write_shipped(PACKAGE, specs, tmp_path / "out")
    assert main([str(PACKAGE), str(specs), str(tmp_path / "out2")]) == 1
    error = capsys.readouterr().err
    assert "bad.toml" in error and "colour" in error
    assert main([str(tmp_path), str(data_dir("specs")), str(tmp_path / "out3")]) == 2  # not this package's code
    assert not (tmp_path / "out3").exists()
