"""惠企政策 (policies that find enterprises, 免申即享 for companies): an enterprise's figures read through the data
hub, policies as rules on them, matching when a register changes and in a daily sweep.

An enterprise's figures come only from ``exchange.services.lookup`` (the platform's department, purpose
``惠企政策``, a grant per resource, a data-use record per read): the business register (registration date,
status, industry), the employer's insured head-count by quarter (hrss), tax rating and quarterly filings (tax)
and qualifications. They are kept on an ``enterprise_profile`` life event (its ``data``), so a rule's condition,
the dry run and the message saying why all see the same facts, and a later reader knows what was read when.

A policy is an ``EnterprisePolicy`` whose rule has the trigger ``enterprise_profile`` and is applied once per
enterprise (``once_per_subject``): the rule's action tells, offers a prefilled application, or grants.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.identity.models import Organisation
from tongban.identity.permissions import require_permission
from tongban.identity.selectors import UserActor

from .models import EnterprisePolicy, LifeEvent, LifeEventKind, ProactiveRule
from .services import PROACTIVE_ACTOR, PROACTIVE_DEPARTMENT, life_event_record, rule_create, rules_apply

logger = logging.getLogger(__name__)

POLICY_PURPOSE = "惠企政策"  # written on the grants as it is (matched, not translated)
ENTERPRISE_READS = (
    ("business-registration", ("registered_on", "status", "industry_code")),
    ("employer-headcount", ("insured", "quarters")),
    ("enterprise-tax", ("credit_rating", "revenue_4q", "tax_4q", "quarters")),
    ("enterprise-qualifications", ("qualifications",)),
)
ENTERPRISE_TYPES = (
    Organisation.Type.ENTERPRISE,
    Organisation.Type.INDIVIDUAL_BUSINESS,
    Organisation.Type.FARMERS_COOP,
)
POLICY_TEMPLATES = {
    ProactiveRule.Action.NOTIFY: (
        "enterprise-policy-notify",
        "惠企政策：您的企业可以享受{service}",
        "{name}：根据登记和申报数据（{reason}），贵单位符合“{service}”的条件，请查看政策并申请：{link}",
        "A policy your enterprise qualifies for: {service}",
        "{name}: by the registers ({reason}) your enterprise meets the conditions of “{service}”. See the policy "
        "and apply: {link}",
    ),
    ProactiveRule.Action.OFFER: (
        "enterprise-policy-offer",
        "惠企政策申请已为您预填：{service}",
        "{name}：根据登记和申报数据（{reason}），贵单位符合“{service}”的条件，申请已为您预填，确认即可提交：{link}",
        "Your application for {service} is filled in",
        "{name}: by the registers ({reason}) your enterprise meets the conditions of “{service}”. The application "
        "is filled in; confirm it to submit: {link}",
    ),
    ProactiveRule.Action.GRANT: (
        "enterprise-policy-grant",
        "免申即享：{service}已兑现",
        "{name}：根据登记和申报数据（{reason}），贵单位符合“{service}”的条件，无需申请，已直接兑现：{link}",
        "Granted without application: {service}",
        "{name}: by the registers ({reason}) your enterprise meets the conditions of “{service}”; it has been "
        "granted without an application: {link}",
    ),
}
REVENUE_BANDS = ((100, "micro"), (2000, "small"), (40000, "medium"))


def enterprise_reads_grant(*, actor: Actor = SYSTEM) -> int:
    """The standing grants policy matching needs (the demo seed and tests): one per resource it reads."""
    from tongban.exchange.services import grant_ensure

    for resource, fields in ENTERPRISE_READS:
        grant_ensure(
            actor=actor,
            department=PROACTIVE_DEPARTMENT,
            resource=resource,
            fields=list(fields),
            purpose=POLICY_PURPOSE,
        )
    return len(ENTERPRISE_READS)


def _growth(new: float, old: float) -> float | None:
    if not old:
        return None
    return round((new - old) * 100.0 / old, 1)


def revenue_band(revenue: float | None) -> str | None:
    if revenue is None:
        return None
    return next((band for limit, band in REVENUE_BANDS if revenue < limit), "large")


def enterprise_facts_read(
    organisation: Organisation, *, today: dt.date, refusals: list | None = None
) -> dict:
    """The enterprise's figures, each read through the data hub (a refused read leaves its facts empty and its
    reason in ``refusals``), with the quarters as evidence."""
    from tongban.exchange.services import GrantMissing, lookup

    read = {}
    for resource, fields in ENTERPRISE_READS:
        try:
            result = lookup(
                actor=PROACTIVE_ACTOR,
                department=PROACTIVE_DEPARTMENT,
                resource_code=resource,
                subject_key=organisation.credit_code,
                fields=list(fields),
                purpose=POLICY_PURPOSE,
            )
        except GrantMissing as exc:
            logger.warning("policy read of %s refused: %s", resource, exc)
            if refusals is not None:
                refusals.append(str(exc))
            continue
        read[resource] = result.data if result.found else {}
    business = read.get("business-registration") or {}
    headcount = read.get("employer-headcount") or {}
    tax = read.get("enterprise-tax") or {}
    qualifications = (read.get("enterprise-qualifications") or {}).get("qualifications") or []
    heads = [q["insured"] for q in headcount.get("quarters") or []]
    tax_rows = tax.get("quarters") or []
    tax_new = sum(float(q["tax_paid"]) for q in tax_rows[:4])
    tax_old = sum(float(q["tax_paid"]) for q in tax_rows[4:8])
    registered_on = business.get("registered_on")
    age = None
    if registered_on:
        born = dt.date.fromisoformat(registered_on)
        age = float(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))
    industry = business.get("industry_code") or None
    revenue = float(tax["revenue_4q"]) if tax.get("revenue_4q") is not None and tax_rows else None
    return {
        "registered_on": registered_on,
        "business_status": business.get("status"),
        "industry_code": industry,
        "industry_section": industry[0] if industry else None,
        "enterprise_age": age,
        "headcount": float(heads[0]) if heads else None,
        "headcount_growth": _growth(heads[0], heads[4]) if len(heads) >= 5 else None,
        "tax_credit_rating": tax.get("credit_rating"),
        "revenue": revenue,
        "revenue_band": revenue_band(revenue),
        "tax_4q": round(tax_new, 2) if tax_rows else None,  # money: no float artefacts (155.14000000000001)
        "tax_growth": _growth(tax_new, tax_old) if len(tax_rows) >= 8 else None,
        "qualifications": sorted(
            q["kind"] for q in qualifications if (q.get("valid_until") or "") >= today.isoformat()
        ),
        "headcount_quarters": headcount.get("quarters") or [],
        "tax_quarters": tax_rows,
        "refused": bool(refusals),
    }


FACT_NAMES = (
    "industry_code",
    "industry_section",
    "enterprise_age",
    "headcount",
    "headcount_growth",
    "tax_credit_rating",
    "revenue",
    "revenue_band",
    "tax_growth",
    "qualifications",
)


def enterprise_context(data: dict) -> dict:
    """The rule names (``rules.CONTEXT_TYPES``) an ``enterprise_profile`` life event fills."""
    context = {name: data.get(name) for name in FACT_NAMES}
    context["qualifications"] = tuple(data.get("qualifications") or ())
    return context


FACT_LABELS = {
    "industry_code": gettext_lazy("industry code"),
    "industry_section": gettext_lazy("industry section"),
    "enterprise_age": gettext_lazy("years since registration"),
    "headcount": gettext_lazy("insured employees"),
    "headcount_growth": gettext_lazy("growth in insured employees over four quarters"),
    "tax_credit_rating": gettext_lazy("tax credit rating"),
    "revenue": gettext_lazy("revenue over four quarters (10,000 yuan)"),
    "revenue_band": gettext_lazy("revenue band"),
    "tax_growth": gettext_lazy("growth in tax paid over four quarters"),
    "qualifications": gettext_lazy("qualifications"),
}
PERCENT_FACTS = {"headcount_growth", "tax_growth"}
QUALIFICATION_LABELS = {
    "high_tech": gettext_lazy("high-tech enterprise"),
    "specialised": gettext_lazy("specialised and innovative SME"),
    "little_giant": gettext_lazy("specialised 'little giant'"),
    "tech_sme": gettext_lazy("technology-based SME"),
}


def _fact_shown(name: str, value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(QUALIFICATION_LABELS.get(v, v)) for v in value) or "-"
    if isinstance(value, float):
        text = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        return text + "%" if name in PERCENT_FACTS else text
    return str(value)


def why_text(condition: str, data: dict) -> str:
    """The facts a policy's condition reads, in words, as one line ("insured employees: 120; tax credit
    rating: A"), in the active language."""
    from .selectors import _names_in

    parts = [
        _("%(fact)s: %(value)s") % {"fact": FACT_LABELS[name], "value": _fact_shown(name, data.get(name))}
        for name in _names_in(condition)
        if name in FACT_NAMES
    ]
    return _("; ").join(parts)[:300]


