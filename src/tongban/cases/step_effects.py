"""Running the step effects of a case (数据跑腿): the one call the case engine makes when a step is approved.

Which effects a step triggers is named in the catalogue (``ServiceItem.step_effects``, resolved by
``catalog.services.step_effects_for``); what they do belongs to the apps that own the data (``exchange/effects.py``,
``licences/effects.py``, registered in ``core.effects``). Here the case only hands them an ``EffectContext`` and
records, as trust-A evidence of the items of its service that ask for it, an e-licence an effect issued (the birth
medical certificate is the household registration's evidence: the parents carry no paper).

``step_effects_prepare`` runs, before the step's transaction, the ``prepare`` halves of the effects that have one
(``core.effects``): the reads, draws, rows, licence data and signatures are then done without the writers' lock,
and ``step_effects_run`` only applies them under it, if what the effects read is unchanged and the caller finds
the case unchanged (``EffectsChanged`` otherwise: the caller runs the step again without the preparation).
"""

from __future__ import annotations

from tongban.catalog import services as catalog
from tongban.core.db import fast
from tongban.core.effects import EffectContext, EffectsChanged, effect_run, effects_apply, effects_prepare

from .evidence import CHECK_PURPOSE
from .models import CaseMaterial

__all__ = ["EffectsChanged", "Prepared", "step_effects_prepare", "step_effects_run", "step_has_effects"]


def step_has_effects(step: str) -> bool:
    """Cheap (no statement): may approving ``step`` run effects for some service?"""
    return catalog.step_has_effects(step)


def _context(case, task, actor) -> EffectContext:
    return EffectContext(
        actor=actor,
        department=task.department,
        case_id=case.pk,
        case_number=case.number,
        form=dict(case.form_data or {}),
        applicant_person=case.applicant_person,
        applicant_organisation=case.applicant_organisation,
        step=task.bpmn_id,
        purpose=CHECK_PURPOSE,
    )


class Prepared:
    """The effects of a step prepared before its transaction, and what they were prepared from."""

    __slots__ = ("case", "context", "plans")

    def __init__(self, case, context: EffectContext, plans: list):
        self.case, self.context, self.plans = case, context, plans


def step_effects_prepare(*, case, task, actor) -> Prepared | None:
    """Before the step's transaction (``case`` read without a lock): the effects approving ``task`` triggers,
    prepared; None when the step has none or one of them cannot be prepared (they then run whole, under the lock)."""
    names = catalog.step_effects_for(step=task.bpmn_id, item_id=case.item_id, bundle_id=case.bundle_id)
    if not names:
        return None
    context = _context(case, task, actor)
    plans = effects_prepare(names, context)
    return None if plans is None else Prepared(case, context, plans)


def step_effects_run(*, case, task, actor, prepared: Prepared | None = None) -> EffectContext | None:
    """Run, in the caller's transaction, the effects approving ``task`` triggers for ``case``; a refusal of one
    raises ``ValidationError`` on ``decision`` and the whole step rolls back.

    With ``prepared`` (``step_effects_prepare``) only their writes run here, if each plan's checks hold
    (``EffectsChanged`` otherwise); the caller checks, in this transaction, that the case is still the one they
    were prepared from (its ``updated_at``: every change of a case is a transition, which sets it)."""
    if prepared is not None:
        context = prepared.context
        effects_apply(prepared.plans, context)
        _record_evidence(case, context)
        return context
    names = catalog.step_effects_for(step=task.bpmn_id, item_id=case.item_id, bundle_id=case.bundle_id)
    if not names:
        return None
    context = _context(case, task, actor)
    for name in names:
        effect_run(name, context)
    _record_evidence(case, context)
    return context


def _record_evidence(case, context: EffectContext) -> None:
    licences = [p for p in context.produced if p.get("kind") == "licence"]
    if not licences:
        return
    wanted = catalog.step_effect_evidence(item_id=case.item_id, bundle_id=case.bundle_id)
    rows = [
        CaseMaterial(
            case=case,
            item_code=item_code,
            code=code,
            name=name or licence.get("name", ""),
            origin=CaseMaterial.Origin.LICENCE,
            trust=CaseMaterial.Trust.A,
            reference=licence["number"][:200],
        )
        for licence in licences
        for item_code, code, name in wanted.get(licence["type"], ())
    ]
    if rows:
        fast.insert(rows)
