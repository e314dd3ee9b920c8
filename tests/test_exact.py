from decimal import Decimal

import pytest

from tppcalc.core.exact import format_number, positive, to_decimal
from tppcalc.errors import InputError, SparseFigureError


@pytest.mark.parametrize(
    ("given", "expected"),
    [("1978.9", "1978.9"), (1978.9, "1978.9"), (600, "600"), (" 3,958 ", "3958"), ("1e3", "1E+3"),
     (Decimal("0.1"), "0.1")],
)
def test_values_become_the_decimal_that_was_written(given, expected):
    assert to_decimal(given) == Decimal(expected)


def test_a_float_is_read_by_its_shortest_repr_not_its_binary_expansion():
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(0.1) != Decimal(0.1)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", float("nan"), float("inf"), "", "abc", True, None, "1.2.3"])
def test_non_finite_and_non_numbers_are_refused(bad):
    with pytest.raises(InputError):
        to_decimal(bad)


@pytest.mark.parametrize("bad", ["3958*", "3958 sparse", "3,958 (with sparsity)", "3958sparse"])
def test_sparse_markers_are_refused(bad):
    with pytest.raises(SparseFigureError, match="dense"):
        to_decimal(bad)


@pytest.mark.parametrize("bad", ["0", "-1", 0, -0.5])
def test_positive_refuses_zero_and_negatives(bad):
    with pytest.raises(InputError, match="greater than zero"):
        positive(bad)


def test_format_number_keeps_integers_exact_and_rounds_the_rest():
    assert format_number(Decimal("15831.2")) == "15,831.2"
    assert format_number(Decimal(4800)) == "4,800"
    assert format_number(None) == "unknown"


# --- Figures of any length are read exactly, or refused in one line (issue 14, items 6 and 11) ----
# The expected values come from fractions.Fraction on the written text, an exact reference that
# shares nothing with tppcalc's Decimal path.

import json  # noqa: E402
from fractions import Fraction  # noqa: E402

from tppcalc.core.metrics import compute_metrics  # noqa: E402
from tppcalc.data.figures import parse_rate, spec_from_figures  # noqa: E402

NEARLY_600 = "599.99999999999999999999999999999999999999999"  # 44 significant digits
NEARLY_4800 = Fraction(NEARLY_600) * 8  # INT8 is 8 bits: TPP = 8 x TOPS (3A090 TN 2)

SPEC_FILE = """
[sources]
ds = {{ title = "Datasheet", url = "https://example.com" }}
[[chip]]
id = "acme-x1"
vendor = "Acme"
name = "X1"
kind = "asic"
datacenter = {{ value = true, source = "ds" }}
[[chip.processing_units]]
name = "matrix"
[chip.processing_units.dense_tops]
int8 = {{ value = {rate}, source = "ds" }}
[[chip.dies]]
name = "logic"
role = "logic"
area_mm2 = {{ value = {area}, source = "ds" }}
transistor_architecture = "finfet"
source = "ds"
"""


def test_a_long_figure_is_not_rounded_on_the_flag_path(run_cli):
    # 28-digit Decimal arithmetic rounded this to 600, i.e. TPP 4800 and 3A090.a.1.
    result = run_cli("calc", "--dense", f"int8={NEARLY_600}", "--json")
    assert result.exit_code == 0, result.stderr
    headroom = json.loads(result.stdout)["headroom"]  # JSON numbers are floats for display; headroom is exact
    assert headroom["tpp_next_line"] == 4800 and headroom["tpp_to_next_line"] == float(4800 - NEARLY_4800) > 0


@pytest.mark.parametrize("given", [NEARLY_600, Decimal(NEARLY_600), NEARLY_600 + " TOPS",
                                   "599999." + "9" * 38 + " GOPS", "0.5" + "9" * 43 + "P"])
def test_every_scalar_path_gives_the_exact_tpp(given):
    tpp = compute_metrics(spec_from_figures({"int8": given})).tpp
    assert Fraction(tpp) == NEARLY_4800


def test_a_spec_file_and_the_flags_agree_on_a_long_figure(run_cli, tmp_path):
    path = tmp_path / "x1.toml"
    path.write_text(SPEC_FILE.format(rate=NEARLY_600, area="100"))
    from_file = json.loads(run_cli("calc", "--spec", str(path), "--json").stdout)
    from_flags = json.loads(run_cli("calc", "--dense", f"int8={NEARLY_600}", "--die", "100:finfet", "--datacenter",
                                    "--json").stdout)
    assert from_file["headroom"] == from_flags["headroom"]
    assert from_file["headroom"]["tpp_to_next_line"] == float(4800 - NEARLY_4800) > 0


