"""Spec files that used to crash the loader: each is now one error line naming the file (and the
record and field where there is one), exit 1, without reading more than the size bound."""

import os
import textwrap

import pytest

GOOD = textwrap.dedent("""
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

DIE = textwrap.dedent("""
    [[chip.dies]]
    name = "main"
    role = "logic"
    area_mm2 = { value = AREA, source = "ds" }
    transistor_architecture = "finfet"
    source = "ds"
""")

# name -> (file text, what the error line must say after the file name)
BROKEN = {
    "shared sources not a table": (GOOD.replace('ds = { title = "Datasheet", url = "https://example.com/ds" }', "")
                                   .replace("[sources]", 'sources = "x"'), ": sources: must be a table of sources"),
    "record sources not a table": (GOOD.replace('kind = "gpu"', 'kind = "gpu"\nsources = "x"'),
                                   ": acme-x: sources: must be a table of sources"),
    "5,000-deep nesting": ("a = " + "[" * 5000 + "]" * 5000 + "\n" + GOOD, ":1: nested more than 64 levels deep"),
    # shallow enough for the parser: found in the parsed document, then placed by the text scan
    "100-deep nesting on line 3": ("\n\na = " + "[" * 100 + "]" * 100 + "\n" + GOOD, ":3: nested more than 64 levels deep"),
    # deep through dotted keys, with no bracket to point at: the document is as deep all the same
    "100-deep dotted key": (GOOD + "x" + ".x" * 100 + " = 1\n", ": nested more than 64 levels deep"),
    "die area 1e400": (GOOD + DIE.replace("AREA", "1e400"),
                       ": acme-x: dies.0.area_mm2.value: value Decimal('1E+400') is out of range"),
    "die area 1e999999": (GOOD + DIE.replace("AREA", "1e999999"),
                          ": acme-x: dies.0.area_mm2.value: value Decimal('1E+999999') is out of range"),
    "die area with 61 significant digits": (GOOD + DIE.replace("AREA", "1." + "0" * 59 + "1"),
                                        ": acme-x: dies.0.area_mm2.value: value Decimal('1.000000000...0000000001') (73 characters) has 61 significant digits"),
    "a googol of dies": (GOOD + DIE.replace("AREA", "800") + "count = 1" + "0" * 100 + "\n",
                         ": acme-x: dies.0.count: Input should be less than or equal to 100000"),
}


def assert_one_error_line(result, path, says):
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"tppcalc: error: {path}"), result.stderr
    assert says in result.stderr


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_spec_file_given_to_calc_is_one_error_line(run_cli, tmp_path, case):
    text, says = BROKEN[case]
    path = tmp_path / "broken.toml"
    path.write_text(text)
    assert_one_error_line(run_cli("calc", "--spec", str(path)), path, says)


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_spec_file_in_a_specs_folder_is_one_error_line(run_cli, tmp_path, case):
    text, says = BROKEN[case]
    path = tmp_path / "mine" / "broken.toml"
    path.parent.mkdir()
    path.write_text(text)
    assert_one_error_line(run_cli("--specs-dir", str(path.parent), "chips", "list"), path, says)


def test_a_spec_file_the_size_bound_would_pass_still_loads(run_cli, tmp_path):
    path = tmp_path / "fine.toml"
    path.write_text(GOOD + DIE.replace("AREA", "814"))
    assert run_cli("calc", "--spec", str(path)).exit_code == 0


def test_deep_nesting_in_a_json_spec_file_is_one_error_line(run_cli, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    assert_one_error_line(run_cli("calc", "--spec", str(path)), path, ":1: nested more than 64 levels deep")


def test_brackets_inside_strings_and_comments_do_not_count_as_nesting(tmp_path):
    from tppcalc.data.specfile import read_document

    path = tmp_path / "strings.toml"
    path.write_text('a = "' + "[" * 100 + '"\nb = \'' + "{" * 100 + "'\n# " + "[" * 100 + '\nc = """\n' + "[" * 100
                    + '\n"""\n')
    assert read_document(path)["a"] == "[" * 100


@pytest.mark.parametrize("kind", ["symlink loop", "folder", "fifo", "device", "huge"])
def test_an_unreadable_entry_in_a_specs_folder_is_one_error_line(run_cli, tmp_path, kind):
    folder = tmp_path / "mine"
    folder.mkdir()
    path = folder / "odd.toml"
    if kind == "symlink loop":
        path.symlink_to(folder / "other.toml")
        (folder / "other.toml").symlink_to(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer forever
    elif kind == "device":
        path.symlink_to("/dev/zero")  # reading it would never end
    else:
        with open(path, "wb") as file:
            file.truncate(9 * 2**20)  # sparse: nine MiB of zeros, over the 8 MiB bound
    says = "file too large" if kind == "huge" else "cannot read"
    assert_one_error_line(run_cli("--specs-dir", str(folder), "chips", "list"),
                          path, says)
    if kind != "folder":  # click refuses a folder for --spec itself
        assert_one_error_line(run_cli("calc", "--spec", str(path)), path, says)
