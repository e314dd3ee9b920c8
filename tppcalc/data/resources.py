"""Where the shipped data folders (specs/, kernels/) are, installed or in a source checkout.

A wheel carries them inside the package as ``tppcalc/_data/<name>`` (pyproject's force-include);
an editable install or a plain checkout reads the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # tppcalc/, this file being in tppcalc/data/

# A user's own spec folders (os.pathsep-separated), added to the shipped catalogue.
SPECS_DIR_ENV = "TPPCALC_SPECS_DIR"


def data_dir(name: str) -> Path:
    """The folder ``name`` ("specs" or "kernels") as shipped with this copy of tppcalc."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tppcalc data folder {name!r} is missing from this installation")


def load_kernel_module(file_name: str):
    """Import ``kernels/<file_name>`` (a shipped data file, not a package module): the kernels
    compile on first use, so nothing imports them before a measurement asks."""
    import importlib.util

    path = data_dir("kernels") / file_name
    spec = importlib.util.spec_from_file_location(f"tppcalc_kernels_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
