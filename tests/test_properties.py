"""Properties the engine must have for any figures (hypothesis)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tppcalc import Precision, compute_metrics, spec_from_figures

# Datasheet-like figures: up to 4 decimals, 0.0001 .. 100,000 TOPS.
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100000), places=4, allow_nan=False)
areas = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(50000), places=2, allow_nan=False)
precisions = st.sampled_from(list(Precision))
tables = st.dictionaries(precisions, rates, min_size=1, max_size=5)


@given(tables, precisions, rates)
def test_tpp_never_falls_when_a_throughput_rises(table, precision, extra):
    before = compute_metrics(spec_from_figures(table)).tpp
    raised = {**table, precision: table.get(precision, Decimal(0)) + extra}
    after = compute_metrics(spec_from_figures(raised)).tpp
    assert after >= before


@given(tables, areas, areas)
def test_density_never_rises_when_area_rises(table, area, extra):
    small = compute_metrics(spec_from_figures(table, dies=[(area, "finfet")]))
    large = compute_metrics(spec_from_figures(table, dies=[(area + extra, "finfet")]))
    assert large.performance_density <= small.performance_density


@given(tables, areas)
def test_figures_in_gops_give_the_same_result_as_in_tops(table, area):
    in_tops = compute_metrics(spec_from_figures({p: str(v) for p, v in table.items()}, dies=[(area, "gaa")]))
    in_gops = compute_metrics(
        spec_from_figures({p: f"{v * 1000} GOPS" for p, v in table.items()}, dies=[(area, "gaa")])
    )
    assert in_gops.tpp == in_tops.tpp
    assert in_gops.performance_density == in_tops.performance_density
    assert in_gops.governing_precision == in_tops.governing_precision
