"""The validated cache: keyed by the bytes it was built from, never by a later state of the file."""

from tppcalc.data.validated_cache import cached


def test_build_gets_the_bytes_of_the_key_and_a_file_changed_meanwhile_is_built_again(tmp_path, monkeypatch):
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data.txt"
    data.write_text("first")
    calls = []

    def build(contents):
        calls.append(contents)
        data.write_text("second")  # the file changes while the first version is being validated
        return contents[0].decode()

    assert cached("test", [data], build, str) == "first"
    assert cached("test", [data], build, str) == "second"  # new bytes: built again, not "first"
    assert cached("test", [data], build, str) == "second"  # now from the cache
    assert calls == [[b"first"], [b"second"]]


# --- What the cache trusts: nothing it reads can run code, and only the user's own private entries
# are used. The chip below has int8 = 600 dense TOPS: TPP = 600 x 8 = 4800, exactly the 3A090.a.1
# threshold ("TPP of 4800 or more", 15 CFR 774 Supp. 1, ECCN 3A090.a.1), so shaving any digit off
# its figure would make it "outside 3A090".

import datetime as dt
import hashlib
import json
import os
import pickle
import textwrap

import pytest

from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import classify

ACME = textwrap.dedent("""
    [sources]
    ds = { title = "Datasheet", url = "https://example.com/ds" }
    [[chip]]
    id = "acme-x"
    vendor = "Acme"
    name = "Acme X"
    kind = "gpu"
    datacenter = { value = true, source = "ds" }
    [[chip.processing_units]]
    name = "matrix"
    [chip.processing_units.dense_tops]
    int8 = { value = 600, source = "ds" }
""")


@pytest.fixture
def specs(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "acme.toml").write_text(ACME)
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(folder))
    return folder


def paragraph_of_acme(specs):
    spec = Catalogue.load([specs]).get("acme-x")
    return classify(spec, dest="CN", as_of=dt.date(2026, 2, 1)).paragraph


def entries(folder):
    """The stored catalogue files (not the rules, which hold no 600)."""
    found = list(folder.glob("specs-*"))
    assert found
    return found


def tamper(path, *, fix_digest):
    """Turn the stored figure 600 into 060 in ``path``, as an attacker would; with ``fix_digest``
    the entry's SHA-256 digests are made to match again (an attacker who can write the folder can)."""
    data = path.read_bytes()
    assert b"600" in data
    header, newline, rest = data.partition(b"\n")
    if fix_digest and newline and header.startswith(b"{"):
        stamp = json.loads(header)
        plain, _, rest = rest.partition(b"\n")
        blobs = []
        for length, _digest in stamp["blobs"]:
            blobs.append(rest[:length].replace(b"600", b"060"))
            rest = rest[length:]
        stamp["sha256"] = hashlib.sha256(plain).hexdigest()
        stamp["blobs"] = [[len(b), hashlib.sha256(b).hexdigest()] for b in blobs]
        data = b"".join([json.dumps(stamp).encode(), b"\n", plain, b"\n", *blobs])
    else:
        data = data.replace(b"600", b"060")
    path.write_bytes(data)


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_pickle_runs_nothing_and_h100_stays_3a090a(cache, tmp_path, capsys):
    catalogue = Catalogue.load()
    catalogue.lookup("H100 SXM")
    marker = tmp_path / "ran"
    for entry in cache.iterdir():
        entry.write_bytes(pickle.dumps(RunsCode(marker)))
    spec = Catalogue.load().lookup("H100 SXM")
    assert not marker.exists()
    assert classify(spec, dest="CN", as_of=dt.date(2026, 2, 1)).paragraph == "3A090.a.1"
    assert Catalogue.load().chips == catalogue.chips  # every entry rebuilt


def test_a_record_that_does_not_match_its_digest_is_rebuilt(specs, cache):
    assert paragraph_of_acme(specs) == "3A090.a.1"
    for entry in entries(cache):
        tamper(entry, fix_digest=False)
    assert paragraph_of_acme(specs) == "3A090.a.1"
    assert paragraph_of_acme(specs) == "3A090.a.1"  # and the rebuilt entry serves


