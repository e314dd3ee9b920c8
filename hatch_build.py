"""Wheel build hook: each shipped TOML file parsed once, stored as JSON by the SHA-256 of its bytes.

See tppcalc/data/parsed_documents.py: the first catalogue load after an install then skips tomllib for
the shipped files (and still validates every record). An editable install reads the checkout and
gets nothing from here; a file that does not parse, or whose document JSON cannot hold exactly,
is left out and parsed at run time as before.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import tomllib
from decimal import Decimal
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ParsedTomlHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        self._folder = None
        if version == "editable":
            return
        root = Path(self.root)
        # loaded by path: the package's __init__ and pydantic are not in the build environment
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

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
