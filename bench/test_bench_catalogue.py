"""Catalogue load (goal: under 50 ms) and lookup (goal: under 50 µs).

``test_load_the_whole_catalogue`` reads the validated cache after its first round, as every
command after the first does."""

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


def test_load_with_an_empty_validated_cache(benchmark, tmp_path, monkeypatch):
    """The first load after an install or an upgrade: every file parsed and validated in full."""
    folders = iter(range(10**6))

    def empty_cache():
        monkeypatch.setenv("TPPCALC_CACHE_DIR", str(tmp_path / str(next(folders))))

    catalogue = benchmark.pedantic(Catalogue.load, setup=empty_cache, rounds=10, warmup_rounds=1)
    assert len(catalogue) > 0
