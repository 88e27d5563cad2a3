"""The e-licence step effect: ``licence.issue:<licence type>[:<holder form field>]``.

Registered when the app is ready (``LicencesConfig.ready``). Issues, signed by the step's department, a licence of
the named type whose fields come from the application's form and from what the step's earlier effects left in
``context.values`` (e.g. ``certificate_number`` from ``birth.record``). The holder is, in this order: the person or
organisation named by the form field given as second parameter (a resident ID or a credit code, e.g.
``licence.issue:housing-contract-filing:buyer_resident_id``; an empty field passes to the next), the ``holder`` an earlier effect of the step left,
or the applicant. Idempotent per case, type and holder. The issued licence is reported in ``context.produced``,
so the case can use it as the evidence another item of the bundle asks for.

Its ``prepare`` half (``core.effects``) draws the number, checks the data and signs before the step's transaction;
under the lock only the INSERT runs, whose unique number and unique (case, type, holder) catch a number or a
licence taken meanwhile. It declines (the effect then runs whole under the lock) when the holder is named by a
form field, when the department has no signing key yet (making one is a write) or when the case has the licence.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tongban.core.effects import EffectContext, Writes, effect_register
from tongban.identity.models import Organisation, Person

from . import services
from .models import LicenceType


def _holder(context: EffectContext, field_name: str):
    key = str(context.form.get(field_name) or "").strip().upper() if field_name else ""
    if key:
        found = (
            Person.objects.filter(resident_id=key).first()
            or Organisation.objects.filter(credit_code=key).first()
        )
        if found is None:
            raise ValidationError(
                {
                    "decision": [
                        _("The licence holder named by the form field %(field)s is not in the registers.")
                        % {"field": field_name}
                    ]
                }
            )
        return found
    holder = context.values.get("holder")
    if holder is None:
        holder = context.applicant_person or context.applicant_organisation
    return holder


def licence_issue_effect(context: EffectContext, param: str) -> None:
    type_code, _sep, field_name = param.partition(":")
    licence_type = services.licence_type_get(type_code)
    if licence_type is None or not licence_type.active:
        raise ValidationError(
            {
                "decision": [
                    _("The licence type %(code)s this step issues does not exist or is inactive.")
                    % {"code": type_code}
                ]
            }
        )
    holder = _holder(context, field_name)
    values = {**context.form, **{k: v for k, v in context.values.items() if k != "holder"}}
    licence = services.licence_issue(
        actor=context.actor,
        type=licence_type,
        data=services.licence_data_from(licence_type, values),
        department=context.department,
        holder_person=holder if isinstance(holder, Person) else None,
        holder_organisation=holder if isinstance(holder, Organisation) else None,
        case_id=context.case_id,
    )
    context.produced.append(
        {"kind": "licence", "type": licence_type.code, "number": licence.number, "name": licence_type.name_zh}
    )


def licence_issue_prepared(context: EffectContext, param: str) -> Writes | None:
    """``licence_issue_effect``'s prepare half (see the module docstring)."""
    type_code, _sep, field_name = param.partition(":")
    licence_type = services.licence_type_get(type_code)
    if licence_type is None or not licence_type.active:
        return None
    if field_name and str(context.form.get(field_name) or "").strip():
        return None
    if services.key_active(context.department) is None:
        return None
    holder = _holder(context, "")
    values = {**context.form, **{k: v for k, v in context.values.items() if k != "holder"}}
    prepared = services.licence_issue_prepare(
        actor=context.actor,
        type=licence_type,
        data=services.licence_data_from(licence_type, values),
        department=context.department,
        holder_person=holder if isinstance(holder, Person) else None,
        holder_organisation=holder if isinstance(holder, Organisation) else None,
        case_id=context.case_id,
    )
    if not isinstance(prepared, tuple):  # issued already (a retry): the effect whole returns it
        return None
    licence, audit, event = prepared
    return Writes(
        rows=[licence],
        audits=[audit],
        events=[event],
        produced=[
            {
                "kind": "licence",
                "type": licence_type.code,
                "number": licence.number,
                "name": licence_type.name_zh,
            }
        ],
    )


def _param_check(param: str) -> None:
    type_code = param.partition(":")[0]
    if not LicenceType.objects.filter(code=services.ALIASES.get(type_code, type_code)).exists():
        raise ValidationError(_("No licence type has the code %(code)s.") % {"code": type_code})


def effects_register() -> None:
    """Register the licences' effect (called once the app is ready)."""
    effect_register(
        "licence.issue",
        licence_issue_effect,
        owner="licences",
        label="Issue an e-licence of the named type",
        parametrised=True,
        param_check=_param_check,
        prepare=licence_issue_prepared,
    )
