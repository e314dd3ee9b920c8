"""The ECCN value type and the control order the classification engine walks."""

import datetime as dt

import pytest

from tppcalc.core.eccn import Eccn, EccnError
from tppcalc.decisions.classification import control_order


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


# ---- consumers read ECCNs through the value type, never by prefix -------------------------------

@pytest.mark.parametrize(("text", "tone"), [
    ("outside 3A090", "outside"),
    ("3A090.a", "controlled"),
    ("4A090", "controlled"),
    (None, "undetermined"),
    # Text that is not an ECCN (a hostile probe line's "eccn" field) never reads as outside,
    # however it starts.
    ("outside the US", "controlled"),
    ("outsider", "controlled"),
])
def test_the_tone_of_a_verdict_comes_from_the_parsed_eccn(text, tone):
    from tppcalc.render.layout import eccn_tone

    assert eccn_tone(text) == tone


@pytest.mark.parametrize(("outcomes", "counted"), [
    # 87 FR 62186 (2022): the unlettered 3A090 is the advanced-computing IC; 2023 on: 3A090.a.
    (["3A090"], "yes"), (["3A090.a"], "yes"), (["3A090.b"], "no"), (["outside 3A090"], "no"),
    (["3A090.a", "3A090.b", "outside 3A090"], "maybe"),
])
def test_fleet_caps_count_3a090a_and_the_2022_unlettered_entry(monkeypatch, outcomes, counted):
    import tppcalc.fleet as fleet

    class Answer:
        eccn = outcomes[0] if len(outcomes) == 1 else None
        undetermined = None if len(outcomes) == 1 else outcomes

    monkeypatch.setattr(fleet, "classify", lambda spec, as_of: Answer)
    assert fleet._controlled(None, dt.date(2026, 2, 1)) == counted


def test_batch_outcomes_read_controlled_from_the_parsed_eccn():
    from tppcalc.batch.engine import Outcome

    assert Outcome("4A090", None, None).controlled
    assert not Outcome("outside 3A090", None, None).controlled
    assert not Outcome(None, None, None).controlled


@pytest.mark.parametrize("typo", ['eccn = "3A90.a"', 'eccn = "outside 3A090"', 'computer_eccn = "4A090 .a"'])
def test_an_eccn_typo_in_rule_data_fails_at_load_naming_the_file(tmp_path, typo):
    # A paragraph whose ECCN matched no licence line would never require a licence: refuse it.
    from tppcalc.decisions.rules import RULES_DATA_DIR
    from tppcalc.decisions.rules.editions import load_rulebook
    from tppcalc.errors import SpecError

    (tmp_path / "2022-10-07.toml").write_text(f"""
id = "2022-10-07"
title = "Toy"
effective = 2022-10-07
[[citations]]
title = "toy"
url = "https://example.org/toy"
[[paragraphs]]
id = "3A090.a"
{typo}
{'eccn = "3A090.a"' if typo.startswith("computer") else ""}
when = [{{ tpp_at_least = 4800 }}]
citation = "toy"
""")
    with pytest.raises(SpecError, match=r"2022-10-07\.toml") as caught:
        load_rulebook(tmp_path, RULES_DATA_DIR / "coverage.toml")
    assert "eccn" in str(caught.value)
