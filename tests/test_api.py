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
    ({"dies": [("70687", "finfet")]}, None, "larger than a whole 300 mm wafer"),
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


# --- What a caller naturally passes (issue 14, item 13) -------------------------------------------

def test_classify_takes_a_catalogue_query_and_an_iso_date_string():
    # The H100 SXM is 3A090.a (TPP 15,832 >= 4800, 3A090.a.1) and China is in D:5: licence required.
    import datetime as dt

    by_query = tppcalc.classify("H100 SXM", dest="CN", as_of="2026-02-01")
    by_spec = tppcalc.classify(tppcalc.default_catalogue().lookup("H100 SXM"), dest="CN", as_of=dt.date(2026, 2, 1))
    assert by_query.eccn == by_spec.eccn == "3A090.a"
    assert by_query.license_required is by_spec.license_required is True
    assert by_query.as_of == dt.date(2026, 2, 1)
    assert tppcalc.classify("H100 SXM", as_of=dt.datetime(2026, 2, 1, 15, 30)).as_of == dt.date(2026, 2, 1)


@pytest.mark.parametrize("as_of", ["2026-13-01", "2026-02-30", "01/02/2026", "20260201", "2026-W05-1", "", "today",
                                   20260201, 2026.0, True])
def test_an_unparseable_date_is_an_error_not_today(as_of):
    with pytest.raises(tppcalc.InputError) as caught:
        tppcalc.classify("H100 SXM", as_of=as_of)
    assert caught.value.field == "as_of"
    assert "YYYY-MM-DD" in str(caught.value) or "not a date" in str(caught.value)


@pytest.mark.parametrize("chip", [None, 42, b"H100 SXM", {"fp8": "1978.9"}])
def test_a_chip_of_the_wrong_type_says_what_to_pass(chip):
    with pytest.raises(tppcalc.InputError, match="expected a ChipSpec, a Metrics or a catalogue query") as caught:
        tppcalc.classify(chip)
    assert caught.value.field == "chip"


def test_an_unknown_chip_query_is_a_tppcalc_error():
    with pytest.raises(tppcalc.UnknownChipError):
        tppcalc.classify("Z9000")
