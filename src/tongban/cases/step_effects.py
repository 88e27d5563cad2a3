"""Running the step effects of a case (数据跑腿): the one call the case engine makes when a step is approved.

Which effects a step triggers is named in the catalogue (``ServiceItem.step_effects``, resolved by
``catalog.services.step_effects_for``); what they do belongs to the apps that own the data (``exchange/effects.py``,
``licences/effects.py``, registered in ``core.effects``). Here the case only hands them an ``EffectContext`` and
records, as trust-A evidence of the items of its service that ask for it, an e-licence an effect issued (the birth
medical certificate is the household registration's evidence: the parents carry no paper).
"""

from __future__ import annotations

from tongban.catalog import services as catalog
from tongban.core.db import fast
from tongban.core.effects import EffectContext, effect_run

from .evidence import CHECK_PURPOSE
from .models import CaseMaterial


def step_has_effects(step: str) -> bool:
    """Cheap (no statement): may approving ``step`` run effects for some service?"""
    return catalog.step_has_effects(step)


def step_effects_run(*, case, task, actor) -> EffectContext | None:
    """Run, in the caller's transaction, the effects approving ``task`` triggers for ``case``; a refusal of one
    raises ``ValidationError`` on ``decision`` and the whole step rolls back."""
    names = catalog.step_effects_for(step=task.bpmn_id, item_id=case.item_id, bundle_id=case.bundle_id)
    if not names:
        return None
    context = EffectContext(
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
