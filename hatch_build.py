"""Wheel build hook: the shipped data prepared once, so a fresh install's first load skips the work.

- Each shipped TOML file parsed, stored as JSON by the SHA-256 of its bytes
  (tppcalc/data/parsed_documents.py): the rule editions and country groups skip tomllib. A file that
  does not parse, or whose document JSON cannot hold exactly, is left out and parsed at run time.
- The shipped catalogue validated in full by the package's own code, stored in the validated cache's
  format (tppcalc/data/shipped_validated.py): the first catalogue load reads it instead of
  validating, when the installed code, Python and pydantic are the build's. A spec file that fails
  validation fails the build with its error: such a wheel could not load its own catalogue.

An editable install reads the checkout and gets nothing from here.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from decimal import Decimal
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ParsedTomlHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        self._folder = self._validated = None
        if version == "editable":
            return
        root = Path(self.root)
        # loaded by path: standard library only, nothing of the package imported here
        spec = importlib.util.spec_from_file_location("_tppcalc_parsed_documents",
                                                      root / "tppcalc" / "data" / "parsed_documents.py")
        documents = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(documents)
        self._folder = Path(tempfile.mkdtemp(prefix="tppcalc-parsed-"))
        # the spec files, and the rule editions and country groups inside the package
        for path in sorted([*(root / "specs").rglob("*.toml"), *(root / "tppcalc").rglob("*.toml")]):
            data = path.read_bytes()
            try:
                stored = documents.encode(tomllib.loads(data.decode("utf-8"), parse_float=Decimal))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError, RecursionError):
                continue  # the run-time parse reports it, naming the file
            if stored is not None:
                (self._folder / documents.file_name(data)).write_bytes(stored)
        build_data["force_include"][str(self._folder)] = "tppcalc/_data/parsed"
        self._validated = Path(tempfile.mkdtemp(prefix="tppcalc-validated-"))
        # in a child: the package is imported from this tree (cwd first on its path), with the
        # build environment's pydantic, and leaves nothing imported in the build backend, nor any
        # bytecode in the tree
        done = subprocess.run([sys.executable, "-m", "tppcalc.data.shipped_validated", str(root / "tppcalc"),
                               str(root / "specs"), str(self._validated)],
                              cwd=root, capture_output=True, text=True,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        if done.returncode != 0:
            self.finalize(version, build_data, "")
            raise RuntimeError(done.stderr.strip() or f"validating the shipped catalogue failed ({done.returncode})")
        build_data["force_include"][str(self._validated)] = "tppcalc/_data/validated"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        for folder in (self._folder, self._validated):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
