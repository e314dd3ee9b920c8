"""The maker's own ECCN beside the computed one (issue 15 item 9): shown, compared, and a
disagreement reported as a finding to explain, never as an error and never changing an answer.

The computed ECCNs these tests compare against come from the rule text and datasheets: the H100
SXM (TPP 15,832, NVIDIA datasheet) is 3A090.a (TPP >= 4,800, 15 CFR 774 Supp. 1 ECCN 3A090.a.1);
the H20 (TPP 4,736 = 296 dense INT8 TOPS x 8 x 2 / 2, density 5.8 on 814 mm2) is outside 3A090 in
the 2023 text. The published values are put in by the tests: what is tested is the comparison.
"""

import datetime as dt
import json

from tppcalc.data.catalogue import Catalogue
from tppcalc.data.figures import spec_from_figures
from tppcalc.data.spec import Source, SourcedText
from tppcalc.decisions.classification import classify
from tppcalc.render.documents import classification_dict

CATALOGUE = Catalogue.load()
DAY = dt.date(2026, 2, 1)


def published(query_or_spec, value: str, source: str | None = "vendor-eccn"):
    spec = CATALOGUE.lookup(query_or_spec) if isinstance(query_or_spec, str) else query_or_spec
    sources = {**spec.sources, "vendor-eccn": Source(title="Maker's export classification page",
                                                     url="https://example.com/eccn")}
    return spec.model_copy(update={"published_eccn": SourcedText(value=value, source=source), "sources": sources})


def test_an_agreeing_published_eccn_is_shown_and_says_so():
    result = classify(published("H100 SXM", "3A090.a"), dest="CN", as_of=DAY)
    assert result.eccn == "3A090.a"
    assert (result.published_eccn.value, result.published_eccn.agrees) == ("3A090.a", True)
    assert "Maker's export classification page <https://example.com/eccn>" in result.published_eccn.source
    assert any("publishes ECCN 3A090.a" in r and "agrees with 3A090.a" in r for r in result.reasons)


def test_a_disagreement_is_a_finding_and_changes_no_answer():
    plain = classify(CATALOGUE.lookup("H20"), dest="DE", as_of=DAY)
    result = classify(published("H20", "3A090.a"), dest="DE", as_of=DAY)
    assert plain.eccn == result.eccn == "outside 3A090"
    assert result.license_required == plain.license_required and result.notices == plain.notices
    assert result.published_eccn.agrees is False
    (finding,) = [r for r in result.reasons if r.startswith("Finding to explain")]
    assert "publishes ECCN 3A090.a" in finding and "computes outside 3A090" in finding
    document = classification_dict(result)
    assert document["published_eccn"]["agrees"] is False and document["published_eccn"]["value"] == "3A090.a"
    json.dumps(document)


def test_a_z_item_or_another_entry_is_read_against_3a090():
    assert classify(published("H100 SXM", "5A992.z"), as_of=DAY).published_eccn.agrees is True
    assert classify(published("H100 SXM", "5A992.c"), as_of=DAY).published_eccn.agrees is False
    assert classify(published("H20", "EAR99"), as_of=DAY).published_eccn.agrees is True
    assert classify(published("H100 SXM", "3A090.b"), as_of=DAY).published_eccn.agrees is False


def test_an_open_computed_eccn_with_the_published_one_among_its_outcomes_is_not_a_disagreement():
    # TPP 2,400 (300 TOPS x 8) with the die area unknown: 3A090.a (a.2: density >= 5.92), 3A090.b
    # (b.2: density >= 1.6) or outside, depending on the density (3A090.a.2 and .b.2).
    spec = published(spec_from_figures({"int8": 300}, datacenter=True), "3A090.b")
    result = classify(spec, as_of=DAY)
    assert result.undetermined == ["3A090.a", "3A090.b", "outside 3A090"]
    assert result.published_eccn.agrees is None and "does not settle which" in result.published_eccn.finding
    # TPP 1,200 (150 x 8): under 1,600, so outside whatever the density; a published 3A090.b disagrees.
    assert classify(published(spec_from_figures({"int8": 150}, datacenter=True), "3A090.b"),
                    as_of=DAY).published_eccn.agrees is False


def test_no_published_eccn_no_field_and_no_line():
    result = classify("H100 SXM", as_of=DAY)
    assert result.published_eccn is None and not any("publishes ECCN" in r for r in result.reasons)
    assert classification_dict(result)["published_eccn"] is None


def test_the_text_output_shows_it_beside_the_computed_eccn():
    from tppcalc.render.layout import Table
    from tppcalc.render.report import classification_blocks

    result = classify(published("H20", "3A090.a"), dest="DE", as_of=DAY)
    table = classification_blocks(result, "H20", explain=False)[0]
    assert isinstance(table, Table)
    labels = [row[0] for row in table.rows]
    assert labels[labels.index("ECCN") + 1] == "Published ECCN"
    cell = table.rows[labels.index("Published ECCN")][1]
    assert cell.text.startswith("3A090.a (DISAGREES") and cell.tone == "warning"
