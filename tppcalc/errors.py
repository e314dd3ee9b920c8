"""One exception hierarchy for the whole package.

Every error keeps its data in attributes and builds its message in ``__str__``, so the CLI can
print one clear line and procurement code can inspect ``.field`` or ``.path`` programmatically.
Each class also derives from the builtin it most resembles, so ``except ValueError`` still works.
"""

from __future__ import annotations


class TppcalcError(Exception):
    """Base of every error tppcalc raises on purpose.

    Errors cross process boundaries (Ray workers, multiprocessing), so every one must pickle. The
    builtin way calls ``cls(*self.args)``, which breaks on keyword-only constructors; instead each
    error is rebuilt without calling ``__init__``, from its ``args`` and its attributes, so a
    subclass (here or elsewhere in the package) round-trips with nothing to add.
    """

    def __reduce__(self):
        return (_rebuild_error, (type(self), self.args, dict(vars(self))))


def _rebuild_error(cls: type[TppcalcError], args: tuple, attributes: dict) -> TppcalcError:
    error = cls.__new__(cls, *args)
    error.args = args
    vars(error).update(attributes)
    return error


class InputError(TppcalcError, ValueError):
    """A value given by a user (flag, spec file, batch row) is unusable.

    ``where`` names the place (a file, ``file:line``, a flag such as ``--dense``); ``field`` names
    the field inside it; ``problem`` says what is wrong in words.
    """

    def __init__(self, problem: str, *, where: str | None = None, field: str | None = None):
        super().__init__(problem, where, field)
        self.problem = problem
        self.where = where
        self.field = field

    def __str__(self) -> str:
        parts = [p for p in (self.where, self.field) if p]
        return ": ".join([*parts, self.problem])


class SparseFigureError(InputError):
    """A throughput marked as a sparse figure. TPP counts dense figures only (TN 2, item 3)."""


class UnknownPrecisionError(InputError):
    """A precision name that the registry does not know (``fp9``)."""


class SpecError(InputError):
    """A chip specification record failed validation.

    ``errors`` lists ``(field, problem)`` pairs, all of them, so a user fixes a file in one pass.
    """

    def __init__(
        self,
        errors: list[tuple[str, str]],
        *,
        where: str | None = None,
        record: str | None = None,
    ):
        first_field, first_problem = errors[0] if errors else (None, "invalid record")
        super().__init__(first_problem, where=where, field=first_field)
        self.errors = errors
        self.record = record
        self.args = (errors, where, record)

    def __str__(self) -> str:
        head = ": ".join(p for p in (self.where, self.record) if p)
        lines = [f"{field}: {problem}" if field else problem for field, problem in self.errors]
        body = "; ".join(lines)
        return f"{head}: {body}" if head else body


class UnknownChipError(TppcalcError, LookupError):
    """A catalogue query matched nothing; ``suggestions`` holds the closest names."""

    def __init__(self, query: str, suggestions: tuple[str, ...] = (), *, why: str | None = None):
        super().__init__(query, suggestions)
        self.query = query
        self.suggestions = tuple(suggestions)
        self.why = why  # a query refused as it stands, before any match was tried

    def __str__(self) -> str:
        if self.why:
            return f"{self.query!r} is not read as a chip name: {self.why}"
        msg = f"no chip in the catalogue matches {self.query!r}"
        if self.suggestions:
            msg += "; closest: " + ", ".join(self.suggestions)
        return msg


class AmbiguousChipError(TppcalcError, LookupError):
    """A catalogue query matched several chips; ``candidates`` lists their ids."""

    def __init__(self, query: str, candidates: tuple[str, ...]):
        super().__init__(query, candidates)
        self.query = query
        self.candidates = tuple(candidates)

    def __str__(self) -> str:
        return f"{self.query!r} matches several chips: " + ", ".join(self.candidates)


class MissingExtraError(TppcalcError, ImportError):
    """An optional dependency a command needs is not installed; says which extra brings it."""

    def __init__(self, what: str, extra: str):
        super().__init__(what, extra)
        self.what = what
        self.extra = extra

    def __str__(self) -> str:
        return f"{self.what} is not installed: pip install 'tppcalc[{self.extra}]'"
