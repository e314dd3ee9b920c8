"""Loading, duplicate policy, user folders, lookup and the schema of the catalogue."""

import hashlib
import json
import os
import textwrap

import pytest

from tppcalc.data import validated_cache
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.resources import data_dir
from tppcalc.data.schema import SCHEMA_FILE, spec_file_schema
from tppcalc.errors import AmbiguousChipError, InputError, SpecError, UnknownChipError


def write_chip(folder, filename, chip_id, name, *, aliases=(), extra="", pci=""):
    folder.mkdir(exist_ok=True)
    alias_list = ", ".join(f'"{a}"' for a in aliases)
    (folder / filename).write_text(textwrap.dedent(f"""
        [sources]
        ds = {{ title = "Datasheet", url = "https://example.com/ds" }}
        [[chip]]
        id = "{chip_id}"
        vendor = "Acme"
        name = "{name}"
        aliases = [{alias_list}]
        kind = "gpu"
        datacenter = {{ value = true, source = "ds" }}
        {extra}
        [[chip.processing_units]]
        name = "matrix"
        [chip.processing_units.dense_tops]
        int8 = {{ value = 600, source = "ds" }}
        {pci}
    """))


@pytest.fixture
def shipped(tmp_path):
    folder = tmp_path / "shipped"
    write_chip(folder, "acme.toml", "acme-x1-sxm", "X1 SXM 80GB", aliases=["X1 SXM"],
               pci='[[chip.pci]]\nvendor_id = "0x1234"\ndevice_id = "0xab01"\nsource = "ds"')
    write_chip(folder, "acme2.toml", "acme-x1-pcie", "X1 PCIe 80GB", aliases=["X1 PCIe"],
               pci='[[chip.pci]]\nvendor_id = "0x1234"\ndevice_id = "0xab02"\nsource = "ds"')
    return folder


def test_lookup_by_id_name_alias_pci_and_fuzzy_words(shipped):
    catalogue = Catalogue.load([shipped])
    assert catalogue.lookup("acme-x1-sxm").id == "acme-x1-sxm"
    assert catalogue.lookup("X1 SXM 80GB").id == "acme-x1-sxm"
    assert catalogue.lookup("x1 sxm").id == "acme-x1-sxm"
    assert catalogue.lookup("acme x1 pcie 80gb").id == "acme-x1-pcie"
    assert catalogue.lookup("1234:ab02").id == "acme-x1-pcie"
    assert catalogue.lookup("0x1234:0xab01").id == "acme-x1-sxm"


def test_an_ambiguous_query_lists_the_candidates(shipped):
    with pytest.raises(AmbiguousChipError) as info:
        Catalogue.load([shipped]).lookup("X1")
    assert set(info.value.candidates) == {"acme-x1-sxm", "acme-x1-pcie"}


def test_an_unknown_query_suggests_the_closest_names(shipped):
    with pytest.raises(UnknownChipError) as info:
        Catalogue.load([shipped]).lookup("X1 SMX")
    assert "X1 SXM 80GB" in info.value.suggestions


def test_duplicate_ids_and_aliases_are_errors(shipped, tmp_path):
    write_chip(shipped, "dup.toml", "acme-x1-sxm", "Other")
    with pytest.raises(InputError, match="also defined in"):
        Catalogue.load([shipped])
    (shipped / "dup.toml").unlink()
    write_chip(shipped, "dup.toml", "acme-x2", "X2", aliases=["X1 SXM"])
    with pytest.raises(InputError, match="alias 'X1 SXM' is also used by chip 'acme-x1-sxm'"):
        Catalogue.load([shipped])


def test_a_user_folder_adds_records_and_overrides_only_when_asked(shipped, tmp_path):
    user = tmp_path / "user"
    write_chip(user, "mine.toml", "my-chip", "My Chip")
    assert "my-chip" in {c.id for c in Catalogue.load([shipped], user_dirs=[user])}
    write_chip(user, "mine.toml", "acme-x1-sxm", "X1 SXM 80GB", aliases=["X1 SXM"])
    with pytest.raises(InputError, match="--override-specs"):
        Catalogue.load([shipped], user_dirs=[user])
    catalogue = Catalogue.load([shipped], user_dirs=[user], allow_override=True)
    assert catalogue.origins["acme-x1-sxm"].endswith("mine.toml")


def test_a_broken_user_record_names_file_record_and_field(shipped, tmp_path):
    user = tmp_path / "user"
    write_chip(user, "mine.toml", "my-chip", "My Chip", extra='transistor_count = { value = "many", source = "ds" }')
    with pytest.raises(SpecError) as info:
        Catalogue.load([shipped], user_dirs=[user])
    message = str(info.value)
    assert message.startswith(f"{user / 'mine.toml'}: my-chip: transistor_count.value: ")
    assert message.count("\n") == 0


