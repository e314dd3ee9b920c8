"""A non-editable install from a built wheel works in a fresh virtual environment."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True)
    (wheel,) = dist.glob("tppcalc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tppcalc/_data/specs/README.md" in names
    assert "tppcalc/_data/kernels/README.md" in names
    assert not any(n.startswith("tests/") for n in names)
    # every shipped TOML file parsed at build time, stored by the digest of its bytes
    from tppcalc.data.parsed_documents import file_name

    shipped = [*(ROOT / "specs").rglob("*.toml"), *(ROOT / "tppcalc").rglob("*.toml")]
    assert {f"tppcalc/_data/parsed/{file_name(p.read_bytes())}" for p in shipped} <= set(names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    subprocess.run([bin_dir / "python", "-m", "pip", "install", "-q", str(wheel)], check=True)
    out = subprocess.run([bin_dir / "tppcalc", "calc", "--dense", "int8=600", "--json"],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert json.loads(out.stdout)["tpp"] == 4800
    where = subprocess.run([bin_dir / "python", "-c",
                            "from tppcalc.data.resources import data_dir; print(data_dir('specs'))"],
                           capture_output=True, text=True, check=True, cwd=tmp_path)
    assert str(venv) in where.stdout  # the installed copy, not the checkout
    used = subprocess.run([bin_dir / "python", "-c",
                           "from tppcalc.data.parsed_documents import stored; from tppcalc.data.resources import data_dir; "
                           "print(stored((data_dir('specs') / 'amd.toml').read_bytes()) is not None)"],
                          capture_output=True, text=True, check=True, cwd=tmp_path)
    assert used.stdout.strip() == "True"  # the installed copy finds the parse the build stored
    # the shipped catalogue validated by the build: a fresh install's first load validates no file
    assert "tppcalc/_data/validated/BUILT.json" in names
    first = subprocess.run([bin_dir / "python", "-c",
                            "from tppcalc.data import catalogue; validated = []; check = catalogue._validate_file; "
                            "catalogue._validate_file = lambda p, c: validated.append(p) or check(p, c); "
                            "print(len(catalogue.Catalogue.load()), len(validated))"],
                           capture_output=True, text=True, check=True, cwd=tmp_path,
                           env={**os.environ, "TPPCALC_CACHE_DIR": str(tmp_path / "empty-cache")})
    assert first.stdout.split()[1] == "0" and int(first.stdout.split()[0]) > 300
