"""The batch engine: a chunk of rows in, one result per row out, computed column by column.

A row's ECCN, licence answer and reason depend on nothing but its answers to the conditions of the
rules in use (each YES, NO or UNKNOWN). So numpy works out every spec row's answers at once, and
the scalar engine, ``classify(spec_from_figures(...))``, classifies one row for each distinct set
of answers; every row with that set gets its outcome. That scalar run recomputes the answers of
its row, and the batch stops if they differ. Unknown figures are therefore handled by the scalar
engine's own fail-closed walk, never by a second implementation of it.

Numpy's answers come from figures written as plain decimals (up to 9 integer digits and 4
decimals), held exactly as integers in 1/10,000ths, and every comparison with a line is exact:
TPP, I/O rate and DRAM bandwidth (and their sum) as those integers, performance density as a
cross-multiplication of TPP and die area by the line's numerator and denominator. A row with a
figure in another form, and a catalogue row, get their figures and answers from the scalar engine
(``spec_from_figures``, ``compute_metrics`` and the rules' predicates) one by one. Rows whose TPP or
density lies within ``MARGIN`` (relative) of a line are confirmed apart from the others: the first
such row of each set of answers gets a scalar run of its own, so the scalar engine re-checks every
kind of row on or next to a threshold. TPP and density are printed from exact integers or Decimals.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np

from tppcalc.batch.ids import SeenIds
from tppcalc.batch.io import Cells, Chunk
from tppcalc.core.eccn import Eccn
from tppcalc.core.exact import to_decimal
from tppcalc.core.metrics import Metrics, compute_metrics
from tppcalc.core.precision import PRECISIONS, Precision
from tppcalc.data.catalogue import Catalogue, default_catalogue
from tppcalc.data.figures import die_area, parse_rate, spec_from_figures
from tppcalc.data.spec import MAX_AREA_MM2, Kind
from tppcalc.decisions.classification import Classification, classify, letter_signature
from tppcalc.decisions.rules.editions import Bound, Condition, RuleBook
from tppcalc.decisions.rules.in_force import rules_in_force
from tppcalc.decisions.rules.notices import bound_holds
from tppcalc.decisions.rules.predicates import NO, PREDICATES, UNKNOWN, YES, all_of, negate
from tppcalc.errors import AmbiguousChipError, InputError, TppcalcError, UnknownChipError

DENSE_COLUMNS: dict[str, Precision] = {
    f"dense_{p.value}_{'tflops' if info.is_float else 'tops'}": p for p, info in PRECISIONS.items()
}
AMOUNT_COLUMNS = {"die_area_mm2": "die area", "io_bidir_gbps": "I/O rate", "dram_bandwidth_gbps": "DRAM bandwidth"}
FIGURE_COLUMNS = (*DENSE_COLUMNS, *AMOUNT_COLUMNS, "datacenter")
COLUMNS = ("id", "chip", "quantity", *FIGURE_COLUMNS)
RESULT_COLUMNS = ("tpp", "performance_density", "eccn", "license_required", "reason", "notices", "error")
# Names that read as a per-row destination, headquarters or date. The command's options apply to
# every row, so such a column would be copied through unread: a row marked CN would get the answer
# for --dest. Refused (compared stripped, in lower case, "-" and " " as "_").
PER_ROW_OPTION_COLUMNS = frozenset({
    "dest", "destination", "destination_country", "dest_country", "country", "ship_to", "ship_to_country",
    "hq", "headquarters", "hq_country", "end_user_hq", "operator_hq", "as_of", "as_of_date", "edition",
    "as_written"})

SCALE = 10_000                 # fast-path figures are integers in 1/10,000ths
_MAX_UNITS = 10**9 * SCALE     # and below 10^9: any TPP x SCALE then fits in an int64
MARGIN = 1e-9
_LIMIT = 1 << 62               # exact comparisons keep every product below this
_MAX_CONDITIONS = 39           # 2 x 3^39 < 2^63: a row's answers and its near-a-line bit pack into one int64

# Three-valued answers as small integers (NOT is 2 - x), and the scalar engine's in the same code.
_NO, _UNKNOWN, _YES = 0, 1, 2
_ANSWER = {NO: _NO, UNKNOWN: _UNKNOWN, YES: _YES}
# Cell states after parsing.
_EMPTY, _FAST, _EXACT, _BAD, _OTHER = 0, 1, 2, 3, 4
_FLAGS = {"": _UNKNOWN, "true": _YES, "yes": _YES, "1": _YES, "false": _NO, "no": _NO, "0": _NO}
# The figures whose rows near a line are confirmed apart (products and quotients of the figures
# given: where an error in the exact arithmetic would show first).
_NEAR_LINE_FIGURES = ("tpp", "density")
# Figures numpy holds as integers in 1/10,000ths; density is the pair (TPP, die area) of them.
_UNIT_FIGURES = ("tpp", "io", "dram", "dram_plus_io")
# The plain figures numpy keeps, in units (least, most or None), by amount column; others (0, None),
# rates (1, None). Outside, the scalar parser says why a cell is refused (zero, past a wafer's area).
_FAST_RANGE = {"die_area_mm2": (1, int(MAX_AREA_MM2) * SCALE)}


def check_columns(columns: Sequence[str], where: str) -> None:
    """Refuse a header that would classify wrongly or not at all; other columns pass through."""
    known = f"known columns: {', '.join(COLUMNS)} (any other column is copied through)"
    seen = set()
    for name in columns:
        if name in seen:
            raise InputError(f"column {name!r} appears twice", where=where)
        seen.add(name)
        if name in RESULT_COLUMNS:
            raise InputError(f"column {name!r} is a result column ({', '.join(RESULT_COLUMNS)} are written by "
                             "tppcalc): rename it, or classify the file the earlier run read", where=where)
        if name in COLUMNS:
            continue
        key = name.strip().lower()
        if key in RESULT_COLUMNS:
            raise InputError(f"column {name!r} is a result column ({', '.join(RESULT_COLUMNS)} are written by "
                             "tppcalc): rename it, or classify the file the earlier run read", where=where)
        if re.sub(r"[\s-]+", "_", key) in PER_ROW_OPTION_COLUMNS:
            raise InputError(f"column {name!r} reads as a per-row destination, headquarters or date, but --dest, "
                             "--hq, --as-of, --edition and --as-written apply to every row and the column would "
                             "not be read: split the file by destination and give the options, or rename the "
                             "column to keep it as a note", where=where)
        close = [key] if key in COLUMNS else difflib.get_close_matches(key, COLUMNS, n=1, cutoff=0.8)
        if close or key.startswith("dense_"):
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"column {name!r} is not a column tppcalc knows{hint}; {known}", where=where)
    if "chip" not in seen and not seen & set(DENSE_COLUMNS):
        raise InputError(f"no chip column and no dense_* column: nothing to classify; {known}", where=where)


@dataclass(frozen=True)
class Outcome:
    """The result fields other than the figures; shared by every row with the same answer."""

    eccn: str | None
    license_required: bool | None
    reason: str | None
    error: str | None = None
    notices: str | None = None  # the notice ids, "id; id": each text is given once, in the run's Summary
    notice_texts: tuple[tuple[str, str], ...] = dataclasses.field(default=(), compare=False)  # (id, text) of each

    def fields(self) -> tuple:
        return self.eccn, self.license_required, self.reason, self.notices, self.error

    @property
    def controlled(self) -> bool:
        return self.eccn is not None and Eccn.parse(self.eccn).controlled


@dataclass(frozen=True)
class Results:
    """One chunk's results: row ``i`` has ``outcomes[outcome[i]]``, and the TPP and performance
    density that ``texts()`` renders."""

    outcome: np.ndarray
    outcomes: list[Outcome]
    tpp: np.ndarray      # exact, in 1/10,000ths; -1 where ``exact`` holds the text, or there is none
    density: np.ndarray  # rounded down to 1/10,000ths; -1 likewise
    exact: dict[int, tuple[bytes, bytes]]  # rows the scalar engine classified: their TPP and density texts

    def texts(self) -> tuple[np.ndarray, np.ndarray]:
        """TPP and performance density of every row as ASCII byte strings (b"" for none)."""
        return (_rendered(self.tpp, {row: tpp for row, (tpp, _) in self.exact.items()}),
                _rendered(self.density, {row: density for row, (_, density) in self.exact.items()}))


@dataclass(frozen=True)
class _Verdict:
    tpp: bytes
    density: bytes
    outcome: Outcome
    answers: int  # the row's answers to the rules' conditions, packed as _fill_fast packs them
    notice_answers: int  # its answers to the notices' and letters' bounds, packed likewise


@dataclass(frozen=True)
class _Unresolved:
    """A chip name the catalogue did not resolve: the row's error text and the lookup's error."""

    message: str
    error: UnknownChipError | AmbiguousChipError


# Names listed in a run's summary at most: a file of a million distinct typos must not grow memory.
MAX_UNRESOLVED_NAMES = 1000


@dataclass
class _Column:
    """A numeric column parsed: ``units`` (1/10,000ths) where ``state`` is _FAST."""

    units: np.ndarray
    state: np.ndarray
    texts: Cells | None

    def text(self, row: int) -> str | None:
        return None if self.state[row] == _EMPTY else self.texts.text(row)


@dataclass(frozen=True)
class Rows:
    """A chunk's cells parsed and checked: what ``Engine.decide`` classifies."""

    numbers: np.ndarray
    dense: dict[Precision, _Column]
    amounts: dict[str, _Column]
    datacenter: np.ndarray
    chips: dict[str, np.ndarray]  # catalogue query -> the rows that ask for it
    problems: dict[int, list[str]]


