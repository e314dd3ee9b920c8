"""Every 3A090 line, exactly on it and one float64 ulp either side, in every input form."""

import math
from decimal import Decimal

import pytest

from tppcalc import Comparison, Reading, compute_metrics, spec_from_figures
from tppcalc.data.specfile import specs_from_document

TPP_LINES = [1600, 2400, 4800]
DENSITY_LINES = ["1.6", "3.2", "5.92"]


def below(x: float) -> float:
    return math.nextafter(x, -math.inf)


def above(x: float) -> float:
    return math.nextafter(x, math.inf)


@pytest.mark.parametrize("line", TPP_LINES)
@pytest.mark.parametrize("as_type", [str, float, Decimal])
def test_tpp_on_the_line_is_at_least_the_line(line, as_type):
    rate = line / 8  # int8 TOPS giving exactly the line
    value = as_type(str(rate)) if as_type is not float else float(rate)
    m = compute_metrics(spec_from_figures({"int8": value}))
    assert m.tpp == line
    assert m.primary.tpp_at_least(Decimal(line)) is Comparison.YES


@pytest.mark.parametrize("line", TPP_LINES)
def test_one_ulp_either_side_of_a_tpp_line(line):
    for rate, expected in ((below(float(line)), Comparison.NO), (above(float(line)), Comparison.YES)):
        m = compute_metrics(spec_from_figures({"int4": rate / 4}))  # int4: x4 bits
        assert m.primary.tpp_at_least(Decimal(line)) is expected, (rate, m.tpp)


@pytest.mark.parametrize("line", DENSITY_LINES)
def test_density_exactly_on_the_line(line):
    # TPP 4736 over an area chosen so that density is exactly the line.
    area = Decimal(4736) / Decimal(line)
    m = compute_metrics(spec_from_figures({"int8": 592}, dies=[(area, "finfet")]))
    assert m.performance_density == Decimal(line)
    assert m.primary.density_at_least(Decimal(line)) is Comparison.YES


@pytest.mark.parametrize("line", DENSITY_LINES)
def test_one_ulp_of_area_either_side_of_a_density_line(line):
    area = float(Decimal(4736) / Decimal(line))
    larger, smaller = above(area), below(area)
    m = compute_metrics(spec_from_figures({"int8": 592}, dies=[(larger, "finfet")]))
    assert m.primary.density_at_least(Decimal(line)) is Comparison.NO
    m = compute_metrics(spec_from_figures({"int8": 592}, dies=[(smaller, "finfet")]))
    assert m.primary.density_at_least(Decimal(line)) is Comparison.YES


def test_a_sum_that_binary_floats_put_below_the_line_stays_on_it():
    rates = ("92.1", "96.8", "11.1")  # three units; in float64 (sum) * 8 == 1599.9999999999998
    assert (sum(float(r) for r in rates)) * 8 < 1600
    units = [{"name": f"u{i}", "dense_tops": {"int8": {"value": r, "source": "s"}}} for i, r in enumerate(rates)]
    document = {"sources": {"s": {"title": "t"}},
                "chip": [{"id": "c", "vendor": "v", "name": "n", "kind": "asic",
                          "datacenter": {"value": True, "source": "s"}, "processing_units": units}]}
    (spec,) = specs_from_document(document, "mem")
    summed = compute_metrics(spec).readings[Reading.CONCURRENT_UNITS_SUMMED]
    assert summed.tpp == 1600
    assert summed.tpp_at_least(Decimal(1600)) is Comparison.YES
