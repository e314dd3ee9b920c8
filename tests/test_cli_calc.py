"""``tppcalc calc``: exit code, stdout and stderr asserted separately."""

import json

import pytest

SPEC_TOML = """
[sources]
ds = { title = "Datasheet", url = "https://example.com" }
[[chip]]
id = "acme-x1"
vendor = "Acme"
name = "X1"
kind = "asic"
datacenter = { value = true, source = "ds" }
[[chip.processing_units]]
name = "matrix"
[chip.processing_units.dense_tops]
int8 = { value = 600, source = "ds" }
"""


def test_h100_figures_as_json(run_cli):
    result = run_cli("calc", "--dense", "fp8=1978.9", "--die", "814:finfet", "--datacenter", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    out = json.loads(result.stdout)
    assert out["tpp"] == 15831.2
    assert out["governing_precision"] == "fp8"
    assert abs(out["performance_density"] - 19.448) < 0.001
    assert out["applicable_die_area_mm2"] == 814
    assert {r["reading"] for r in out["readings"]} >= {"primary", "tf32-19-bits", "concurrent-units-summed"}
    assert all("tpp" in r for r in out["readings"])


def test_int8_600_is_exactly_4800(run_cli):
    result = run_cli("calc", "--dense", "int8=600", "--json")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["tpp"] == 4800 and isinstance(out["tpp"], int)
    assert out["performance_density"] is None
    assert any("die" in u for u in out["unknowns"])


def test_table_output_names_the_unknowns(run_cli):
    result = run_cli("calc", "--dense", "int8=250")
    assert result.exit_code == 0
    assert "TPP" in result.stdout and "2,000" in result.stdout
    assert "Performance density       unknown" in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--dense", "fp16=1", "--dense", "fp9=2"], "fp9"),
        (["--dense", "fp8=-1"], "greater than zero"),
        (["--dense", "fp8=0"], "greater than zero"),
        (["--dense", "fp8=nan"], "decimal number"),
        (["--dense", "fp8=inf"], "decimal number"),
        (["--dense", "fp8=3958 sparse"], "sparse"),
        (["--dense", "fp8=1", "--die", "0:finfet"], "--die"),
        (["--dense", "fp8=1", "--die", "100:bulk"], "transistor architecture"),
        (["--dense", "fp8=1", "--dense", "fp8=2"], "given twice"),
    ],
)
def test_bad_figures_exit_1_with_one_line_on_stderr(run_cli, args, words):
    result = run_cli("calc", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("tppcalc: error: ")
    assert words in result.stderr


def test_usage_errors_exit_2(run_cli):
    assert run_cli("calc").exit_code == 2
    assert run_cli("calc", "--bogus").exit_code == 2


def test_spec_file(run_cli, tmp_path):
    path = tmp_path / "x1.toml"
    path.write_text(SPEC_TOML)
    result = run_cli("calc", "--spec", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["tpp"] == 4800


def test_spec_file_with_an_unknown_field_names_file_record_and_field(run_cli, tmp_path):
    path = tmp_path / "x1.toml"
    path.write_text(SPEC_TOML.replace('kind = "asic"', 'kind = "asic"\ncolour = "red"'))
    result = run_cli("calc", "--spec", str(path))
    assert result.exit_code == 1
    assert f"{path}: acme-x1: colour" in result.stderr


def test_spec_file_with_a_missing_source(run_cli, tmp_path):
    path = tmp_path / "x1.toml"
    path.write_text(SPEC_TOML.replace('int8 = { value = 600, source = "ds" }', "int8 = { value = 600 }"))
    result = run_cli("calc", "--spec", str(path))
    assert result.exit_code == 1
    assert "processing_units.0.dense_tops.int8: a value needs a `source`" in result.stderr


def test_spec_and_flags_together_is_a_usage_error(run_cli, tmp_path):
    path = tmp_path / "x1.toml"
    path.write_text(SPEC_TOML)
    assert run_cli("calc", "--spec", str(path), "--dense", "fp8=1").exit_code == 2


def test_version(run_cli):
    from tppcalc import __version__

    result = run_cli("--version")
    assert result.exit_code == 0 and __version__ in result.stdout