def test_a_unit_suffix_scales_exactly():
    assert parse_rate("1978900.000000000000000000000000000000000000001 GFLOPS") == \
        Decimal("1978.900000000000000000000000000000000000000001")


@pytest.mark.parametrize("text", ["1e-40", "6E2 TOPS", "1.98E+03", "2.5e3GOPS"])
def test_exponent_notation_is_refused_as_a_rate_by_name(text):
    # A spreadsheet writes 1978.9 as 1.98E+03 (1980: digits gone); a rate so written is refused, and the
    # message says why instead of calling the 'e' an unknown unit.
    with pytest.raises(InputError, match="exponent notation is not read as a rate"):
        parse_rate(text)


def test_trailing_zeros_are_not_significant_digits():
    spec = spec_from_figures({"int8": "600." + "0" * 400})
    assert compute_metrics(spec).tpp == 4800


ABSURD = ["1e400", "1e999999", "1E+999999999999999999999", "9" * 400, "0." + "9" * 400, "1e-400", 10 ** 400, 10 ** 5000,
          Decimal("1e400"), 1e308, 5e-324]


def _short_id(value) -> str:
    return f"int of {value.bit_length()} bits" if isinstance(value, int) else repr(value)[:24]


@pytest.mark.parametrize("given", ABSURD, ids=_short_id)
def test_absurd_figures_are_one_clear_input_error(given):
    with pytest.raises(InputError, match="significant digits|out of range"):
        to_decimal(given, what="die area")


@pytest.mark.parametrize("figure", ["1e400", "1e999999", "9" * 400, "1e-400"])
@pytest.mark.parametrize("flag", ["--dense", "--die", "--io-gbps"])
def test_absurd_figures_on_the_command_line_are_one_line_errors(run_cli, flag, figure):
    value = {"--dense": f"int8={figure}", "--die": f"{figure}:finfet", "--io-gbps": figure}[flag]
    args = ["calc", flag, value] if flag == "--dense" else ["calc", "--dense", "int8=600", flag, value]
    result = run_cli(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"tppcalc: error: {flag}: ") and result.stderr.count("\n") == 1


@pytest.mark.parametrize(("rate", "area"), [("600", "1e400"), ("600", "1e999999"), ("1e400", "100"),
                                            ('"' + "9" * 400 + '"', "100")])
def test_absurd_figures_in_a_spec_file_name_the_field(run_cli, tmp_path, rate, area):
    path = tmp_path / "x1.toml"
    path.write_text(SPEC_FILE.format(rate=rate, area=area))
    result = run_cli("calc", "--spec", str(path))
    assert result.exit_code == 1
    field = "area_mm2" if area != "100" else "dense_tops.int8"
    assert str(path) in result.stderr and field in result.stderr and result.stderr.count("\n") == 1


def test_zero_with_a_huge_exponent_is_plain_zero():
    assert to_decimal("0e999999") == 0 and to_decimal("0e999999").as_tuple().exponent == 0


def test_an_absurd_die_count_in_a_spec_file_is_refused_not_a_traceback(run_cli, tmp_path):
    # A count of 10**400 dies made the exact area sum exceed the exact context: decimal.Rounded.
    path = tmp_path / "x1.toml"
    too_many = f'role = "logic"\ncount = {10 ** 400}'
    path.write_text(SPEC_FILE.format(rate="600", area="100").replace('role = "logic"', too_many))
    result = run_cli("calc", "--spec", str(path))
    assert result.exit_code == 1
    assert "dies.0.count" in result.stderr and result.stderr.count("\n") == 1


def test_a_value_just_under_a_line_never_prints_as_the_line(run_cli):
    # 8 x 599.99...9 (41 nines) is 4,799.99...92 (40 nines): below the 4,800 line, and it must read so.
    just_under = Decimal("4799." + "9" * 40 + "2")
    assert Fraction(just_under) == NEARLY_4800
    assert format_number(just_under) == "4,799." + "9" * 40  # the places it takes not to read as 4,800
    assert format_number(Fraction(4800) - Fraction(1, 10 ** 50)) == "4,799." + "9" * 50
    assert format_number(Fraction(1, 3000)) == "0.0003"  # nonzero never prints as 0 either
    assert format_number(Decimal("19.44766")) == "19.448" and format_number(Fraction(15831, 2)) == "7,915.5"
    table = run_cli("calc", "--dense", f"int8={NEARLY_600}").stdout
    assert "4,799.999" in table and "TPP                       4,800\n" not in table
