"""The JSON schema of spec files, generated from the pydantic model, for editors and reviewers.

Regenerate the committed copy with ``python -m tppcalc.data.schema --write``; a test fails when the
committed schema no longer matches the model.
"""

from __future__ import annotations

import json
import sys

from tppcalc.data.resources import data_dir
from tppcalc.data.spec import ChipSpec, Source, StrictModel

SCHEMA_FILE = "chip.schema.json"


class SpecFileSchema(StrictModel):
    """A spec file: shared sources and chip records (each may add its own sources)."""

    sources: dict[str, Source] = {}
    chip: list[ChipSpec]


def spec_file_schema() -> str:
    schema = SpecFileSchema.model_json_schema()
    schema["$comment"] = "Generated from tppcalc.data.spec by `python -m tppcalc.data.schema --write`."
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        print("usage: python -m tppcalc.data.schema --write", file=sys.stderr)
        sys.exit(2)
    target = data_dir("specs") / SCHEMA_FILE
    target.write_text(spec_file_schema())
    print(f"wrote {target}")
