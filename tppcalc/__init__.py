"""tppcalc: US export-control metrics and ECCN classification of AI chips.

The public API for procurement code. Every function is pure and typed; results are pydantic
models or frozen dataclasses. Nothing here touches hardware or imports numba or NVML.

    >>> import tppcalc
    >>> spec = tppcalc.spec_from_figures({"fp8": "1978.9"}, dies=[("814", "finfet")], datacenter=True)
    >>> m = tppcalc.compute_metrics(spec)
    >>> m.tpp, m.governing_precision
    (Decimal('15831.2'), <Precision.FP8: 'fp8'>)
"""

from tppcalc._version import __version__
from tppcalc.catalogue import Catalogue, default_catalogue
from tppcalc.classify import Classification, classify
from tppcalc.errors import (
    AmbiguousChipError,
    InputError,
    SparseFigureError,
    SpecError,
    TppcalcError,
    UnknownChipError,
    UnknownPrecisionError,
)
from tppcalc.figures import spec_from_figures
from tppcalc.metrics import Bounds, Comparison, Metrics, ReadingMetrics, compute_metrics
from tppcalc.precision import Precision
from tppcalc.readings import Reading
from tppcalc.spec import ChipSpec
from tppcalc.specfile import load_spec_file

__all__ = [
    "AmbiguousChipError",
    "Bounds",
    "Catalogue",
    "ChipSpec",
    "Classification",
    "Comparison",
    "InputError",
    "Metrics",
    "Precision",
    "Reading",
    "ReadingMetrics",
    "SparseFigureError",
    "SpecError",
    "TppcalcError",
    "UnknownChipError",
    "UnknownPrecisionError",
    "__version__",
    "classify",
    "compute_metrics",
    "default_catalogue",
    "load_spec_file",
    "spec_from_figures",
]
