"""``tppcalc classify``, ``rules`` and ``model`` from the command line."""

import json


def test_classify_a_catalogue_chip_as_json(run_cli):
    result = run_cli("classify", "H100 SXM", "--dest", "China", "--as-of", "2024-01-01", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    for key in ("eccn", "license_required", "license_exceptions", "review_policy", "edition", "reasons", "undetermined"):
        assert key in out
    assert out["eccn"] == "3A090.a" and out["license_required"] is True
    assert out["edition"] == "2023-11-17" and out["undetermined"] is None


def test_classify_from_flags_undetermined(run_cli):
    result = run_cli("classify", "--dense", "int8=250", "--datacenter", "--dest", "CN", "--as-of", "2024-01-01", "--json")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["eccn"] is None
    assert out["undetermined"] == ["3A090.a", "3A090.b", "outside 3A090"]
    assert out["license_required"] is None


def test_explain_prints_reasons_and_citations(run_cli):
    result = run_cli("classify", "RTX 4090 D", "--dest", "CN", "--as-of", "2024-01-01", "--explain")
    assert result.exit_code == 0
    assert "Why:" in result.stdout and "Note 2" in result.stdout and "Citations:" in result.stdout


def test_bad_country_and_unknown_chip_are_one_line_errors(run_cli):
    result = run_cli("classify", "H100 SXM", "--dest", "Narnia")
    assert result.exit_code == 1 and result.stderr.startswith("tppcalc: error: --dest: unknown country")
    result = run_cli("classify", "Z9000", "--dest", "CN")
    assert result.exit_code == 1 and "no chip in the catalogue matches 'Z9000'" in result.stderr


def test_rules_list_and_show(run_cli):
    result = run_cli("rules", "list", "--json")
    ids = [e["id"] for e in json.loads(result.stdout)["editions"]]
    assert ids[0] == "2022-10-07" and "2026-01-15" in ids and "2025-01-13-ai-diffusion" in ids
    shown = run_cli("rules", "show", "2023-11-17")
    assert shown.exit_code == 0 and "3A090.a.2" in shown.stdout and "88 FR 73458" in shown.stdout
    assert run_cli("rules", "show", "1999-01-01").exit_code == 1


def test_model_weights(run_cli):
    result = run_cli("model", "--training-ops", "3e26", "--as-of", "2025-03-01", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["eccn"] == "4E091" and out["enforced"] is False
    assert "compliance not required" in out["edition_status"]
    small = json.loads(run_cli("model", "--training-ops", "5e25", "--as-of", "2025-03-01", "--json").stdout)
    assert small["eccn"] == "outside 4E091"


def test_model_weights_from_params_and_tokens_and_published(run_cli):
    out = json.loads(run_cli("model", "--params", "1e12", "--tokens", "2e13", "--json").stdout)
    assert out["eccn"] == "4E091" and out["training_operations"] == 1.2e26
    out = json.loads(run_cli("model", "--training-ops", "3e26", "--published", "--json").stdout)
    assert out["eccn"] == "outside 4E091"
    out = json.loads(run_cli("model", "--training-ops", "3e26", "--derived-from-published-ops", "2e25", "--json").stdout)
    assert out["eccn"] == "outside 4E091"
    out = json.loads(run_cli("model", "--training-ops", "2e26", "--derived-from-published-ops", "6e25", "--json").stdout)
    assert out["eccn"] == "4E091"
    assert run_cli("model").exit_code == 1


def test_chips_list_prints_every_chip_as_a_table(run_cli):
    # The table formats the JSON document's numbers, floats among them; it once crashed on them.
    listed = json.loads(run_cli("chips", "list", "--json").stdout)
    result = run_cli("chips", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"{len(listed)} chips\n"
    assert all(chip["id"] in result.stdout for chip in listed)
