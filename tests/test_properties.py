"""Properties the engine must have for any figures (hypothesis)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tppcalc import Precision, compute_metrics, spec_from_figures

# Datasheet-like figures: up to 4 decimals, 0.0001 .. 100,000 TOPS.
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100000), places=4, allow_nan=False)
# Die areas up to 35,000 mm2: two of them (area + extra below) still fit a 300 mm wafer, the bound.
areas = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(35000), places=2, allow_nan=False)
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


amounts = st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal(100000), places=2, allow_nan=False))
die_lists = st.lists(st.tuples(areas, st.sampled_from(["planar", "finfet", "gaa"])), max_size=2)  # fit a wafer


@given(tables, die_lists, st.sampled_from([True, False, None]), amounts, amounts,
       st.sampled_from(["input", "my-chip.2", " spaced "]), st.sampled_from(["figures given", "  X1  "]))
def test_a_spec_from_figures_is_what_validation_makes_of_it(table, dies, datacenter, io, dram, chip_id, name):
    """spec_from_figures assembles its record without validating it (``model_construct``): the
    record must be exactly what ChipSpec's own validation gives, field for field, type for type."""
    from tppcalc.data.spec import ChipSpec

    spec = spec_from_figures({p.value: str(v) for p, v in table.items()}, dies=dies, datacenter=datacenter,
                             io_bidir_gbps=io, dram_bandwidth_gbps=dram, chip_id=chip_id, name=name)
    validated = ChipSpec.model_validate(spec.model_dump())
    assert spec == validated
    assert spec.model_dump(mode="json") == validated.model_dump(mode="json")
    assert repr(spec) == repr(validated)  # the same types all the way down (Enum keys, tuples, Decimals)
