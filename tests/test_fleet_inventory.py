"""Inventory files: every unresolved chip name named at once, and counts accepted strictly."""

import json
import textwrap

import pytest

from tppcalc.data.catalogue import default_catalogue
from tppcalc.errors import InputError
from tppcalc.fleet import report_fleet


def inventory(tmp_path, items: str, name="sites.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent("""
        [[site]]
        name = "fra-1"
        country = "DE"
        operator = "Example Cloud"
        operator_hq = "US"
    """) + textwrap.dedent(items))
    return path


UNRESOLVED = """
    [[site.item]]
    chip = "H100 SXM"
    count = 1024
    [[site.item]]
    chip = "N/A"
    count = 8
    [[site.item]]
    chip = "Foo 9000"
    count = 16
    [[site.item]]
    chip = "Foo 9000"
    count = 4
    [[site.item]]
    chip = "H100"
    count = 2
"""


def test_every_unresolved_name_is_named_in_one_error_with_counts_and_suggestions(tmp_path):
    path = inventory(tmp_path, UNRESOLVED)
    other = inventory(tmp_path, '[[site.item]]\nchip = "Bar 7"\ncount = 1\n', name="more.toml")
    with pytest.raises(InputError) as info:
        report_fleet([path, other], default_catalogue())
    message = str(info.value)
    assert message.startswith("4 chip names not resolved") and "\n" not in message
    assert f"'N/A' (1 items, 8 units, at {path}: site[0] (fra-1).item[1].chip" in message
    assert "'Foo 9000' (2 items, 20 units" in message and "and 1 more" in message
    assert "'H100' (1 items, 2 units" in message and "ambiguous: nvidia-h100-sxm5-80gb" in message
    assert f"'Bar 7' (1 items, 1 units, at {other}" in message   # the second file too, in the same run


def test_unresolved_undetermined_carries_them_and_no_check_passes(tmp_path):
    path = inventory(tmp_path, UNRESOLVED)
    result = report_fleet([path], default_catalogue(), unresolved="undetermined")
    assert result.totals_by_country["DE"].units == 1024 + 8 + 16 + 4 + 2
    assert result.totals_by_country["DE"].complete is False
    assert result.checks and all(check.status == "undetermined" for check in result.checks)


def test_cli_unresolved_names_error_and_the_undetermined_option(run_cli, tmp_path):
    path = inventory(tmp_path, UNRESOLVED)
    result = run_cli("fleet", "report", str(path))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "'Foo 9000'" in result.stderr and "'N/A'" in result.stderr
    result = run_cli("fleet", "report", str(path), "--unresolved", "undetermined", "--json", "--as-of", "2025-03-01")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["totals_by_country"]["DE"]["complete"] is False


@pytest.mark.parametrize("count", ["-5", "0", "2.5", "2.0", '"3"', "true", "1e12", "10000001", "10000000000"])
def test_a_count_that_is_not_a_sane_whole_number_is_an_error_naming_file_and_field(tmp_path, count):
    path = inventory(tmp_path, f'[[site.item]]\nchip = "H100 SXM"\ncount = {count}\n')
    with pytest.raises(InputError) as info:
        report_fleet([path], default_catalogue())
    assert str(info.value).startswith(f"{path}: site.0.item.0.count: ")


def test_a_large_but_possible_count_is_accepted(tmp_path):
    path = inventory(tmp_path, '[[site.item]]\nchip = "H100 SXM"\ncount = 10000000\n')
    assert report_fleet([path], default_catalogue()).totals_by_country["DE"].units == 10_000_000


# Found by the fuzz harness (issue 14 #11): the inventory reader parsed with its own tomllib call,
# so the bounds every other input file has (size, nesting, digits) did not apply to it.
@pytest.mark.parametrize(("items", "expected"), [
    ('[[site.item]]\nchip = "H100 SXM"\ncount = 1' + "0" * 5000 + "\n", "cannot parse"),
    ('[[site.item]]\nchip = ' + "{a = " * 2000 + "1" + "}" * 2000 + "\ncount = 1\n", "nested more than 64 levels"),
])
def test_a_hostile_inventory_is_one_error_naming_the_file(tmp_path, items, expected):
    path = inventory(tmp_path, items)
    with pytest.raises(InputError) as info:
        report_fleet([path], default_catalogue())
    assert str(info.value).startswith(str(path)) and expected in str(info.value)


def test_an_inventory_that_is_not_a_regular_file_is_refused(tmp_path):
    import os

    fifo = tmp_path / "sites.toml"
    os.mkfifo(fifo)  # opening a FIFO to read would wait for a writer for ever
    with pytest.raises(InputError, match="not a regular file"):
        report_fleet([fifo], default_catalogue())