def test_cli_reports_a_broken_user_folder_in_one_line(run_cli, tmp_path):
    user = tmp_path / "user"
    write_chip(user, "mine.toml", "my-chip", "My Chip", extra='colour = "red"')
    result = run_cli("--specs-dir", str(user), "chips", "list")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == f"tppcalc: error: {user / 'mine.toml'}: my-chip: colour: Extra inputs are not permitted"


def test_the_committed_schema_is_current():
    committed = (data_dir("specs") / SCHEMA_FILE).read_text()
    assert committed == spec_file_schema(), "run: python -m tppcalc.data.schema --write"
    assert json.loads(committed)["properties"]["chip"]["type"] == "array"


def read_entry(path):
    """The header, the plain data and the blobs of a validated cache entry."""
    header, _, rest = path.read_bytes().partition(b"\n")
    header = json.loads(header)
    plain, _, rest = rest.partition(b"\n")
    blobs = []
    for length, _digest in header["blobs"]:
        blobs.append(rest[:length])
        rest = rest[length:]
    return header, json.loads(plain), blobs


def write_entry(path, header, plain, blobs=()):
    """Store ``plain`` and ``blobs`` in ``path`` under ``header``, its digests made to match (as
    only the user could)."""
    body = json.dumps(plain).encode()
    header = {**header, "sha256": hashlib.sha256(body).hexdigest(),
              "blobs": [[len(b), hashlib.sha256(b).hexdigest()] for b in blobs]}
    path.write_bytes(b"".join([json.dumps(header).encode(), b"\n", body, b"\n", *blobs]))


def test_the_validated_cache_gives_the_same_records_and_survives_corruption(shipped, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(cache))
    first = Catalogue.load([shipped])
    entries = sorted(cache.glob("specs-*.json"))
    assert len(entries) == 2
    assert Catalogue.load([shipped]).chips == first.chips
    header, _, _ = read_entry(entries[1])
    entries[0].write_bytes(b"not json")
    write_entry(entries[1], header, 42)  # a readable entry of the wrong shape
    assert Catalogue.load([shipped]).chips == first.chips
    assert isinstance(read_entry(entries[0])[1], list)  # rebuilt
    assert isinstance(read_entry(entries[1])[1], list)


def test_an_invalid_file_is_never_cached_and_still_fails_after_a_valid_load(shipped, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(cache))
    write_chip(shipped, "bad.toml", "bad-chip", "Bad", extra='colour = "red"')
    for _ in range(2):
        with pytest.raises(SpecError, match="colour"):
            Catalogue.load([shipped])
    assert len(list(cache.glob("*.json"))) == 2  # the two good files only


def test_a_cache_entry_serves_only_the_same_bytes_under_the_same_code(shipped, tmp_path, monkeypatch):
    """An entry whose digest matches is trusted (the folder is the user's own, so a doctored one is
    returned as it is), so its key must change with the file's bytes and with the code that
    validated them: a stricter tppcalc validates again."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(cache))
    write_chip(shipped, "acme3.toml", "acme-x2", "X2", aliases=["X2 SXM"])
    Catalogue.load([shipped])
    (entry,) = [p for p in cache.glob("specs-*.json") if read_entry(p)[1][0][0] == "acme-x2"]
    header, plain, blobs = read_entry(entry)
    write_entry(entry, header, plain, [blobs[0].replace(b'"X2"', b'"Doctored"')])
    assert Catalogue.load([shipped]).get("acme-x2").name == "Doctored"

    monkeypatch.setattr(validated_cache, "_code_fingerprint", lambda: "another tppcalc")
    assert Catalogue.load([shipped]).get("acme-x2").name == "X2"
    monkeypatch.undo()
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(cache))
    write_chip(shipped, "acme3.toml", "acme-x2", "X2", aliases=["X2 SXM"], extra='colour = "red"')
    with pytest.raises(SpecError, match="acme3.toml: acme-x2: colour: Extra inputs are not permitted"):
        Catalogue.load([shipped])


def test_the_code_fingerprint_changes_when_a_module_changes(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    module = package / "sub" / "model.py"
    module.write_text("x = 1\n")
    (package / "data.toml").write_text("a = 1\n")
    before = validated_cache.code_fingerprint(package)
    (package / "data.toml").write_text("a = 2\n")  # not code
    assert validated_cache.code_fingerprint(package) == before
    module.write_text("x = 22\n")
    assert validated_cache.code_fingerprint(package) != before
    changed = validated_cache.code_fingerprint(package)
    os.utime(module, ns=(1, 1))
    assert validated_cache.code_fingerprint(package) != changed
