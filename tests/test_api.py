"""The public API is a promise to procurement code: its names are pinned here."""

import pytest

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


BAD_FIGURES = [
    ({"chip_id": "My Chip"}, "chip_id", "is not an id"),
    ({"name": "  "}, "name", "non-empty"),
    ({"source_title": ""}, "source_title", "non-empty"),
    ({"datacenter": "yes"}, "datacenter", "true, false or unknown"),
    ({"dies": [("800", "FinFET")]}, "dies", "unknown transistor architecture"),
    ({"dies": [("0", "finfet")]}, None, "die area must be greater than zero"),
    ({"io_bidir_gbps": "-1"}, None, "I/O rate must not be negative"),
]


@pytest.mark.parametrize(("keywords", "field", "message"), BAD_FIGURES, ids=[b[1] or b[2] for b in BAD_FIGURES])
def test_spec_from_figures_refuses_what_the_model_would_refuse_and_names_the_field(keywords, field, message):
    with pytest.raises(tppcalc.InputError, match=message) as caught:
        tppcalc.spec_from_figures({"int8": "600"}, **keywords)
    assert caught.value.field == field


def test_spec_from_figures_needs_a_throughput():
    with pytest.raises(tppcalc.InputError, match="at least one dense throughput"):
        tppcalc.spec_from_figures({})
