"""The public API is a promise to procurement code: its names are pinned here."""

import tppcalc

PUBLIC = {
    "AmbiguousChipError", "Bounds", "Catalogue", "ChipSpec", "Classification", "classify", "default_catalogue", "Comparison", "InputError", "Metrics", "Precision",
    "Reading", "ReadingMetrics", "SparseFigureError", "SpecError", "TppcalcError", "UnknownChipError",
    "UnknownPrecisionError", "__version__", "compute_metrics", "load_spec_file", "spec_from_figures",
}


def test_public_names_are_pinned():
    assert set(tppcalc.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(tppcalc, name), name


def test_every_error_is_a_tppcalc_error_and_a_builtin():
    assert issubclass(tppcalc.InputError, (tppcalc.TppcalcError, ValueError))
    assert issubclass(tppcalc.UnknownChipError, LookupError)
    assert issubclass(tppcalc.SparseFigureError, tppcalc.InputError)