class Engine:
    """Classifies chunks of one file under one choice of rules, destination and headquarters."""

    def __init__(self, columns: Sequence[str], *, unit: str = "line", where: str = "input",
                 dest: str | None = None, hq: str | None = None, as_of: dt.date | None = None,
                 edition: str | None = None, as_written: bool = False,
                 catalogue: Callable[[], Catalogue] = default_catalogue, rulebook: RuleBook | None = None):
        check_columns(columns, where)
        self._unit = unit
        # Only a missing date is today: "" or a garbled date reaches classify() and is refused there.
        day = dt.date.today() if as_of is None else as_of
        self._keywords = {"dest": dest, "hq": hq, "as_of": day, "edition": edition, "as_written": as_written,
                          "rulebook": rulebook}
        # A bad --edition, --as-of, --dest or --hq fails here, before any row is read.
        classify(spec_from_figures({"int8": 1}), **self._keywords)
        rules = rules_in_force(self._keywords["as_of"], edition, as_written, rulebook=rulebook)
        layers = rules.layers
        self._paragraphs = rules.paragraphs
        self._exclusions = rules.exclusions
        # The conditions an outcome depends on; near-line checks use every line, licence sections' too.
        self._conditions = list(dict.fromkeys(c for entry in (*self._paragraphs, *self._exclusions)
                                              for c in _conditions(entry.when)))
        if len(self._conditions) > _MAX_CONDITIONS:
            raise InputError(f"{len(self._conditions)} conditions in paragraphs and exclusions; batch mode takes "
                             f"at most {_MAX_CONDITIONS}", where=f"rule edition {rules.base.id}")
        self._lines: dict[str, set[Decimal]] = {figure: set() for figure in _NEAR_LINE_FIGURES}
        for layer in layers:
            for entry in (*layer.paragraphs, *layer.exclusions, *layer.exceptions, *layer.review_policies):
                for name, value in _conditions(entry.when):
                    figure = PREDICATES[name].figure
                    if figure in self._lines:
                        self._lines[figure].add(value)
        # Notices (a tariff band, a letter's criteria) depend on figures the conditions above may
        # not ask about, and on the chip where a notice or letter names it: rows share an outcome
        # only when these agree too, so that no row gets another row's notices.
        self._notice_bounds: list[Bound] = list({_bound_key(b): b for layer in layers for b in (
            *(b for rule in layer.notices for b in rule.when),
            *(b for letter in layer.letters for criterion in letter.criteria for b in criterion))}.values())
        if len(self._notice_bounds) > _MAX_CONDITIONS:
            raise InputError(f"{len(self._notice_bounds)} bounds in notices and letters; batch mode takes at most "
                             f"{_MAX_CONDITIONS}", where=f"rule edition {rules.base.id}")
        for bound in self._notice_bounds:
            if bound.figure not in _UNIT_FIGURES:  # the vectorised path cannot answer it
                raise InputError(f"a notice bound on {bound.figure!r}; batch mode compares TPP, I/O and DRAM "
                                 "bounds only", where=f"rule edition {rules.base.id}")
            if bound.figure in self._lines:
                self._lines[bound.figure].update(v for v in (bound.at_least, bound.above, bound.at_most, bound.below)
                                                 if v is not None)
        self._line_floats = {figure: np.sort(np.array([float(v) for v in lines], np.float64))
                             for figure, lines in self._lines.items()}
        # Density compares TPP x q with area x p for each line p/q: rows where a product could pass
        # 2^62 (none with today's lines and figures below 10^9) go to the scalar engine.
        ratios = [Fraction(v).as_integer_ratio() for v in self._lines["density"]] or [(1, 1)]
        self._density_room = (_LIMIT // max(q for _, q in ratios), _LIMIT // max(p for p, _ in ratios))
        self._named_chips = {c for layer in layers for c in (*(c for rule in layer.notices for c in rule.chips),
                                                             *(p for letter in layer.letters for p in letter.products))}
        self._catalogue = functools.cache(catalogue)
        self._ids = SeenIds()  # exact, in memory flat in the number of ids (a set of the texts took 66 bytes an id)
        self._outcomes: dict = {}  # answers (notices', letters', a named chip) -> the scalar engine's outcome
        # numpy's answers that a scalar run has confirmed -> their outcome: one int64 key where the
        # answers of conditions and bounds pack into one (every edition so far), else pairs.
        fits = len(self._conditions) + len(self._notice_bounds) <= _MAX_CONDITIONS
        self._known = _KnownKeys() if fits else None
        self._fast_outcomes: dict[tuple[int, int], Outcome] = {}
        # Bounded, so that memory does not grow with the number of distinct rows in a file.
        self._figures = functools.lru_cache(maxsize=1 << 14)(self._classify_figures)
        self._chip = functools.lru_cache(maxsize=1 << 14)(self._classify_chip)
        # Chip names not resolved, in the order first seen: name -> its summary entry.
        self.unresolved: dict[str, dict] = {}
        self.unresolved_left_out = 0  # names beyond MAX_UNRESOLVED_NAMES

    # ------------------------------------------------------------------------------ one chunk

    def classify(self, chunk: Chunk) -> Results:
        return self.decide(self.read(chunk))

    def read(self, chunk: Chunk) -> Rows:
        """Parse and check the cells of a chunk (rows read in earlier chunks count for ids: call it
        once for each chunk, in order). Touches no callable and nothing ``decide`` uses: it may run
        on a thread that reads ahead, one chunk before ``decide``."""
        n = len(chunk)
        cells = chunk.cells
        problems: dict[int, list[str]] = {}
        dense = {p: _parse(cells[c], functools.partial(parse_rate, what=f"{p} throughput"), c, problems, (1, None))
                 for c, p in DENSE_COLUMNS.items() if c in cells}
        amounts = {c: _parse(cells[c], _amount_parser(c), c, problems, _FAST_RANGE.get(c, (0, None))) if c in cells else
                   _Column(np.zeros(n, np.int64), np.full(n, _EMPTY, np.int8), None) for c in AMOUNT_COLUMNS}
        datacenter = _flags(cells.get("datacenter"), n, problems)
        _check_quantity(cells.get("quantity"), problems)
        self._check_ids(cells.get("id"), problems)

        chips: dict[str, np.ndarray] = {}
        for label, rows in (_groups(*_labels(cells["chip"])) if "chip" in cells else {}).items():
            query = label.strip()
            if query:
                chips[query] = np.concatenate([chips[query], rows]) if query in chips else rows
        chip = _marked(n, chips)
        any_dense = np.zeros(n, bool)
        for column in dense.values():
            any_dense |= column.state != _EMPTY
        any_figure = any_dense | (datacenter != _UNKNOWN)
        for column in amounts.values():
            any_figure |= column.state != _EMPTY
        for row in np.flatnonzero(chip & any_figure).tolist():
            problems.setdefault(row, []).append("give a chip or its figures, not both")
        for row in np.flatnonzero(~chip & ~any_dense).tolist():
            problems.setdefault(row, []).append("no dense_* figure and no chip: nothing to classify")
        for row, problem in chunk.problems.items():  # the reader's problem makes the row's cells unreliable
            problems[row] = [problem]
        return Rows(chunk.numbers, dense, amounts, datacenter, chips, problems)

    def decide(self, rows: Rows) -> Results:
        """Classify parsed rows: numpy where it can answer, the scalar engine elsewhere."""
        n = len(rows.numbers)
        problems = {row: list(found) for row, found in rows.problems.items()}
        bad = np.zeros(n, bool)
        bad[list(problems)] = True
        spec = ~_marked(n, rows.chips) & ~bad
        outcome, outcomes = np.zeros(n, np.int32), _Table()
        fast, tpp, density = self._fill_fast(spec, rows, outcome, outcomes)
        exact: dict[int, _Verdict] = {}
        for row in np.flatnonzero(spec & ~fast).tolist():
            verdict = self._figures(*_figure_key(row, rows))
            if isinstance(verdict, str):
                problems[row] = [verdict]
            else:
                exact[row] = verdict
        # In the order of each name's first row, so the summary lists unresolved names as first seen.
        for query, asking in sorted(rows.chips.items(), key=lambda item: int(item[1].min())):
            verdict = self._chip(query)
            if isinstance(verdict, _Unresolved):
                self._gather(query, verdict.error, asking[~bad[asking]], rows.numbers)
                verdict = verdict.message
            for row in asking[~bad[asking]].tolist():
                if isinstance(verdict, str):
                    problems[row] = [verdict]
                else:
                    exact[row] = verdict
        for row, verdict in exact.items():
            outcome[row] = outcomes.index(verdict.outcome)
        for row, found in problems.items():
            outcome[row] = outcomes.index(Outcome(None, None, None, f"{self._unit} {rows.numbers[row]}: "
                                                  + "; ".join(found)))
        return Results(outcome, outcomes.items, tpp, density, {row: (v.tpp, v.density) for row, v in exact.items()})

    def _gather(self, query: str, error: UnknownChipError | AmbiguousChipError, asking: np.ndarray,
                numbers: np.ndarray) -> None:
        """Count the rows of this chunk that name ``query``, which the catalogue did not resolve."""
        if not len(asking):
            return
        entry = self.unresolved.get(query)
        if entry is None:
            if len(self.unresolved) >= MAX_UNRESOLVED_NAMES:
                self.unresolved_left_out += 1
                return
            ambiguous = isinstance(error, AmbiguousChipError)
            entry = self.unresolved[query] = {
                "name": query, "rows": 0, "first": f"{self._unit} {numbers[int(asking.min())]}",
                "why": "ambiguous" if ambiguous else "unknown",
                "candidates" if ambiguous else "suggestions": list(error.candidates if ambiguous else error.suggestions)}
        entry["rows"] += len(asking)

    def _check_ids(self, cells: Cells | None, problems: dict[int, list[str]]) -> None:
        if cells is None:
            return
        rows = np.flatnonzero(cells.widths > 0)
        for index in self._ids.repeats_in(cells.data, cells.starts[rows], cells.ends[rows]):
            row = int(rows[index])
            problems.setdefault(row, []).append(
                f"id: {cells.data[cells.starts[row]:cells.ends[row]].decode('utf-8', 'replace')!r} is given on an "
                f"earlier {self._unit}")

    # ---------------------------------------------------------------------------- numpy path

    def _fill_fast(self, spec, rows: Rows, outcome, outcomes):
        """The outcomes of the spec rows numpy can answer for; returns which rows those are, and
        their TPP and density in 1/10,000ths (-1 for the other rows)."""
        n = len(spec)
        fast = spec.copy()
        units = np.zeros(n, np.int64)  # TPP in 1/10,000ths: below 2^53, so exact in float64 too
        for precision, column in rows.dense.items():
            fast &= column.state != _EXACT
            np.maximum(units, np.where(column.state == _FAST, column.units * PRECISIONS[precision].bits, 0), out=units)
        known = {}
        for name, column in rows.amounts.items():
            fast &= column.state != _EXACT
            known[name] = column.state == _FAST
        area = rows.amounts["die_area_mm2"]
        with_area = known["die_area_mm2"]
        fast &= ~with_area | ((units < self._density_room[0]) & (area.units < self._density_room[1]))
        values = {  # integers in 1/10,000ths (each below 10^13 x 64, the sum too): exact
            "tpp": (units, np.ones(n, bool)),
            "density": ((units, area.units), with_area),
            "io": (rows.amounts["io_bidir_gbps"].units, known["io_bidir_gbps"]),
            "dram": (rows.amounts["dram_bandwidth_gbps"].units, known["dram_bandwidth_gbps"]),
        }
        values["dram_plus_io"] = (values["dram"][0] + values["io"][0], known["dram_bandwidth_gbps"] & known["io_bidir_gbps"])
        # Rows near a TPP or density line get keys of their own (the last bit), so the first of
        # each set of answers is confirmed by a scalar run apart from the rows far from any line.
        near = np.zeros(n, bool)
        for figure, floats in (("tpp", units / SCALE),
                               ("density", np.divide(units, area.units, out=np.zeros(n), where=with_area))):
            near |= values[figure][1] & _near_a_line(floats, self._line_floats[figure])
        with_area = with_area & fast
        # TPP x SCALE < 2^63, as every fast figure is below 10^9.
        density = np.where(with_area, units * SCALE // np.where(with_area, area.units, 1), -1)
        tpp = np.where(fast, units, -1)
        chosen = np.flatnonzero(fast)
        if not len(chosen):
            return fast, tpp, density

        answers = np.zeros((n, 2), np.int64)  # the conditions' answers; the notice bounds' answers, near
        columns = _ChunkColumns(values, rows.datacenter)
        for place, (name, line) in enumerate(self._conditions):
            answers[:, 0] += PREDICATES[name].vector(columns, line).astype(np.int64) * 3**place
        for place, bound in enumerate(self._notice_bounds):
            answers[:, 1] += _bound_answers(bound, values).astype(np.int64) * 3**place
        answers[:, 1] = answers[:, 1] * 2 + near
        if self._known is not None:
            # One int64 a row, ordered as the pairs are, looked up among the keys confirmed so far
            # (a hash table, then a binary search) instead of three sorts of the chunk.
            bounds = 2 * 3**len(self._notice_bounds)
            outcome[chosen] = self._known.numbers(
                answers[chosen, 0] * bounds + answers[chosen, 1],
                lambda key, at: self._confirmed(divmod(key, bounds), int(chosen[at]), rows, tpp, density), outcomes)
            return fast, tpp, density
        keys, first, inverse = _unique_rows(answers[chosen])
        numbers = np.empty(len(keys), np.int32)
        for k, (key, row) in enumerate(zip(map(tuple, keys.tolist()), chosen[first].tolist())):
            if key not in self._fast_outcomes:
                self._fast_outcomes[key] = self._confirmed(key, row, rows, tpp, density)
            numbers[k] = outcomes.index(self._fast_outcomes[key])
        outcome[chosen] = numbers[inverse.ravel()]
        return fast, tpp, density

    def _confirmed(self, key: tuple[int, int], row: int, rows: Rows, tpp, density) -> Outcome:
        """The outcome of numpy's answers ``key`` (conditions; bounds and the near-a-line bit) for
        ``row``, once the scalar engine has given the row the same answers, TPP and density (the
        batch stops otherwise)."""
        verdict = self._figures(*_figure_key(row, rows))
        mine = ((key[0], key[1] >> 1), _fixed_text(int(tpp[row])).encode(),
                _fixed_text(int(density[row])).encode() if density[row] >= 0 else b"")
        if ((verdict.answers, verdict.notice_answers), verdict.tpp, verdict.density) != mine:
            raise RuntimeError(f"the batch engine and the scalar engine disagree on a row with figures "
                               f"{_figure_key(row, rows)}; please report it")
        return verdict.outcome

    # ---------------------------------------------------------------------------- scalar path

    def _classify_figures(self, rates: tuple, area: str | None, datacenter: bool | None,
                          io: str | None, dram: str | None) -> _Verdict | str:
        """A spec row's verdict, or its problem."""
        spec = spec_from_figures(dict(rates), dies=[(area, "finfet")] if area else (), datacenter=datacenter,
                                 io_bidir_gbps=io, dram_bandwidth_gbps=dram)
        try:
            return self._verdict(compute_metrics(spec))
        except ArithmeticError:  # OverflowError and the decimal module's signals: 400-digit figures, 1e308
            return "a figure is too large to classify (beyond the range tppcalc computes in); check its digits"

    def _classify_chip(self, query: str) -> _Verdict | _Unresolved | str:
        """A catalogue row's verdict, or its problem (a name not resolved, or another)."""
        try:
            return self._verdict(compute_metrics(self._catalogue().lookup(query)))
        except (UnknownChipError, AmbiguousChipError) as exc:
            return _Unresolved(f"chip: {exc}", exc)
        except TppcalcError as exc:
            return f"chip: {exc}"

    def _verdict(self, metrics: Metrics) -> _Verdict:
        """One row's exact figures and answers; its outcome from ``classify``, which depends on the
        answers alone and so runs once for each distinct set of them."""
        answers = {c: PREDICATES[c[0]].scalar(metrics, metrics.primary, c[1]) for c in self._conditions}
        key = sum(_ANSWER[a] * 3**place for place, a in enumerate(answers.values()))
        # An is-informed letter can make the licence answer depend on the chip itself (issue 15):
        # such rows share an outcome only with rows the same letters reach.
        letters = letter_signature(metrics, **self._keywords)
        notice_answers = sum(_ANSWER[bound_holds(b, metrics, metrics.primary)] * 3**place
                             for place, b in enumerate(self._notice_bounds))
        named = metrics.chip_id if metrics.chip_id in self._named_chips else None
        outcome_key = (key, notice_answers, named, letters)
        if outcome_key not in self._outcomes:
            result = classify(metrics, **self._keywords)
            self._outcomes[outcome_key] = Outcome(result.eccn, result.license_required, self._reason(result, answers),
                                                  notices="; ".join(n.id for n in result.notices) or None,
                                                  notice_texts=tuple((n.id, n.text) for n in result.notices))
        density = metrics.performance_density
        return _Verdict(
            tpp=b"" if metrics.tpp is None else _decimal_text(metrics.tpp).encode(),
            density=b"" if density is None else _fixed_text(int(density * SCALE)).encode(),
            outcome=self._outcomes[outcome_key],
            answers=key,
            notice_answers=notice_answers,
        )

    def _reason(self, result: Classification, answers: dict) -> str:
        """A short reason that follows from the answers alone, so rows can share it."""
        def holds(when):
            return all_of(answers[c] for c in _conditions(when))

        if result.eccn is None:
            unknown = set()
            for entry in self._paragraphs:  # the conditions whose UNKNOWN keeps a paragraph open
                whens = [entry.when, *(x.when for x in self._exclusions if entry.eccn in x.applies_to)]
                status = holds(entry.when)
                for when in whens[1:]:
                    if status is not NO:
                        status = all_of([status, negate(holds(when))])
                if status is YES:
                    break
                if status is not NO:
                    unknown |= {PREDICATES[c[0]].missing for w in whens for c in _conditions(w) if answers[c] is UNKNOWN}
            return (f"undetermined: {_either(result.undetermined)}"
                    + (f" ({', '.join(sorted(unknown))} unknown)" if unknown else ""))
        if result.paragraph is not None:
            entry = next(p for p in self._paragraphs if p.id == result.paragraph)
            return f"{entry.id}: " + " and ".join(PREDICATES[n].describe(v) for n, v in _conditions(entry.when))
        excluded = [x for x in self._exclusions if holds(x.when) is YES
                    and any(p.eccn in x.applies_to and holds(p.when) is YES for p in self._paragraphs)]
        return "; ".join(f"excluded by {x.citation}" for x in excluded) or "no 3A090 paragraph applies"


class _Table:
    """The distinct outcomes of a chunk, each numbered once."""

    def __init__(self):
        self.items: list[Outcome] = []
        self._numbers: dict[Outcome, int] = {}

    def index(self, outcome: Outcome) -> int:
        number = self._numbers.get(outcome)
        if number is None:
            number = self._numbers[outcome] = len(self.items)
            self.items.append(outcome)
        return number


class _KnownKeys:
    """The answer keys a scalar run has confirmed, kept sorted, and each one's outcome."""

    _SLOT_BITS = 16  # a hash table of the keys, looked in first: a gather, not a binary search

    def __init__(self):
        self._keys = np.zeros(0, np.int64)
        # Each key's outcome as a number among the distinct outcomes: a chunk of 800 keys and 40
        # outcomes numbers its outcomes with 40 table look-ups, not 800.
        self._codes = np.zeros(0, np.intp)
        self._distinct = _Table()
        self._slots = np.full(1 << self._SLOT_BITS, -1, np.intp)  # slot -> index of a key there, or -1

    def numbers(self, keys: np.ndarray, confirm: Callable[[int, int], Outcome], outcomes: _Table) -> np.ndarray:
        """Each row's outcome number in ``outcomes``; ``confirm(key, at)`` gives the outcome of a
        key not seen before, from its first row ``at`` (in the order of the keys, as np.unique)."""
        where, new = self._find(keys)
        if new.any():
            missing, first = np.unique(keys[new], return_index=True)
            at = np.flatnonzero(new)[first]
            added = [self._distinct.index(confirm(key, row)) for key, row in zip(missing.tolist(), at.tolist())]
            order = np.argsort(np.concatenate([self._keys, missing]), kind="stable")
            self._keys = np.concatenate([self._keys, missing])[order]
            self._codes = np.concatenate([self._codes, np.array(added, np.intp)])[order]
            self._slots.fill(-1)
            self._slots[self._slot(self._keys)] = np.arange(len(self._keys))  # one key a slot, the others not
            where, _ = self._find(keys)
        codes = self._codes[where]
        # Only the outcomes this chunk holds are numbered, in the order of their first keys (so
        # the order of a summary's notices stays the keys').
        distinct = self._distinct.items
        first_key = np.full(len(distinct), len(self._keys))
        np.minimum.at(first_key, codes, where)
        present = np.flatnonzero(first_key < len(self._keys))
        table = np.zeros(len(distinct), np.int32)
        for code in present[np.argsort(first_key[present])].tolist():
            table[code] = outcomes.index(distinct[code])
        return table[codes]

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each key is (or would be) among the known keys, and whether it is new."""
        if not len(self._keys):
            return np.zeros(len(keys), np.intp), np.ones(len(keys), bool)
        where = self._slots[self._slot(keys)]
        # A known key's slot is never empty: an empty one (-1) reads the last key, not this one.
        missed = np.flatnonzero(self._keys[where] != keys)
        if len(missed):  # new keys, and keys whose slot holds another
            where[missed] = np.minimum(np.searchsorted(self._keys, keys[missed]), len(self._keys) - 1)
        return where, self._keys[where] != keys

    @classmethod
    def _slot(cls, keys: np.ndarray) -> np.ndarray:
        """Fibonacci hashing: the top bits of the key times 2^64 / golden ratio (wrapping)."""
        return (keys.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15) >> np.uint64(64 - cls._SLOT_BITS)).astype(np.intp)


def _unique_rows(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(pairs, axis=0, return_index=True, return_inverse=True)`` for an (n, 2) int64
    array, in another order of keys: each column's values are numbered first, so the one sort over
    rows is of small integers (unique over axis 0 sorts a structured view, ten times slower)."""
    codes = [np.unique(pairs[:, j], return_inverse=True) for j in range(2)]
    combined = codes[0][1].ravel().astype(np.int64) * len(codes[1][0]) + codes[1][1].ravel()
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    return pairs[first], first, inverse.ravel()


def _near_a_line(value: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Whether each value lies within ``MARGIN`` (relative) of one of the sorted ``lines``. Only
    the lines either side of a value need a look: a line further off that is within the margin
    (of a positive line) puts the nearer one on that side within it too."""
    near = np.zeros(len(value), bool)
    if not len(lines):
        return near
    above = np.minimum(np.searchsorted(lines, value), len(lines) - 1)
    for side in (np.maximum(above - 1, 0), above):
        line = lines[side]
        near |= np.abs(value - line) <= MARGIN * line
    return near


def _bound_key(bound: Bound) -> tuple:
    return bound.figure, bound.at_least, bound.above, bound.at_most, bound.below


def _bound_answers(bound: Bound, values: dict) -> np.ndarray:
    """A notice bound's three-valued answer for every row, as ``tppcalc.decisions.rules.notices.bound_holds``
    gives it for one (a fast row's figures are exact: TPP known, the others known or not)."""
    value, known = values[bound.figure]
    holds = np.ones(len(known), bool)
    if bound.at_least is not None:
        holds &= _at_least(bound.figure, value, bound.at_least)
    if bound.above is not None:
        holds &= _above(bound.figure, value, bound.above)
    if bound.at_most is not None:
        holds &= ~_above(bound.figure, value, bound.at_most)
    if bound.below is not None:
        holds &= ~_at_least(bound.figure, value, bound.below)
    return np.where(known, np.where(holds, _YES, _NO), _UNKNOWN).astype(np.int8)


def _at_least(figure: str, value, line: Decimal) -> np.ndarray:
    """Exactly ``figure >= line`` for each row: ``value`` is integer units, or (TPP, die area) in
    units for density, whose quotient is compared by cross-multiplication."""
    if figure == "density":
        tpp, area, p, q = _cross_terms(value, line)
        return np.asarray(tpp * q >= area * p, bool)
    return _units_at_least(value, line)


def _above(figure: str, value, line: Decimal) -> np.ndarray:
    """Exactly ``figure > line`` for each row, as ``_at_least``."""
    if figure == "density":
        tpp, area, p, q = _cross_terms(value, line)
        return np.asarray(tpp * q > area * p, bool)
    return _units_above(value, line)


def _cross_terms(value: tuple[np.ndarray, np.ndarray], line: Decimal) -> tuple:
    """TPP and area units, and the line as p / q. On a fast row both products stay below 2^62
    (``Engine._density_room``); a line too fine for int64 at all (no fast row has an area then)
    is compared in Python integers, so that the other rows neither wrap nor raise."""
    tpp, area = value
    p, q = Fraction(line).as_integer_ratio()
    if max(p, q) >= _LIMIT:
        return tpp.astype(object), area.astype(object), p, q
    return tpp, area, p, q


def _units_at_least(units: np.ndarray, line: Decimal) -> np.ndarray:
    """Exactly ``units / SCALE >= line`` for integer ``units`` (0 <= units < 2^62)."""
    least = math.ceil(Fraction(line) * SCALE)  # a Fraction: no decimal context rounds the line
    return units >= least if least < _LIMIT else np.zeros(len(units), bool)


def _units_above(units: np.ndarray, line: Decimal) -> np.ndarray:
    """Exactly ``units / SCALE > line`` for integer ``units`` (0 <= units < 2^62)."""
    most = math.floor(Fraction(line) * SCALE)
    return units > most if most < _LIMIT else np.zeros(len(units), bool)


def _conditions(when: list[Condition]):
    return [(name, value) for condition in when for name, value in condition.items()]


def _either(outcomes: list[str]) -> str:
    return outcomes[0] if len(outcomes) == 1 else f"{', '.join(outcomes[:-1])} or {outcomes[-1]}"


class _ChunkColumns:
    """A chunk of one-unit spec rows as the vectorised predicates see it (``predicates.Columns``):
    each answer an int8 array of _NO/_UNKNOWN/_YES. Spec rows are ASICs (``spec_from_figures``:
    never memory items) and carry no HBM stacks, so a figure they do not give (HBM density) is UNKNOWN, as in
    the scalar engine."""

    def __init__(self, values: dict[str, tuple], datacenter: np.ndarray):
        self._values = values  # figure -> (value, known): integer units, (TPP, area) units for density
        self._flags = {"datacenter": datacenter}
        self._n = len(datacenter)

    def _compare(self, figure: str, holds) -> np.ndarray:
        if figure not in self._values:
            return np.full(self._n, _UNKNOWN, np.int8)
        value, known = self._values[figure]
        return np.where(known, np.where(holds(figure, value), _YES, _NO), _UNKNOWN).astype(np.int8)

    def at_least(self, figure: str, line: Decimal) -> np.ndarray:
        return self._compare(figure, lambda figure, value: _at_least(figure, value, line))

    def above(self, figure: str, line: Decimal) -> np.ndarray:
        return self._compare(figure, lambda figure, value: _above(figure, value, line))

    def flag(self, figure: str) -> np.ndarray:
        return self._flags[figure]

    def kind_is(self, kind: str) -> np.ndarray:
        return np.full(self._n, _YES if kind == Kind.ASIC else _NO, np.int8)

    def negate(self, answers: np.ndarray) -> np.ndarray:
        return 2 - answers


# ------------------------------------------------------------------------------------- parsing


_POW10 = 10 ** np.arange(19, dtype=np.int64)


def _fixed_point(cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    """Plain decimals ("1978.9", "600", ".5") as exact integers in 1/10,000ths, all at once.

    Anything else (spaces, signs, exponents, units, thousands separators, more digits) is left
    _OTHER for the scalar parser, which accepts or refuses it exactly as ``spec_from_figures`` does.
    """
    widths = cells.widths
    units = np.zeros(len(cells), np.int64)
    state = np.where(widths == 0, _EMPTY, _OTHER).astype(np.int8)
    rows = np.flatnonzero((widths > 0) & (widths <= 14))
    if not len(rows):
        return units, state
    buf = np.frombuffer(cells.data, np.uint8)
    width, starts = widths[rows], cells.starts[rows]
    value = np.zeros(len(rows), np.int64)
    digits, decimals, points = (np.zeros(len(rows), np.int8) for _ in range(3))
    ok = np.ones(len(rows), bool)
    for place in range(int(width.max())):  # one character position of every cell at a time
        inside = width > place
        char = np.take(buf, starts + place, mode="clip") * inside  # a cell lies inside the data: clip only pads
        digit, point = char - np.uint8(48) < 10, char == 46
        ok &= digit | point | ~inside
        value = np.where(digit, value * 10 + (char - 48), value)
        decimals += digit & (points > 0)
        digits += digit
        points += point
    ok &= (points <= 1) & (digits > 0) & (decimals <= 4) & (digits - decimals <= 9)
    units[rows[ok]] = value[ok] * _POW10[4 - decimals[ok]]
    state[rows[ok]] = _FAST
    return units, state


def _parse(cells: Cells, parser, field: str, problems: dict[int, list[str]], fast: tuple[int, int | None]) -> _Column:
    """A column's figures; plain decimals in units within ``fast`` (least, most or None) stay with
    numpy, the others go to ``parser``, which reads them or says why they are refused."""
    units, state = _fixed_point(cells)
    least, most = fast
    outside = units < least if most is None else (units < least) | (units > most)
    state[(state == _FAST) & outside] = _OTHER
    for row in np.flatnonzero(state == _OTHER).tolist():
        text = cells.text(row)
        if not text.strip():
            state[row] = _EMPTY
            continue
        try:
            value = parser(text)
        except InputError as exc:
            problems.setdefault(row, []).append(f"{field}: {exc.problem}")
            state[row] = _BAD
            continue
        fixed = Fraction(value) * SCALE  # exact: scaleb() would round past 28 digits, onto a line
        if fixed.denominator == 1 and 0 <= fixed < _MAX_UNITS:
            units[row], state[row] = int(fixed), _FAST
        else:
            state[row] = _EXACT
    return _Column(units, state, cells)


def _amount_parser(column: str):
    what = AMOUNT_COLUMNS[column]
    if column == "die_area_mm2":
        return die_area

    def non_negative(text: str) -> Decimal:
        value = to_decimal(text, what=what)
        if value < 0:
            raise InputError(f"{what} must not be negative, got {text!r}")
        return value

    return non_negative


def _flags(cells: Cells | None, n: int, problems: dict[int, list[str]]) -> np.ndarray:
    """The datacenter column as _YES/_NO/_UNKNOWN per row."""
    if cells is None:
        return np.full(n, _UNKNOWN, np.int8)
    codes = np.full(n, -1, np.int8)
    raw = _raw(cells, np.arange(n))
    if raw.dtype.kind == "S" and raw.itemsize <= 8:
        # The usual spellings, compared as 8-byte integers: no sort of the column (_labels sorts)
        words = raw.astype("S8").view(np.uint64)  # _raw gives no text with a NUL: one to one
        for flag, code in _FLAGS.items():
            codes[words == np.frombuffer(flag.encode().ljust(8, b"\0"), np.uint64)[0]] = code
    rest = np.flatnonzero(codes < 0)
    if len(rest):  # other spellings (" True", "YES") and wrong ones, by their distinct texts
        labels, inverse = _labels(cells, rest)
        codes[rest] = np.array([_FLAGS.get(label.strip().lower(), -1) for label in labels], np.int8)[inverse]
        for at in np.flatnonzero(codes[rest] < 0).tolist():
            row = int(rest[at])
            problems.setdefault(row, []).append(f"datacenter: expected true, false or empty, got "
                                                f"{labels[inverse[at]]!r}")
            codes[row] = _UNKNOWN
    return codes


def _raw(cells: Cells, rows: np.ndarray) -> np.ndarray:
    """The bytes of the cells of ``rows``: a byte-string array, or where that would drop a
    trailing NUL or be very wide, an object array."""
    width = int(cells.widths[rows].max(initial=0))
    if width > 64 or b"\0" in cells.data:
        return np.array([cells.data[s:e] for s, e in zip(cells.starts[rows].tolist(), cells.ends[rows].tolist())],
                        dtype=object)
    return cells.matrix(rows, max(width, 1)).view(f"S{max(width, 1)}").ravel()


def _labels(cells: Cells, rows: np.ndarray | None = None) -> tuple[list[str], np.ndarray]:
    """The distinct texts of a column (of ``rows``, else all) and, per row, which one it holds."""
    raw = _raw(cells, np.arange(len(cells)) if rows is None else rows)
    if raw.dtype.kind == "S" and raw.itemsize <= 8:  # short texts (flags): sorted as integers, not strings
        uniques, inverse = np.unique(raw.astype("S8").view(np.uint64), return_inverse=True)  # no NUL: one to one
        uniques = uniques.view("S8")
    else:
        uniques, inverse = np.unique(raw, return_inverse=True)
    return [u.decode("utf-8") for u in uniques.tolist()], inverse.ravel()


def _groups(labels: list[str], inverse: np.ndarray) -> dict[str, np.ndarray]:
    """Label -> the rows holding it."""
    order = np.argsort(inverse, kind="stable")
    return dict(zip(labels, np.split(order, np.searchsorted(inverse[order], np.arange(1, len(labels))))))


def _check_quantity(cells: Cells | None, problems: dict[int, list[str]]) -> None:
    if cells is None:
        return
    units, state = _fixed_point(cells)
    suspect = (state == _OTHER) | ((state == _FAST) & ((units == 0) | (units % SCALE != 0)))
    for row in np.flatnonzero(suspect).tolist():
        text = cells.text(row)
        if not text.strip():  # a blank quantity is one unit
            continue
        try:
            value = to_decimal(text)  # its own message is not shown: the row's names the column
        except InputError:
            value = None
        if value is None or value <= 0 or value != value.to_integral_value():
            problems.setdefault(row, []).append(f"quantity: must be a whole number above zero, got {text!r}")


def _figure_key(row: int, rows: Rows):
    """A spec row as the arguments of ``spec_from_figures``, hashable for the cache."""
    rates = tuple((p, column.texts.text(row)) for p, column in rows.dense.items() if column.state[row] != _EMPTY)
    flag = {_YES: True, _NO: False, _UNKNOWN: None}[int(rows.datacenter[row])]
    area, io, dram = (rows.amounts[c].text(row) for c in AMOUNT_COLUMNS)
    return rates, area, flag, io, dram


def _marked(n: int, groups: dict[str, np.ndarray]) -> np.ndarray:
    marked = np.zeros(n, bool)
    for rows in groups.values():
        marked[rows] = True
    return marked


# ----------------------------------------------------------------------------------- formatting


def _fixed_texts(units: np.ndarray) -> np.ndarray:
    """``_fixed_text`` of every element (all >= 0), as an array of ASCII byte strings: the whole
    part through a table of 0-9,999, four digits at a time, then the fraction's text from a table
    (a digit at a time took three times as long)."""
    whole, fraction = np.divmod(units, SCALE)
    return np.strings.add(_whole_texts(whole), _digit_tables()[2][fraction])


def _whole_texts(whole: np.ndarray) -> np.ndarray:
    """Whole numbers as text: the groups of four digits above the lowest first, then the lowest."""
    plain, padded, _ = _digit_tables()
    low, higher = whole % 10_000, whole >= 10_000
    if not higher.any():
        return plain[low]
    return np.where(higher, np.strings.add(_whole_texts(whole // 10_000), padded[low]), plain[low])


@functools.cache
def _digit_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0-9,999 as text (b"7"), zero-padded to four digits (b"0007"), and the fractions 0-9,999
    1/10,000ths as they end a fixed-point text (b"", b".0007", b".5")."""
    plain = np.array([str(n).encode() for n in range(10_000)], "S4")
    padded = np.array([f"{n:04d}".encode() for n in range(10_000)], "S4")
    fractions = np.array([_fixed_text(n)[1:].encode() for n in range(SCALE)])  # "0.0007" without its 0
    return plain, padded, fractions


def _rendered(units: np.ndarray, others: dict[int, bytes]) -> np.ndarray:
    """Fixed-point ``units`` as text (b"" where negative), the rows of ``others`` as given there."""
    texts = np.where(units >= 0, _fixed_texts(np.maximum(units, 0)), b"")
    width = max([texts.itemsize, *map(len, others.values())])
    texts = texts.astype(f"S{width}")
    for row, text in others.items():
        texts[row] = text
    return texts



def _fixed_text(units: int) -> str:
    """1/10,000ths as a plain decimal without trailing zeros: 158312000 -> "15831.2"."""
    whole, fraction = divmod(units, SCALE)
    return str(whole) if not fraction else f"{whole}.{fraction:04d}".rstrip("0")


def _decimal_text(value: Decimal) -> str:
    """An exact Decimal in the same form (normalize() would round past 28 digits)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
