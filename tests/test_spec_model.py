"""The chip model refuses what a compliance tool must never accept."""

import copy
import pickle

import pytest

from tppcalc.data.specfile import load_spec_file, specs_from_document
from tppcalc.errors import InputError, SpecError

GOOD = {
    "sources": {"ds": {"title": "Datasheet", "url": "https://example.com/ds.pdf"}},
    "chip": [{
        "id": "acme-x1",
        "vendor": "Acme",
        "name": "X1",
        "kind": "asic",
        "datacenter": {"value": True, "source": "ds"},
        "processing_units": [{"name": "matrix", "dense_tops": {"int8": {"value": "600", "source": "ds"}}}],
        "dies": [{"name": "x1", "role": "logic", "area_mm2": {"value": 400, "source": "ds"},
                  "process_node": "N5", "transistor_architecture": "finfet", "source": "ds"}],
    }],
}


def broken(mutate) -> dict:
    document = copy.deepcopy(GOOD)
    mutate(document["chip"][0])
    return document


def test_a_good_record_loads_and_keeps_only_the_sources_it_uses():
    document = copy.deepcopy(GOOD)
    document["sources"]["unused"] = {"title": "Other"}
    (spec,) = specs_from_document(document, "mem.toml")
    assert spec.id == "acme-x1"
    assert set(spec.sources) == {"ds"}


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda c: c.update(colour="red"), "colour", "Extra inputs"),
        (lambda c: c["processing_units"][0]["dense_tops"]["int8"].pop("source"),
         "processing_units.0.dense_tops.int8", "needs a `source`"),
        (lambda c: c["processing_units"][0]["dense_tops"]["int8"].update(sparse=True),
         "processing_units.0.dense_tops.int8", "sparse figures are refused"),
        (lambda c: c["processing_units"][0]["dense_tops"]["int8"].update(value="1200 sparse"),
         "processing_units.0.dense_tops.int8.value", "marked sparse"),
        (lambda c: c["processing_units"][0]["dense_tops"].update(fp9={"value": 1, "source": "ds"}),
         "processing_units.0.dense_tops.fp9", "Input should be"),
        (lambda c: c["processing_units"][0]["dense_tops"]["int8"].update(value=-5),
         "processing_units.0.dense_tops.int8.value", "greater than zero"),
        (lambda c: c["processing_units"][0]["dense_tops"]["int8"].update(value="nan"),
         "processing_units.0.dense_tops.int8.value", "decimal number"),
        (lambda c: c["dies"][0]["area_mm2"].update(value=0), "dies.0.area_mm2.value", "greater than zero"),
        (lambda c: c["datacenter"].update(source="nowhere"), "", "source keys not in `sources`"),
        (lambda c: c["datacenter"].pop("value"), "datacenter", "give `value`"),
    ],
)
def test_bad_records_name_the_record_and_the_field(mutate, field, words):
    with pytest.raises(SpecError) as info:
        specs_from_document(broken(mutate), "specs/acme.toml")
    message = str(info.value)
    assert message.startswith("specs/acme.toml: acme-x1: ")
    assert any(f == field and words in problem for f, problem in info.value.errors), message


def test_an_unknown_value_needs_its_reason_and_is_kept_as_unknown():
    def mutate(chip):
        chip["dies"][0]["area_mm2"] = {"unknown": "not published"}

    (spec,) = specs_from_document(broken(mutate), "mem")
    assert spec.dies[0].area_mm2.value is None
    assert spec.dies[0].area_mm2.unknown == "not published"


def test_records_are_frozen():
    (spec,) = specs_from_document(copy.deepcopy(GOOD), "mem")
    with pytest.raises(Exception, match="frozen"):
        spec.name = "other"


def test_spec_files_are_read_as_exact_decimals(tmp_path):
    path = tmp_path / "chip.toml"
    path.write_text(
        '[sources]\nds = { title = "Datasheet" }\n[[chip]]\nid = "t"\nvendor = "v"\nname = "n"\n'
        'kind = "gpu"\ndatacenter = { value = true, source = "ds" }\n'
        '[[chip.processing_units]]\nname = "u"\n[chip.processing_units.dense_tops]\n'
        'fp8 = { value = 1978.9, source = "ds" }\n'
    )
    (spec,) = load_spec_file(path)
    assert str(spec.processing_units[0].dense_tops["fp8"].value) == "1978.9"


def test_file_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[[chip]\n")
    with pytest.raises(InputError, match="bad.toml"):
        load_spec_file(path)
    with pytest.raises(InputError, match="missing.toml: file not found"):
        load_spec_file(tmp_path / "missing.toml")


def test_spec_errors_survive_pickling():
    with pytest.raises(SpecError) as info:
        specs_from_document(broken(lambda c: c.update(colour="red")), "specs/acme.toml")
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)
    assert again.errors == info.value.errors
