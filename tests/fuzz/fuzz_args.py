"""API and CLI arguments: destinations, headquarters, dates and chip queries, typed as a user or a
caller would; judged against pycountry's reading of the place and against China's answer."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from fuzz_cases import BASELINES, Case, Finding, Outcome, register, run_case
from fuzz_mutate import Chooser, exact_country
from fuzz_order import Answer, permissive_flip
from fuzz_spec import classify_answer

CHIP_QUERIES = ("H200 SXM", "H100 SXM", "H20")
# Queries that name no chip: a placeholder, a formula, a number or punctuation.
JUNK_QUERIES = ("N/A", "NA", "N.A.", "n/a", "=1+1", "1", "2", "-", "?", "", " ", "null", "none", "tbd", "unknown",
                "TBD", "x", "@", "+1", "#N/A", "0", "??", "...")
COUNTRY_WORDS = ("China", "china", "cn", "CN", "CHN", "XX", "ZZ", "Chna", "PRC", "Taiwan", "Macao", "Macau",
                 "United States", "us", "USA", "Iran", "Russia", "Russian Federation", "Korea", "UAE", "AE",
                 "United Arab Emirates", "Malta", "MT", "D", "", " ", "\x00", "Cn ", "cn\n",
                 "中国", "Ｃｈｉｎａ",
                 "Hong Kong", "HK", "EU", "UK", "GB", "Great Britain", "Germany", "de", "1", "=1+1")
DATES = ("2026-02-01", "2022-12-01", "1900-01-01", "9999-12-31", "2026-02-30", "2026-2-1", "yesterday", "",
         "2026-02-01T00:00", "0001-01-01", "20260201")


VALID_DATES = ("2026-02-01", "2025-03-01", "2024-01-01", "2022-12-01")
ARGS_FAMILIES = ("api-places", "api-types", "cli", "chip-query")


def args_case(chooser: Chooser, family: str | None = None, random_text: Callable[[], str] | None = None,
              **_: Any) -> Case:
    """``api-places``: the API with a catalogue ChipSpec, a date, and random destination and
    headquarters; ``api-types``: the API given what a caller would naturally pass (a query string,
    an ISO date string); ``cli``: ``tppcalc classify`` with random places and dates;
    ``chip-query``: ``tppcalc chips show`` with a query that names no chip."""
    family = family or chooser.choice(ARGS_FAMILIES)

    def word(options: tuple[str, ...]) -> str:
        if random_text is not None and chooser.below(4) == 0:
            return random_text()
        return chooser.choice(options)

    if family == "chip-query":
        query = word(JUNK_QUERIES)
        return Case("args", family, f"chips show {query!r}", {}, argv=["chips", "show", query, "--json"],
                    context={"query": query}, check="junk")
    chip = chooser.choice(CHIP_QUERIES)
    dest = word(COUNTRY_WORDS)
    hq = chooser.choice((None, word(COUNTRY_WORDS)))
    day = chooser.choice(VALID_DATES) if chooser.below(4) else word(DATES)
    if family.startswith("api"):
        as_of: Any = day
        chip_arg: Any = ("catalogue", chip)
        if family == "api-places":
            as_of = dt.date.fromisoformat(chooser.choice(VALID_DATES))
        else:
            chip_arg = chooser.choice((chip, ("catalogue", chip)))
            if chooser.below(2):
                try:
                    as_of = dt.date.fromisoformat(day)
                except ValueError:
                    as_of = day
        kwargs = {"chip": chip_arg, "dest": dest, "hq": hq, "as_of": as_of}
        shown = f"default_catalogue().lookup({chip!r})" if isinstance(chip_arg, tuple) else repr(chip)
        what = f"tppcalc.classify({shown}, dest={dest!r}, hq={hq!r}, as_of={as_of!r})"
        return Case("args", family, what, {}, api=("classify", kwargs),
                    context={"chip": chip, "dest": dest, "hq": hq, "day": as_of}, check="api")
    junk = chooser.below(4) == 0
    query = word(JUNK_QUERIES) if junk else chip
    argv = ["classify", query, "--dest", dest, "--as-of", day, "--json"] + (["--hq", hq] if hq is not None else [])
    return Case("args", family, "tppcalc " + " ".join(repr(a) for a in argv), {}, argv=argv,
                context={"chip": chip, "dest": dest, "hq": hq, "day": day, "query": query if junk else None},
                check="cli-args")


def _reference(chip: str, day: Any, dest: str, hq: str | None) -> Answer | None:
    """The API's answer for exact ISO alpha-2 codes (what a destination must mean), computed once."""
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            return None
    if not isinstance(day, dt.date):
        return None
    key = ("reference", chip, day, dest, hq)
    if key not in BASELINES:
        case = Case("args", "original", f"{chip} to {dest}", {}, api=("classify", {
            "chip": ("catalogue", chip), "dest": dest, "hq": hq, "as_of": day}), check="none")
        value = run_case(case).api_value
        if not isinstance(value, tuple) or value[0] != "ok":
            return None
        BASELINES[key] = Answer.of(value[1], value[2], value[3])
    return BASELINES[key]


def _country_flip(context: dict, answer: Answer) -> list[Finding]:
    """A destination or headquarters must be an exact ISO 3166 code or name (pycountry decides);
    its answer must then be the one for its alpha-2 code. Anything else must be refused: when it
    is accepted, the answer may not be more permissive than for China (D:5, as controlled as a
    destination gets) with a Chinese headquarters."""
    dest, hq = context["dest"], context["hq"]
    dest_code = exact_country(dest)
    hq_code = exact_country(hq) if hq is not None else None
    if dest_code is not None and (hq is None or hq_code is not None):
        reference, against = _reference(context["chip"], context["day"], dest_code, hq_code), f"{dest_code}/{hq_code}"
    else:
        reference, against = _reference(context["chip"], context["day"], "CN", "CN"), "CN/CN (unknown place accepted)"
    why = permissive_flip(reference, answer) if reference is not None else None
    if why:
        return [Finding("permissive-flip", f"dest {dest!r}, hq {hq!r} against {against}: {why}")]
    return []


def _check_api(case: Case, outcome: Outcome) -> list[Finding]:
    value = outcome.api_value
    if value is None or value[0] != "ok":
        return []
    _, eccn, undetermined, licence, _ = value
    return _country_flip(case.context, Answer.of(eccn, undetermined, licence))


def _check_cli_args(case: Case, outcome: Outcome) -> list[Finding]:
    """A junk chip query must be refused; a real chip's answer must respect the places rule."""
    if outcome.exit_code != 0:
        return []
    if case.context.get("query") is not None:
        return [Finding("junk-resolved", f"classify {case.context['query']!r} answered for a chip")]
    return _country_flip(case.context, classify_answer(outcome))


def _check_junk(case: Case, outcome: Outcome) -> list[Finding]:
    if outcome.exit_code == 0:
        try:
            chip = json.loads(outcome.stdout).get("id", "?")
        except (ValueError, AttributeError):
            chip = "?"
        return [Finding("junk-resolved", f"{case.context['query']!r} resolved to {chip}")]
    return []


register("args", {"api": _check_api, "cli-args": _check_cli_args, "junk": _check_junk},
         lambda: [Case("args", "original", "", {}, argv=["classify", "H20", "--dest", "CN", "--json"])])