def enterprise_profile_check(
    *, organisation: Organisation, key: str, today: dt.date | None = None, actor: Actor = SYSTEM
) -> list:
    """Read the enterprise's figures, record them as an ``enterprise_profile`` life event (once per ``key``) and
    apply the policies' rules to it (none active: the figures are kept for the analytics). Returns the offers
    made now."""
    today = today or timezone.localdate()
    if LifeEvent.objects.filter(
        organisation=organisation, kind=LifeEventKind.ENTERPRISE_PROFILE, key=key
    ).exists():
        return []
    refusals: list[str] = []
    data = enterprise_facts_read(organisation, today=today, refusals=refusals)
    if data["business_status"] not in (None, "active") or data["registered_on"] is None:
        return []  # not a live market entity (or the register could not be read): nothing to offer
    event, _created = life_event_record(
        kind=LifeEventKind.ENTERPRISE_PROFILE,
        key=key,
        occurred_on=today,
        organisation=organisation,
        data=data,
    )
    return rules_apply(life_event=event, actor=actor)


def policies_sweep(*, today: dt.date | None = None, actor: Actor = SYSTEM, batch_size: int = 500) -> dict:
    """The daily sweep: every enterprise's figures read and checked against the active policies (once a day each;
    the figures also feed the hidden-champions analytics)."""
    today = today or timezone.localdate()
    checked = offers = 0
    last = None
    while True:
        query = Organisation.objects.filter(org_type__in=ENTERPRISE_TYPES).order_by("pk")
        if last is not None:
            query = query.filter(pk__gt=last)
        batch = list(query[:batch_size])
        if not batch:
            break
        last = batch[-1].pk
        for organisation in batch:
            offers += len(
                enterprise_profile_check(
                    organisation=organisation, key=f"sweep:{today}", today=today, actor=actor
                )
            )
            checked += 1
    return {"checked": checked, "offers": offers}


