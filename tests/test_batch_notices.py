"""Batch output carries each row's own notices (issue 15 item 2): the engine shares one answer
among rows, so the notices must be part of what it groups on, or a row would get another's.

Expected values come from the rule text and datasheets, not from tppcalc:
- Section 232 proclamation of 2026-01-14, Annex, band 1: TPP over 14,000 and under 17,500 with
  total DRAM bandwidth over 4,500 and under 5,000 GB/s. H200 SXM: 1,979 dense FP8 TFLOPS x 8 =
  15,832 TPP and 4,800 GB/s (NVIDIA H200 datasheet): inside. B200: about 36,000 TPP and 8,000 GB/s
  (NVIDIA DGX B200 datasheet): outside both bands.
- BIS guidance of 2025-05-13: using Huawei Ascend 910B/910C/910D anywhere risks General
  Prohibition 10; it names the chips, so only the Ascend row carries it.
"""

import csv
import datetime as dt
import io

from tppcalc.batch import RESULT_COLUMNS, classify_file

RULES = {"dest": "CN", "as_of": dt.date(2026, 2, 1)}


def batch_run(text: str):
    sink = io.BytesIO()
    summary = classify_file(io.BytesIO(text.encode()), sink, input_format="csv", **RULES)
    return list(csv.DictReader(io.StringIO(sink.getvalue().decode()))), summary


def batch_rows(text: str) -> list[dict]:
    return batch_run(text)[0]


def ids(cell: str) -> set[str]:
    """The notice ids of a cell written as "id; id"."""
    return set(cell.split("; ")) if cell else set()


def test_the_notices_column_comes_before_error():
    assert RESULT_COLUMNS[-2:] == ("notices", "error")


def test_a_mixed_catalogue_file_gives_each_row_its_own_notices():
    rows = batch_rows("sku,chip\nh20,H20\nl20,L20\nascend,Ascend 910B3\nh200,H200 SXM\nb200,B200\n")
    by_sku = {r["sku"]: ids(r["notices"]) for r in rows}
    assert "tariff-band-1" in by_sku["h200"]
    assert not {"tariff-band-1", "tariff-band-2"} & (by_sku["b200"] | by_sku["h20"] | by_sku["l20"]
                                                     | by_sku["ascend"])
    assert "gp10-ascend" in by_sku["ascend"]
    assert not any("gp10-ascend" in by_sku[s] for s in ("h20", "l20", "h200", "b200"))
    # H200 and B200 share their 3A090 answers: the notices alone tell them apart.
    assert [r["eccn"] for r in rows if r["sku"] in ("h200", "b200")] == ["3A090.a", "3A090.a"]
    h200 = next(r for r in rows if r["sku"] == "h200")["notices"]
    assert ": " not in h200  # ids only: the texts come once, in the summary


def test_each_notice_text_comes_once_in_the_summary_not_on_every_row():
    # 1,000 H200 rows: each row names its notices by id; the text of each is in the summary once.
    rows, summary = batch_run("sku,chip\n" + "".join(f"h{i},H200 SXM\n" for i in range(1000)))
    assert all(ids(r["notices"]) == ids(rows[0]["notices"]) for r in rows)
    assert set(summary.notices) == ids(rows[0]["notices"])
    assert summary.notices["tariff-band-1"].startswith(
        "Section 232 tariff band 1 (TPP over 14,000 and under 17,500")
    assert max(len(r["notices"]) for r in rows) < 200


def test_figure_rows_with_the_same_answers_but_another_band_are_told_apart():
    # INT8 1,875 TOPS x 8 bits = TPP 15,000 (band 1's TPP span); DRAM 4,800 GB/s is in band 1's
    # DRAM span, 8,000 GB/s is not. Both rows are 3A090.a alike; one of them is in the band.
    rows = batch_rows("sku,dense_int8_tops,dram_bandwidth_gbps\nin,1875,4800\nout,1875,8000\nin2,1875,4700\n")
    assert [r["eccn"] for r in rows] == ["3A090.a"] * 3
    assert ["tariff-band-1" in ids(r["notices"]) for r in rows] == [True, False, True]


def test_a_row_with_an_error_has_no_notices():
    rows = batch_rows("sku,chip\nnope,No Such Chip 9000\n")
    assert rows[0]["error"] and rows[0]["notices"] == ""


def test_every_output_format_carries_the_column():
    import json

    import pyarrow.parquet as pq

    text = "sku,chip\nh200,H200 SXM\nb200,B200\n"
    lines = io.BytesIO()
    classify_file(io.BytesIO(text.encode()), lines, input_format="csv", output_format="jsonl", **RULES)
    documents = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert ["tariff-band-1" in ids(d["notices"]) for d in documents] == [True, False]
    table = io.BytesIO()
    classify_file(io.BytesIO(text.encode()), table, input_format="csv", output_format="parquet", **RULES)
    notices = pq.read_table(io.BytesIO(table.getvalue())).column("notices").to_pylist()
    assert ["tariff-band-1" in ids(n) for n in notices] == [True, False]


def test_notices_do_not_trip_fail_on(tmp_path):
    """--fail-on looks at answers and errors only: an outside row with a notice passes the gate."""
    from click.testing import CliRunner

    from tppcalc.cli.batch import batch
    from tppcalc.cli.main import _Group

    path = tmp_path / "outside.csv"
    path.write_text("sku,chip\nl20,L20\n")
    group = _Group("tppcalc", commands={"batch": batch})
    result = CliRunner().invoke(group, ["batch", str(path), "--dest", "CN", "--as-of", "2026-02-01",
                                        "--fail-on", "controlled", "--fail-on", "error"], catch_exceptions=False)
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert row["eccn"] == "outside 3A090" and row["notices"] != ""
    assert result.exit_code == 0, result.stderr


def test_rows_on_and_beside_every_band_edge_get_the_scalar_engines_notices():
    """The numpy path answers band bounds in float; rows near an edge must go to the exact engine."""
    from tppcalc import classify, spec_from_figures

    int8 = ["1750", "1749.9999", "1750.0001", "2187.5", "2187.4999", "2187.5001", "2000"]   # TPP = 8 x INT8
    dram = ["4500", "4499.9999", "4500.0001", "5000", "4999.9999", "5000.0001", "4800"]
    lines = [f"r{i}-{j},{t},{d}" for i, t in enumerate(int8) for j, d in enumerate(dram)]
    rows = batch_rows("sku,dense_int8_tops,dram_bandwidth_gbps\n" + "\n".join(lines) + "\n")
    for row in rows:
        spec = spec_from_figures({"int8": row["dense_int8_tops"]}, dram_bandwidth_gbps=row["dram_bandwidth_gbps"])
        expected = {n.id for n in classify(spec, **RULES).notices}
        assert ids(row["notices"]) == expected, row
    inside = [r["sku"] for r in rows if "tariff-band-1" in ids(r["notices"])]
    assert "r6-6" in inside and "r0-6" not in inside and "r2-6" in inside and "r6-0" not in inside
