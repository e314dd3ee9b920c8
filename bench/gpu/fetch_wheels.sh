#!/usr/bin/env bash
# Download, into .whl/, the wheels tppcalc needs that the GPU machine's image lacks (it has numpy,
# numba, numba-cuda, click, nvidia-ml-py and PyTorch, but not pydantic), for its Python 3.12.
# Run where PyPI is reachable, then carry .whl/ to the GPU machine with the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.whl/' "$exclude" 2>/dev/null || echo /.whl/ >>"$exclude"
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" \
    -d .whl pydantic pycountry archspec
ls .whl