# --- policies ------------------------------------------------------------------------------------------------


def policy_templates_ensure(*, actor: Actor = SYSTEM) -> None:
    from tongban.messaging.services import message_template_ensure

    for code, subject_zh, body_zh, subject_en, body_en in POLICY_TEMPLATES.values():
        message_template_ensure(
            actor=actor,
            code=code,
            topic="enterprise",
            subject_zh=subject_zh,
            body_zh=body_zh,
            subject_en=subject_en,
            body_en=body_en,
        )


@transaction.atomic
def policy_create(
    *,
    actor: UserActor | Actor,
    code: str,
    name_zh: str,
    name_en: str = "",
    department,
    summary: str = "",
    legal_basis: str = "",
    valid_until: dt.date | None = None,
    condition: str,
    action: str,
    service: str = "",
    active: bool = True,
) -> EnterprisePolicy:
    """A service designer writes a policy: its eligibility as a rule condition on the enterprise's figures (checked
    when saved, with the position of an error) and what eligible enterprises get."""
    if isinstance(actor, UserActor):
        require_permission(actor, "catalog.design", department=department)
    policy_templates_ensure(actor=actor)
    if action not in POLICY_TEMPLATES:
        from django.core.exceptions import ValidationError

        raise ValidationError({"action": _("Choose notify, offer or grant.")})
    rule = rule_create(
        actor=actor,
        code=f"policy-{code}"[:64],
        created_by=getattr(actor, "user", None),
        name_zh=name_zh,
        name_en=name_en,
        description=summary[:2000],
        trigger=LifeEventKind.ENTERPRISE_PROFILE,
        condition=condition,
        action=action,
        topic="enterprise",
        template=POLICY_TEMPLATES[action][0],
        service=service,
        once_per_subject=True,
        active=active,
    )
    policy = EnterprisePolicy(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        department=department,
        summary=summary,
        legal_basis=legal_basis,
        valid_until=valid_until,
        rule=rule,
    )
    policy.full_clean()
    policy.save(force_insert=True)
    audit_record(
        actor=actor,
        action="proactive.policy.created",
        subject_type="proactive_rule",
        subject_id=rule.code,
        details={"policy": code, "action": action, "condition": condition[:500]},
    )
    return policy
