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

# Public names, imported when first used: the CLI imports this package on every command, and
# `tppcalc calc` should not pay for the catalogue, the rules or the classifier.
_EXPORTS = {
    "AmbiguousChipError": "tppcalc.errors",
    "Bounds": "tppcalc.core.metrics",
    "Catalogue": "tppcalc.data.catalogue",
    "ChipSpec": "tppcalc.data.spec",
    "Classification": "tppcalc.decisions.classification",
    "Comparison": "tppcalc.core.metrics",
    "InputError": "tppcalc.errors",
    "Metrics": "tppcalc.core.metrics",
    "Precision": "tppcalc.core.precision",
    "Reading": "tppcalc.core.readings",
    "ReadingMetrics": "tppcalc.core.metrics",
    "SparseFigureError": "tppcalc.errors",
    "SpecError": "tppcalc.errors",
    "TppcalcError": "tppcalc.errors",
    "UnknownChipError": "tppcalc.errors",
    "UnknownPrecisionError": "tppcalc.errors",
    "classify": "tppcalc.decisions.classification",
    "compute_metrics": "tppcalc.core.metrics",
    "default_catalogue": "tppcalc.data.catalogue",
    "load_spec_file": "tppcalc.data.specfile",
    "spec_from_figures": "tppcalc.data.figures",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tppcalc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)


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
