"""Catalogue load (goal: under 50 ms) and lookup (goal: under 50 µs)."""

from tppcalc.catalogue import Catalogue


def test_load_the_whole_catalogue(benchmark):
    catalogue = benchmark(Catalogue.load)
    assert len(catalogue) > 0


def test_lookup_by_fuzzy_name(benchmark):
    catalogue = Catalogue.load()
    benchmark(catalogue.lookup, "nvidia geforce rtx 4090")


def test_lookup_by_alias(benchmark):
    catalogue = Catalogue.load()
    benchmark(catalogue.lookup, "RTX 4090")


def test_load_and_validate_every_record(benchmark):
    """What a load cost before records were validated on first use (``chips`` validates all)."""
    catalogue = benchmark(lambda: Catalogue.load().chips)
    assert len(catalogue) > 0
