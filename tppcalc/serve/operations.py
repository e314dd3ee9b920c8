"""The operations the HTTP service and the MCP server offer, as plain functions over plain data.

Both front ends call these and nothing else, so a chip classified over HTTP, over MCP and by
``tppcalc classify --json`` goes through the same engine and comes back as the same document
(``tppcalc.render.documents``). Nothing here imports a web framework.

Every argument arrives from a stranger: each is accepted in the forms listed in its function and
no other, and anything else is an ``InputError`` naming the field (never a guess, never a default
in the permissive direction). No argument ever names a file: the catalogue and the rules are the
ones the service was started with.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tppcalc.arguments import day_of, place
from tppcalc.errors import InputError

ITEMS = ("ic", "computer")


class NotInCatalogue(InputError):
    """A catalogue query that names no chip (a resource that does not exist: 404 over HTTP)."""


@contextlib.contextmanager
def _catalogue_errors(field: str) -> Iterator[None]:
    """A query the catalogue does not resolve as the service's error for ``field``: an unknown name
    is NotInCatalogue (404), an ambiguous one a bad request (422)."""
    from tppcalc.errors import AmbiguousChipError, UnknownChipError

    try:
        yield
    except UnknownChipError as exc:
        raise NotInCatalogue(str(exc), field=field) from None
    except AmbiguousChipError as exc:
        raise InputError(str(exc), field=field) from None


@dataclass(frozen=True)
class DataDigests:
    """SHA-256 of the data behind every answer: the catalogue's spec files and the rule files, each
    the combined digest of its sorted ``sha256sum`` lines (as the HTML audit report shows them)."""

    catalogue: str
    rule_data: str

    def as_dict(self) -> dict:
        return {"catalogue": self.catalogue, "rule_data": self.rule_data}


def _combined(digests) -> str:
    # file_digests puts the group's combined digest first when there is more than one file.
    return digests[0].sha256


class Service:
    """One catalogue and the rule data, loaded once, and the operations over them."""

    def __init__(self, catalogue_loader=None, *, cache_size: int = 2048):
        from tppcalc.data.catalogue import default_catalogue

        self._load_catalogue = catalogue_loader or default_catalogue
        self._answers = AnswerCache(cache_size)

    @functools.cached_property
    def catalogue(self):
        return self._load_catalogue()

    @functools.cached_property
    def digests(self) -> DataDigests:
        from tppcalc.render.html_report import catalogue_digests, rule_digests

        return DataDigests(catalogue=_combined(catalogue_digests(self.catalogue)),
                           rule_data=_combined(rule_digests()))

    def warm(self) -> None:
        """Load the catalogue and the rules and digest them now, not on the first request."""
        from tppcalc.decisions.rules.editions import default_rulebook

        default_rulebook()
        _ = self.digests

    def _stamped(self, document: dict) -> dict:
        document["digests"] = self.digests.as_dict()
        return document

    # ---- chips ---------------------------------------------------------------------------------

    def chips(self, vendor: str | None = None) -> dict:
        """Every catalogue chip with its TPP and density (the rows of ``tppcalc chips list --json``)."""
        from tppcalc.core.metrics import compute_metrics
        from tppcalc.render.documents import metrics_dict, published_tpp_dict

        vendor = _optional_text(vendor, "vendor")
        rows = []
        for spec in self.catalogue:
            if vendor is not None and spec.vendor.lower() != vendor.lower():
                continue
            metrics = metrics_dict(compute_metrics(spec))
            rows.append({"id": spec.id, "vendor": spec.vendor, "name": spec.name, "kind": spec.kind.value,
                         "tpp": metrics["tpp"], "performance_density": metrics["performance_density"],
                         "governing_precision": metrics["governing_precision"],
                         "published_tpp": published_tpp_dict(spec)})
        return self._stamped({"chips": rows})

    def chip(self, query: str) -> dict:
        """One chip (``tppcalc chips show QUERY --json``); its origin is the spec file's name in the
        catalogue, not a path on the server."""
        from tppcalc.core.metrics import compute_metrics
        from tppcalc.render.documents import metrics_dict

        spec = self._lookup(query, "query")
        document = spec.model_dump(mode="json", exclude_none=True)
        document["origin"] = Path(self.catalogue.origins[spec.id]).name
        document["metrics"] = metrics_dict(compute_metrics(spec))
        return self._stamped(document)

    def _lookup(self, query: object, field: str):
        self._lookup_checks(query, field)
        with _catalogue_errors(field):
            return self.catalogue.lookup(query)

    @staticmethod
    def _lookup_checks(query: object, field: str) -> None:
        if not isinstance(query, str) or not query.strip():
            raise InputError("expected a catalogue query such as 'H100 SXM'", field=field)
        if len(query) > 200:
            raise InputError(f"a catalogue query is at most 200 characters, got {len(query)}", field=field)

    # ---- calc and classify ---------------------------------------------------------------------

    def spec_of(self, chip: str | None, figures: Mapping | None):
        """The chip a request names: a catalogue query, or figures; exactly one of them."""
        if (chip is None) == (figures is None):
            raise InputError("give either a catalogue chip or figures, not both and not neither", field="chip")
        if chip is not None:
            return self._lookup(chip, "chip")
        return spec_from_request_figures(figures)

    def calc(self, *, chip: str | None = None, figures: Mapping | None = None) -> dict:
        """The metrics document of ``tppcalc calc --json``."""
        from tppcalc.core.metrics import compute_metrics
        from tppcalc.render.documents import metrics_dict

        return self._stamped(metrics_dict(compute_metrics(self.spec_of(chip, figures))))

    def classify(self, *, chip: str | None = None, figures: Mapping | None = None, dest: str | None = None,
                 hq: str | None = None, as_of: str | None = None, edition: str | None = None,
                 item: str = "ic", as_written: bool = False) -> dict:
        """The classification document of ``tppcalc classify --json``."""
        from tppcalc.decisions.classification import classify
        from tppcalc.render.documents import classification_dict, computer_dict

        if item not in ITEMS:
            raise InputError(f"expected one of {', '.join(ITEMS)}, got {item!r}", field="item")
        rules = rule_arguments(dest=dest, hq=hq, as_of=as_of, edition=edition, as_written=as_written)
        spec, computer = self._chip_or_computer(chip, figures, item, rules)
        document = classification_dict(classify(spec, item=item, **rules))
        if computer is not None:
            document["computer"] = computer_dict(computer)
        return self._stamped(document)

    def _chip_or_computer(self, chip: str | None, figures: Mapping | None, item: str, rules: dict):
        """As ``tppcalc classify`` reads its QUERY: a chip, a cloud instance type or a superchip
        (with item computer), or an unlisted SKU of a known CPU family; or else the figures."""
        if chip is None or figures is not None:
            return self.spec_of(chip, figures), None
        self._lookup_checks(chip, "chip")
        from tppcalc.decisions.computers import chip_or_computer, with_governing

        with _catalogue_errors("chip"):
            found = chip_or_computer(chip, item, self.catalogue, field="chip", computer_option='"item": "computer"')
        return with_governing(*found, item, rules)

    def classify_json(self, **arguments) -> bytes:
        """``classify`` as JSON bytes, remembered by the request as given (and today's date, which
        an omitted ``as_of`` means): the catalogue and the rules are fixed for the life of the
        service, so the same request has the same answer. Refusals are never remembered."""
        import json

        key = _request_key(arguments)
        answer = self._answers.get(key)
        if answer is None:
            answer = json.dumps(self.classify(**arguments)).encode()
            self._answers.put(key, answer)
        return answer

    def remembered_classify(self, **arguments) -> bytes | None:
        """The answer ``classify_json`` gave to this request before, if it still holds it."""
        return self._answers.get(_request_key(arguments))

    # ---- model weights and rules ---------------------------------------------------------------

    def model(self, *, training_ops: str | None = None, params: str | None = None, tokens: str | None = None,
              published: bool = False, derived_from_published_ops: str | None = None,
              as_of: str | None = None) -> dict:
        """The document of ``tppcalc model --json`` (ECCN 4E091)."""
        from tppcalc.core.exact import to_decimal
        from tppcalc.decisions.model_weights import classify_model_weights, training_operations

        for name, value in (("training_ops", training_ops), ("params", params), ("tokens", tokens),
                            ("derived_from_published_ops", derived_from_published_ops)):
            _figure_text(value, name)
        try:
            operations = training_operations(training_ops=training_ops, params=params, tokens=tokens)
        except InputError as exc:
            raise InputError(exc.problem, field=exc.field or "training_ops") from None
        derived = None if derived_from_published_ops is None else to_decimal(
            derived_from_published_ops, what="derived_from_published_ops")
        if not isinstance(published, bool):
            raise InputError("expected true or false", field="published")
        result = classify_model_weights(operations, published=published, derived_from_published_ops=derived,
                                        as_of=None if as_of is None else day_of(as_of))
        return self._stamped(result.model_dump(mode="json"))

    def rules(self) -> dict:
        """The document of ``tppcalc rules list --json`` on ``today``."""
        import datetime as dt

        from tppcalc.render.documents import rules_dict

        return self._stamped(rules_dict(dt.date.today()))

    def health(self) -> dict:
        from tppcalc._version import __version__

        return self._stamped({"status": "ok", "version": __version__, "chips": len(self.catalogue)})


def _request_key(arguments: dict) -> tuple:
    """The request as given, and today (what an omitted ``as_of`` means); a tuple of its values in
    a fixed order, figures as sorted JSON: a fifth of the cost of dumping the whole request."""
    import datetime as dt
    import json

    figures = arguments.get("figures")
    return (dt.date.today(), json.dumps(figures, sort_keys=True) if figures is not None else None,
            *((name, repr(value)) for name, value in sorted(arguments.items()) if name != "figures"))


class AnswerCache:
    """A bounded least-recently-used map, safe across the threads that serve requests."""

    def __init__(self, size: int):
        import collections
        import threading

        self.size = size
        self._entries: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


# ---- request arguments -------------------------------------------------------------------------

def rule_arguments(*, dest, hq, as_of, edition, as_written) -> dict:
    """Destination, headquarters, day and edition, checked strictly (the engine's own resolvers)."""
    if as_of is not None and not isinstance(as_of, str):
        raise InputError("expected an ISO date 'YYYY-MM-DD'", field="as_of")
    if not isinstance(as_written, bool):
        raise InputError("expected true or false", field="as_written")
    return {"dest": place(_optional_text(dest, "dest"), field="dest"),
            "hq": place(_optional_text(hq, "hq"), field="hq"),
            "as_of": day_of(as_of, field="as_of"),
            "edition": _optional_text(edition, "edition"),
            "as_written": as_written}


FIGURE_FIELDS = ("dense", "dies", "datacenter", "io_gbps", "dram_gbps")


def spec_from_request_figures(figures: Mapping):
    """A ChipSpec from figures written as the CLI flags take them: ``dense`` a list of
    ``"PREC=VALUE"`` (``"fp8=1978.9"``), ``dies`` a list of ``"AREA_MM2:ARCH"`` (``"814:finfet"``),
    ``datacenter`` true/false/null (null: unknown), ``io_gbps`` and ``dram_gbps`` decimal strings.
    Figures are strings so that they are read exactly: a JSON number has already been rounded to
    binary by the time anyone reads it."""
    from tppcalc.core.exact import to_decimal
    from tppcalc.data.figures import parse_dense_flag, parse_die_flag, spec_from_figures

    if not isinstance(figures, Mapping):
        raise InputError("expected an object with dense, dies, datacenter, io_gbps, dram_gbps", field="figures")
    unknown = sorted(set(figures) - set(FIGURE_FIELDS))
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r}; expected {', '.join(FIGURE_FIELDS)}", field="figures")
    dense = _text_list(figures.get("dense"), "figures.dense")
    if not dense:
        raise InputError("give at least one dense throughput such as 'fp8=1978.9'", field="figures.dense")
    rates = {}
    for text in dense:
        try:
            precision, value = parse_dense_flag(text)
        except InputError as exc:
            raise InputError(exc.problem, field="figures.dense") from None
        if precision in rates:
            raise InputError(f"{precision} given twice", field="figures.dense")
        rates[precision] = value
    dies = []
    for text in _text_list(figures.get("dies"), "figures.dies"):
        try:
            dies.append(parse_die_flag(text))
        except InputError as exc:
            raise InputError(exc.problem, field="figures.dies") from None
    datacenter = figures.get("datacenter")
    if datacenter is not None and not isinstance(datacenter, bool):
        raise InputError("expected true, false or null (unknown)", field="figures.datacenter")
    amounts = {}
    for name in ("io_gbps", "dram_gbps"):
        value = _figure_text(figures.get(name), f"figures.{name}")
        try:
            amounts[name] = None if value is None else to_decimal(value, what=name)
        except InputError as exc:
            raise InputError(exc.problem, field=f"figures.{name}") from None
    return spec_from_figures(rates, dies=dies, datacenter=datacenter, io_bidir_gbps=amounts["io_gbps"],
                             dram_bandwidth_gbps=amounts["dram_gbps"], source_title="figures given in a request")


def _text_list(value: object, field: str) -> Sequence[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("expected a list of strings", field=field)
    if len(value) > 32:
        raise InputError(f"at most 32 entries, got {len(value)}", field=field)
    return value


def _figure_text(value: object, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InputError("expected a decimal number written as a string, e.g. \"3.35e3\"", field=field)
    if value is not None and len(value) > 100:
        raise InputError(f"at most 100 characters, got {len(value)}", field=field)
    return value


def _optional_text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError("expected a string", field=field)
    if len(value) > 100:
        raise InputError(f"at most 100 characters, got {len(value)}", field=field)
    return value
