"""ECCN 4E091: the parameters of an AI model trained with 10^26 or more operations (AI Diffusion).

Only the AI Diffusion overlay carries the thresholds, so the answer always says that edition's
enforcement status on the date asked about.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from tppcalc.core.exact import EXACT, to_decimal
from tppcalc.decisions.rules.editions import RuleBook
from tppcalc.decisions.rules.in_force import model_weights_in_force
from tppcalc.errors import InputError

OUTSIDE_4E091 = "outside 4E091"


class ModelWeightsClassification(BaseModel):
    model_config = ConfigDict(frozen=True)

    eccn: str
    training_operations: float
    as_of: dt.date
    edition: str | None
    edition_status: str
    enforced: bool
    reasons: list[str]


def training_operations(*, training_ops=None, params=None, tokens=None) -> Decimal:
    """Total training operations: given directly, or 6 x parameters x tokens (4E091 TN 2)."""
    if training_ops is not None:
        if params is not None or tokens is not None:
            raise InputError("give --training-ops, or --params with --tokens, not both")
        ops = to_decimal(training_ops, what="training operations")
    elif params is not None and tokens is not None:
        ops = EXACT.multiply(EXACT.multiply(Decimal(6), to_decimal(params, what="parameters")),
                             to_decimal(tokens, what="tokens"))
    else:
        raise InputError("give --training-ops N, or --params P with --tokens D")
    if ops <= 0:
        raise InputError(f"training operations must be greater than zero, got {ops}")
    return ops


def classify_model_weights(
    operations: Decimal,
    *,
    published: bool = False,
    derived_from_published_ops: Decimal | None = None,
    as_of: dt.date | None = None,
    rulebook: RuleBook | None = None,
) -> ModelWeightsClassification:
    """4E091 or not, for model weights trained with ``operations``.

    ``derived_from_published_ops``: the additional training operations spent deriving this model
    from a published one (4E091 Note 1)."""
    day = as_of or dt.date.today()
    edition = model_weights_in_force(day, rulebook=rulebook)
    if edition is None:
        return ModelWeightsClassification(
            eccn=OUTSIDE_4E091, training_operations=float(operations), as_of=day, edition=None,
            edition_status="no 4E091 control existed on this date", enforced=False,
            reasons=[f"ECCN 4E091 did not exist on {day} (added by the AI Diffusion rule, effective 2025-01-13)"])
    control = edition.model_weights
    reasons = [f"{control.eccn} ({control.citation}): {edition.title}, {edition.status_on(day)}"]
    eccn = control.eccn
    if published:
        eccn = OUTSIDE_4E091
        reasons.append("Parameters that have been published (15 CFR 734.7(a)) are not controlled (Note 1)")
    elif derived_from_published_ops is not None:
        floor = max(control.derived_extra_operations_at_least,
                    EXACT.multiply(control.derived_extra_fraction_above, operations))
        if derived_from_published_ops > floor:
            reasons.append(f"Derived from a published model with {derived_from_published_ops:.3E} additional "
                           f"operations, more than {floor:.3E} (the higher of 2.5e25 and 25%): controlled")
        else:
            eccn = OUTSIDE_4E091
            reasons.append(f"Derived from a published model with {derived_from_published_ops:.3E} additional "
                           f"operations, not more than {floor:.3E}: not controlled (Note 1)")
    if eccn == control.eccn and operations < control.training_operations_at_least:
        eccn = OUTSIDE_4E091
        reasons.append(f"Trained with {operations:.3E} operations, fewer than "
                       f"{control.training_operations_at_least:.0E}")
    elif eccn == control.eccn:
        reasons.append(f"Trained with {operations:.3E} operations, {control.training_operations_at_least:.0E} or more")
    if eccn == control.eccn:
        reasons.append("Note 2 may still exclude it if fewer operations were used than the most efficient "
                       "published method needs to match the most capable published model; that judgement "
                       "is not made here")
    return ModelWeightsClassification(
        eccn=eccn, training_operations=float(operations), as_of=day, edition=edition.id,
        edition_status=edition.status_on(day), enforced=edition.enforced_on(day), reasons=reasons)
