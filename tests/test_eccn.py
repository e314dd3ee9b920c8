"""The ECCN value type and the control order the classification engine walks."""

import datetime as dt

import pytest

from tppcalc.classification import control_order
from tppcalc.eccn import Eccn, EccnError


@pytest.mark.parametrize(("text", "entry", "paragraph", "outside"), [
    ("3A090.a", "3A090", "a", False),
    ("4A090", "4A090", None, False),        # the 2022 edition's unlettered entry
    ("outside 4A090", "4A090", None, True),
    ("3A090.b.1", "3A090", "b.1", False),
])
def test_parse_and_print_round_trip(text, entry, paragraph, outside):
    eccn = Eccn.parse(text)
    assert (eccn.entry, eccn.paragraph, eccn.outside) == (entry, paragraph, outside)
    assert str(eccn) == text and eccn.controlled is not outside


@pytest.mark.parametrize("text", ["", "4A09", "outside 4A090.a", "4a090", " 4A090", "EAR99x", None, 4090])
def test_anything_else_is_refused(text):
    with pytest.raises(EccnError, match="not an ECCN"):
        Eccn.parse(text)


def test_2022_rules_rank_the_unlettered_4a090_above_outside():
    # 87 FR 62186 (2022-10-07): 4A090 is a computer holding a 3A090 IC; it has no lettered paragraphs.
    order = control_order("computer", as_of=dt.date(2022, 12, 1))
    assert [str(e) for e in order.ordered] == ["4A090", "outside 4A090"]
    assert order.most_controlled([Eccn.parse("outside 4A090"), Eccn.parse("4A090")]) == Eccn.parse("4A090")


def test_2026_rules_walk_a_before_b_before_outside():
    # 88 FR 73458 (2023-11-17) onwards: 3A090.a is tested before 3A090.b; 4A090.a/.b follow them.
    order = control_order("computer", as_of=dt.date(2026, 2, 1))
    names = [str(e) for e in order.ordered]
    assert names.index("4A090.a") < names.index("4A090.b") < names.index("outside 4A090")
    assert names[-1] == "outside 4A090"
    assert [str(e) for e in order.between(Eccn.parse("4A090.a"), Eccn.parse("4A090.b"))] == ["4A090.a", "4A090.b"]


def test_an_outcome_the_rules_do_not_have_is_an_error_not_outside():
    order = control_order("computer", as_of=dt.date(2022, 12, 1))
    with pytest.raises(EccnError, match="not one of the outcomes"):
        order.rank(Eccn.parse("4A090.a"))
