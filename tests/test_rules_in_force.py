"""One entry point for the rules in force: every consumer gets its editions from rules_in_force.

Dates from the rule texts: 87 FR 62186 (first rule, 2022-10-07); the AI Diffusion rule (90 FR 4544)
effective 2025-01-13, not enforced from 2025-05-13 (BIS statement of that day); the 2026-01-15
rule (91 FR 1684).
"""

import datetime as dt
from decimal import Decimal

import pytest

from tppcalc.batch.engine import Engine
from tppcalc.decisions.classification import classify
from tppcalc.decisions.model_weights import classify_model_weights
from tppcalc.decisions.rules.in_force import caps_in_force, model_weights_in_force, rules_in_force
from tppcalc.errors import InputError
from tppcalc.render.chart import rules_view

D = dt.date
AI_DIFFUSION = "2025-01-13-ai-diffusion"
CASES = [(D(2022, 12, 1), None, False), (D(2025, 2, 1), None, False), (D(2025, 6, 1), None, False),
         (D(2025, 6, 1), None, True), (D(2026, 2, 1), None, False), (D(2026, 2, 1), "2023-11-17", False),
         (D(2024, 1, 1), AI_DIFFUSION, False)]


@pytest.mark.parametrize(("day", "edition", "as_written"), CASES)
def test_classify_batch_and_chart_use_the_same_rules(day, edition, as_written):
    rules = rules_in_force(day, edition, as_written)
    result = classify("H100 SXM", as_of=day, edition=edition, as_written=as_written)
    assert (result.edition, result.overlays) == (rules.base.id, [o.id for o in rules.overlays])
    engine = Engine(["dense_int8_tops"], as_of=day, edition=edition, as_written=as_written)
    assert engine._paragraphs == rules.paragraphs and engine._exclusions == rules.exclusions
    view = rules_view(as_of=day, edition=edition, as_written=as_written)
    assert view.layers == tuple(e.id for e in rules.layers)
    assert list(view.paragraphs) == rules.paragraphs


def test_the_chart_applies_the_ai_diffusion_rule_only_as_written():
    # Not enforced from 2025-05-13: the chart drew it as never applying, whatever was asked.
    day = D(2025, 6, 1)
    assert AI_DIFFUSION not in rules_view(as_of=day).layers
    assert AI_DIFFUSION in rules_view(as_of=day, as_written=True).layers
    assert AI_DIFFUSION in rules_in_force(day, as_written=True).id


def test_a_named_edition_takes_the_overlays_named_with_it():
    rules = rules_in_force(D(2026, 2, 1), "2025-01-16", overlays=[AI_DIFFUSION])
    assert [e.id for e in rules.layers] == ["2025-01-16", AI_DIFFUSION]


def test_a_day_before_the_first_rule_is_refused_with_its_field():
    with pytest.raises(InputError, match="no advanced-computing rule was in force on 2022-10-06") as caught:
        rules_in_force(D(2022, 10, 6))
    assert caught.value.field == "--as-of"


def test_caps_and_model_weights_come_from_the_ai_diffusion_rule_from_its_effective_date():
    assert caps_in_force(D(2025, 1, 12)) == [] and model_weights_in_force(D(2025, 1, 12)) is None
    assert [e.id for e in caps_in_force(D(2025, 6, 1))][:1] == [AI_DIFFUSION]
    assert model_weights_in_force(D(2025, 6, 1)).id == AI_DIFFUSION
    # Before any advanced-computing rule, 4E091 simply did not exist (no error).
    assert classify_model_weights(Decimal("2e26"), as_of=D(2020, 1, 1)).eccn == "outside 4E091"


def test_the_2022_probe_case_ranks_4a090_above_outside():
    order = rules_in_force(D(2022, 12, 1)).control_order("computer")
    assert [str(e) for e in order.ordered] == ["4A090", "outside 4A090"]


# A named edition is a what-if, but its status must be the true one: the edition of 2026-01-15 was
# replaced by the eCFR lines of 2026-07-23 (both in the rule data; `tppcalc rules list` says
# "superseded by 2026-07-23 on 2026-07-23"). It used to be labelled "in force" on any later day, so
# `classify --edition 2026-01-15 --dest AE` on 2026-12-05 said "no licence" under an edition "in force".
def test_a_named_edition_past_its_successor_is_labelled_superseded_not_in_force():
    day = dt.date(2026, 12, 5)
    rules = rules_in_force(day, edition="2026-01-15")
    assert rules.status == "superseded by 2026-07-23 on 2026-07-23"
    assert ("(superseded by 2026-07-23 on 2026-07-23; named explicitly for 2026-12-05, with the country groups "
            "of 2026-07-22)") in rules.preamble[0]
    assert classify("H100 SXM", dest="AE", as_of=day, edition="2026-01-15").edition_status == rules.status
    assert rules_in_force(dt.date(2026, 7, 22), edition="2026-01-15").status == "in force"
    assert rules_in_force(day).status == "in force"


def test_a_replaced_edition_reads_destinations_with_its_own_country_groups():
    # H100 SXM (TPP 15,832: 3A090.a) to the UAE. Under 2026-01-15 on its own days the UAE is not in
    # A:5 and the licence is required; the eCFR of 2026-07-23 names the UAE in the licence lines.
    # Named today, that edition was read with today's groups (the UAE in A:5) and said "no licence":
    # a mix neither text gives.
    today = dt.date(2026, 12, 5)
    on_its_day = classify("H100 SXM", dest="AE", as_of=dt.date(2026, 3, 1))
    named = classify("H100 SXM", dest="AE", as_of=today, edition="2026-01-15")
    assert on_its_day.license_required is True
    assert named.license_required is True
    assert rules_in_force(today, edition="2026-01-15").groups_day == dt.date(2026, 7, 22)
    assert rules_in_force(today).groups_day == today
