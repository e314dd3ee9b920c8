"""Adding a predicate is one registration: a toy predicate, and a toy edition that uses it, defined
here and nowhere else, reach the scalar classifier, the batch engine and the chart.

The toy rule (its own text is the independent source of the expected answers): "3A090.a is an IC
with a TPP of 4800 or more AND an I/O rate *below* 600 GB/s". The `io_below` predicate it needs
does not exist in tppcalc.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest

from tppcalc import spec_from_figures
from tppcalc.batch.engine import Engine
from tppcalc.batch.io import READERS
from tppcalc.core.metrics import Comparison
from tppcalc.decisions.classification import classify
from tppcalc.decisions.rules import RULES_DATA_DIR
from tppcalc.decisions.rules.editions import load_rulebook
from tppcalc.decisions.rules.predicates import PREDICATES, Predicate, register, unregister
from tppcalc.render.chart import paragraph_boxes, rules_view

DAY = dt.date(2023, 1, 1)

TOY_EDITION = """
id = "2022-10-07"
title = "Toy rule with an I/O ceiling"
effective = 2022-10-07

[[citations]]
title = "A toy rule, for a test"
url = "https://example.org/toy-rule"

[[paragraphs]]
id = "3A090.a"
eccn = "3A090.a"
when = [{ tpp_at_least = 4800 }, { io_below = 600 }]
citation = "Toy 3A090.a: TPP 4800 or more and I/O rate below 600 GB/s"
"""


def _io_below(metrics, reading, line):
    if metrics.io_bidir_gbps is None:
        return Comparison.UNKNOWN
    return Comparison.YES if metrics.io_bidir_gbps < line else Comparison.NO


@pytest.fixture
def toy_rules(tmp_path):
    register(Predicate("io_below", _io_below, lambda m, r: m.io_bidir_gbps,
                       lambda columns, line: columns.negate(columns.at_least("io", line)),
                       figure="io", missing="I/O rate", label="I/O rate", symbol="<"))
    try:
        (tmp_path / "2022-10-07.toml").write_text(TOY_EDITION)
        yield load_rulebook(tmp_path, RULES_DATA_DIR / "coverage.toml")
    finally:
        unregister("io_below")


def test_an_unregistered_predicate_is_refused_at_load(tmp_path):
    (tmp_path / "2022-10-07.toml").write_text(TOY_EDITION.replace("io_below", "io_below_unknown"))
    with pytest.raises(Exception, match="unknown predicate 'io_below_unknown'"):
        load_rulebook(tmp_path, RULES_DATA_DIR / "coverage.toml")


def chip(io_rate):
    # 600 dense INT8 TOPS x 8 bits: TPP exactly 4800, on the toy rule's TPP line.
    return spec_from_figures({"int8": "600"}, io_bidir_gbps=io_rate)


@pytest.mark.parametrize(("io_rate", "eccn", "undetermined"), [
    ("500", "3A090.a", None),
    ("600", "outside 3A090", None),          # "below 600": 600 itself is not below
    (None, None, ["3A090.a", "outside 3A090"]),
])
def test_classify_uses_the_toy_predicate(toy_rules, io_rate, eccn, undetermined):
    result = classify(chip(io_rate), as_of=DAY, rulebook=toy_rules)
    assert (result.eccn, result.undetermined) == (eccn, undetermined)
    io_check = next(c for c in result.checks[0].conditions if c.predicate == "io_below")
    assert io_check.threshold == 600
    if io_rate == "500":
        assert "3A090.a: TPP 4,800 >= 4,800; I/O rate 500 < 600 (Toy 3A090.a: TPP 4800 or more and I/O rate below 600 GB/s)" in result.reasons


def test_the_batch_engine_uses_the_toy_predicate(toy_rules):
    text = b"id,dense_int8_tops,io_bidir_gbps\na,600,500\nb,600,700\nc,600,\nd,600,599.9999\n"
    reader = READERS["csv"](io.BytesIO(text), "toy.csv")
    engine = Engine(reader.columns, as_of=DAY, rulebook=toy_rules)
    results = [engine.classify(chunk) for chunk in reader]
    outcomes = [results[0].outcomes[i] for i in results[0].outcome.tolist()]
    assert [o.eccn for o in outcomes] == ["3A090.a", "outside 3A090", None, "3A090.a"]
    assert outcomes[0].reason == "3A090.a: TPP >= 4,800 and I/O rate < 600"
    assert outcomes[2].reason == "undetermined: 3A090.a or outside 3A090 (I/O rate unknown)"


def test_the_chart_writes_the_toy_condition_into_the_region_label(toy_rules):
    boxes, skipped = paragraph_boxes(rules_view(as_of=DAY, rulebook=toy_rules))
    assert skipped == []
    assert [(b.paragraph, b.tpp, b.extra) for b in boxes] == [("3A090.a", (Decimal(4800), None), ("I/O rate < 600",))]


def test_a_predicate_is_defined_once():
    with pytest.raises(ValueError, match="already registered"):
        register(PREDICATES["tpp_at_least"])