def forged_cache(specs, cache):
    """A cache holding a forged record with a matching digest, as someone else could write it."""
    paragraph_of_acme(specs)
    for entry in entries(cache):
        tamper(entry, fix_digest=True)
    assert paragraph_of_acme(specs) is None  # a good forgery: only the folder's checks can stop it


def assert_ignored_with_one_line(specs, capsys, why):
    capsys.readouterr()
    from tppcalc.data import validated_cache

    getattr(validated_cache, "_WARNED", set()).clear()  # warn again in this test
    assert paragraph_of_acme(specs) == "3A090.a.1"
    assert paragraph_of_acme(specs) == "3A090.a.1"
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tppcalc: warning: not using the validated cache")
    assert why in lines[0]


def test_a_world_writable_cache_folder_is_ignored(specs, cache, capsys):
    forged_cache(specs, cache)
    cache.chmod(0o777)
    assert_ignored_with_one_line(specs, capsys, "mode 0777")


def test_a_cache_folder_owned_by_another_user_is_ignored(specs, cache, capsys, monkeypatch):
    forged_cache(specs, cache)
    someone_else = os.geteuid() + 1  # as under sudo with HOME left at the user's home
    monkeypatch.setattr(os, "geteuid", lambda: someone_else)
    assert_ignored_with_one_line(specs, capsys, "owned by uid")


def test_a_symlinked_cache_folder_is_ignored(specs, cache, tmp_path, capsys):
    forged_cache(specs, cache)
    cache.rename(tmp_path / "elsewhere")
    cache.symlink_to(tmp_path / "elsewhere")
    assert_ignored_with_one_line(specs, capsys, "symlink")


def test_a_folder_above_the_cache_writable_by_others_makes_it_unsafe(specs, tmp_path, monkeypatch, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(shared / "cache"))
    forged_cache(specs, shared / "cache")
    shared.chmod(0o777)  # anyone could swap the cache folder for their own
    assert_ignored_with_one_line(specs, capsys, "writable by others")


@pytest.mark.parametrize("damage", ["symlink", "mode 0644"])
def test_an_entry_that_is_a_symlink_or_not_private_is_rebuilt(specs, cache, tmp_path, damage):
    forged_cache(specs, cache)
    for entry in entries(cache):
        if damage == "symlink":
            planted = tmp_path / entry.name
            entry.rename(planted)
            entry.symlink_to(planted)
        else:
            entry.chmod(0o644)
    assert paragraph_of_acme(specs) == "3A090.a.1"


def test_a_new_cache_folder_and_its_entries_are_private(specs, cache):
    paragraph_of_acme(specs)
    assert cache.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in cache.iterdir()} == {0o600}


@pytest.mark.parametrize("reference", ["os:system", "subprocess:Popen", "builtins:eval", "tppcalc.data.spec:BaseModel",
                                       "pydantic:BaseModel", "tppcalc.nonexistent:Thing"])
def test_stored_data_names_only_tppcalc_models_already_imported(reference):
    from tppcalc.data.plain_records import PlainDataError, from_plain

    with pytest.raises(PlainDataError):
        from_plain(["M", reference, {}, []])
    with pytest.raises(PlainDataError):
        from_plain(["E", reference, "x"])


def test_every_shipped_record_comes_back_equal_from_plain_data():
    from tppcalc.data.plain_records import from_plain, to_plain
    from tppcalc.decisions.rules.editions import load_rulebook

    for value in [*Catalogue.load().chips, load_rulebook()]:
        again = from_plain(json.loads(json.dumps(to_plain(value))))
        assert again == value and type(again) is type(value)
        assert again.model_fields_set == value.model_fields_set


def test_plain_data_refuses_what_it_cannot_find_again_or_represent():
    """Each class is checked once when first written (the encoder is then kept per class): a class
    that its name cannot find again, or a type with no tag is refused every time."""
    from pydantic import BaseModel

    from tppcalc.data.plain_records import PlainDataError, to_plain

    class Local(BaseModel):  # defined here: "tests...:Local" names no imported tppcalc class
        x: int = 1

    for value in [Local(), Local(), {1, 2}, b"bytes", ["L", object()], {"k": [object()]}]:
        with pytest.raises(PlainDataError):
            to_plain(value)
