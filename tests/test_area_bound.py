"""A die or HBM stack larger than a whole 300 mm wafer is refused on every path.

A larger area only lowers a density (TPP / area, HBM bandwidth / area), toward "not controlled",
and such a figure is garbled (2^64 is a tool's "unset" value). The expected bound is the wafer's
own area, pi x 150^2 = 70,685.8 mm2 (the largest die made, Cerebras' WSE-3, is 46,225 mm2), not a
constant read from the code; found by the fuzz campaign (seed 62, batch case 1623: a Parquet row
with die area 18446744073709551616 answered "outside 3A090, no licence" where the blank area gave
"undetermined").
"""

import copy
import csv
import datetime as dt
import io
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tppcalc import spec_from_figures
from tppcalc.batch import classify_file
from tppcalc.data.figures import parse_die_flag
from tppcalc.data.specfile import specs_from_document
from tppcalc.errors import InputError, SpecError

WAFER_MM2 = math.pi * 150**2  # 70,685.83
TOO_LARGE = ["70687", "100000", "18446744073709551616", "1e30"]
LARGEST_ACCEPTED = ["46225", "70686"]


def test_the_bound_is_a_300_mm_wafer():
    assert 70_685 < WAFER_MM2 < 70_686


@pytest.mark.parametrize("area", TOO_LARGE)
def test_figures_refuse_a_die_larger_than_a_wafer(area):
    with pytest.raises(InputError, match="larger than a whole 300 mm wafer"):
        spec_from_figures({"int8": 250}, dies=[(area, "finfet")])
    with pytest.raises(InputError, match="larger than a whole 300 mm wafer"):
        parse_die_flag(f"{area}:finfet")


@pytest.mark.parametrize("area", LARGEST_ACCEPTED)
def test_figures_accept_a_wafer_scale_die(area):
    spec = spec_from_figures({"int8": 250}, dies=[(area, "finfet")])
    assert str(spec.dies[0].area_mm2.value) == area


def batch(rows: list[tuple[str, str]], file_format: str) -> list[dict[str, str]]:
    """(id, die area) rows with int8 250 (TPP 2,000) in a datacenter, as CSV or Parquet."""
    if file_format == "csv":
        text = "id,dense_int8_tops,die_area_mm2,datacenter\n" + "".join(f"{i},250,{a},true\n" for i, a in rows)
        source = io.BytesIO(text.encode())
    else:
        table = pa.table({"id": [i for i, _ in rows], "dense_int8_tops": [250.0] * len(rows),
                          "die_area_mm2": [a for _, a in rows], "datacenter": [True] * len(rows)})
        source = io.BytesIO()
        pq.write_table(table, source)
        source.seek(0)
    out = io.BytesIO()
    classify_file(source, out, input_format=file_format, output_format="csv", dest="CN",
                  as_of=dt.date(2026, 2, 1))
    return list(csv.DictReader(io.StringIO(out.getvalue().decode())))


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_batch_refuses_the_row_and_keeps_the_others(file_format):
    rows = [(f"big-{n}", area) for n, area in enumerate(TOO_LARGE)] + [("wse", "46225"), ("blank", "")]
    got = batch(rows, file_format)
    assert [g["id"] for g in got] == [i for i, _ in rows]
    for row in got[:len(TOO_LARGE)]:
        assert "larger than a whole 300 mm wafer" in row["error"], row
        assert row["eccn"] == "" and row["license_required"] == ""
    wse, blank = got[-2:]
    assert wse["error"] == "" and wse["eccn"] == "outside 3A090"  # TPP 2,000 over 46,225 mm2: density 0.04
    assert blank["error"] == "" and blank["eccn"] == "" and blank["license_required"] == ""  # undetermined


GOOD = {
    "sources": {"ds": {"title": "Datasheet", "url": "https://example.com/ds.pdf"}},
    "chip": [{
        "id": "acme-x1", "vendor": "Acme", "name": "X1", "kind": "asic", "datacenter": {"value": True, "source": "ds"},
        "processing_units": [{"name": "matrix", "dense_tops": {"int8": {"value": "600", "source": "ds"}}}],
        "dies": [{"name": "x1", "role": "logic", "area_mm2": {"value": 400, "source": "ds"}}],
        "memory": {"dram_bandwidth_gbps": {"value": 3350, "source": "ds"},
                   "hbm_stacks": [{"count": 5, "bandwidth_gbps": {"value": 670, "source": "ds"},
                                   "package_area_mm2": {"value": 110, "source": "ds"}}]},
    }],
}


@pytest.mark.parametrize("place", ["die", "hbm"])
def test_a_spec_file_with_a_larger_area_is_refused(place):
    specs_from_document(copy.deepcopy(GOOD), "mem.toml")  # the good record loads
    document = copy.deepcopy(GOOD)
    chip = document["chip"][0]
    if place == "die":
        chip["dies"][0]["area_mm2"]["value"] = 70_687
    else:
        chip["memory"]["hbm_stacks"][0]["package_area_mm2"]["value"] = 70_687
    with pytest.raises(SpecError, match="larger than a whole 300 mm wafer"):
        specs_from_document(document, "mem.toml")


def test_the_dies_of_one_package_together_fit_a_wafer():
    """Two dies of 40,000 mm2 (80,000 together) cannot share a package; two of 30,000 can."""
    with pytest.raises(InputError, match="the dies' total area of 80000 mm2 is larger than a whole 300 mm wafer"):
        spec_from_figures({"int8": 250}, dies=[("40000", "finfet"), ("40000", "finfet")])
    assert len(spec_from_figures({"int8": 250}, dies=[("30000", "finfet"), ("30000", "finfet")]).dies) == 2


def test_a_die_count_typed_wrong_is_refused_in_a_spec_file():
    """1,000 dies of 400 mm2 (400,000 mm2): a count of 10 typed with two zeros too many would
    divide the density by 100, toward "not controlled"."""
    document = copy.deepcopy(GOOD)
    document["chip"][0]["dies"][0]["count"] = 1000
    with pytest.raises(SpecError, match="the dies' total area of 400000 mm2 is larger than a whole 300 mm wafer"):
        specs_from_document(document, "mem.toml")
    document["chip"][0]["dies"][0]["count"] = 10  # 4,000 mm2: a large package, but one
    specs_from_document(document, "mem.toml")
