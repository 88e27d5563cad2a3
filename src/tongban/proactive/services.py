"""Writes of proactive services: life events, rule application, offers, grants, the daily milestone sweep.

Never twice: a life event is unique per subject, kind and occurrence key, and an offer per rule, recipient and
occurrence (the life event, or ``once`` for once-per-recipient rules); messages carry a de-duplication key
derived from the same. So a replayed registry event, a retried delivery or a second sweep of the same day
finds what is there and creates nothing.

A rule that raises for one recipient is rolled back to its savepoint, logged as a ``RuleRun`` and skipped;
the others and the sweep go on. An opted-out recipient (``messaging.selectors.topic_allowed``) gets nothing:
a ``RuleRun`` with outcome ``opted_out`` records the skip.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
import uuid
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict
from tongban.identity.models import Organisation, Person
from tongban.identity.reference import PLATFORM_DEPARTMENT_CODE
from tongban.identity.selectors import UserActor

from .milestones import CHILD_MILESTONES, LICENCE_WINDOW_DAYS, PERSON_MILESTONES, age_on, birth_dates_reaching
from .models import LifeEvent, LifeEventKind, Offer, ProactiveRule, RuleRun
from .rules import condition_matches, condition_validate

logger = logging.getLogger(__name__)

RULE_FIELDS = (
    "name_zh",
    "name_en",
    "description",
    "trigger",
    "condition",
    "action",
    "topic",
    "template",
    "service",
    "once_per_subject",
    "active",
)
SEX_FORM = {"M": "male", "F": "female"}


# --- rules ---------------------------------------------------------------------------------------------


def service_resolve(code: str):
    """The published bundle or service item called ``code`` (bundles first), or None."""
    from tongban.catalog.selectors import bundle_get, item_get

    if not code:
        return None
    return bundle_get(code) or item_get(code)


def rule_check(rule: ProactiveRule) -> None:
    """Everything that makes a rule runnable (its condition, service, topic and template), as field errors; the
    services and the admin form both ask it."""
    condition_validate(rule.condition)
    errors = {}
    if rule.action in (ProactiveRule.Action.OFFER, ProactiveRule.Action.GRANT) and not rule.service:
        errors["service"] = [_("An offer or a grant names the bundle or service item it is for.")]
    elif rule.service and service_resolve(rule.service) is None:
        errors["service"] = [
            _("No published bundle or service item has the code %(code)s.") % {"code": rule.service}
        ]
    from tongban.messaging.models import TOPICS, MessageTemplate

    if rule.topic not in TOPICS:
        errors["topic"] = [_("Unknown notification topic %(topic)s.") % {"topic": rule.topic}]
    if not MessageTemplate.objects.filter(code=rule.template, active=True).exists():
        errors["template"] = [
            _("No active message template has the code %(code)s.") % {"code": rule.template}
        ]
    if errors:
        raise ValidationError(errors)
    rule.full_clean()


@transaction.atomic
def rule_create(*, actor: Actor, code: str, created_by=None, **fields) -> ProactiveRule:
    """Create a rule; a malformed condition is refused with the position of the error (ValidationError)."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    rule = ProactiveRule(code=code, created_by=created_by, **fields)
    rule_check(rule)
    rule.save(force_insert=True)
    audit_record(
        actor=actor,
        action="proactive.rule.created",
        subject_type="proactive_rule",
        subject_id=rule.code,
        details={"trigger": rule.trigger, "action": rule.action, "condition": rule.condition[:500]},
    )
    return rule


@transaction.atomic
def rule_update(*, actor: Actor, rule: ProactiveRule, **changes) -> ProactiveRule:
    """Change a rule; the condition is validated as on creation."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(rule, name, value)
    rule_check(rule)
    rule.save()
    audit_record(
        actor=actor,
        action="proactive.rule.updated",
        subject_type="proactive_rule",
        subject_id=rule.code,
        details={"changed": sorted(changes), "condition": rule.condition[:500]},
    )
    return rule


# --- life events ---------------------------------------------------------------------------------------


def life_event_record(
    *,
    kind: str,
    key: str,
    occurred_on: dt.date,
    person: Person | None = None,
    organisation: Organisation | None = None,
    source_id=None,
    data: dict | None = None,
) -> tuple[LifeEvent, bool]:
    """Record a life event once per subject, kind and key; returns (event, created)."""
    if (person is None) == (organisation is None):
        raise ValueError("a life event concerns one person or one organisation")
    lookup = {"person": person} if person is not None else {"organisation": organisation}
    existing = LifeEvent.objects.filter(kind=kind, key=key, **lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event = LifeEvent.objects.create(
                kind=kind, key=key, occurred_on=occurred_on, source_id=source_id, data=data or {}, **lookup
            )
    except IntegrityError:
        return LifeEvent.objects.get(kind=kind, key=key, **lookup), False
    return event, True


def subject_context(life_event: LifeEvent, *, person=None, organisation=None) -> dict:
    """The typed names a rule's condition may use (``rules.CONTEXT_TYPES``), for this life event's subject."""
    data = life_event.data or {}
    context = {
        "event": life_event.kind,
        "event_date": life_event.occurred_on,
        "age": None,
        "age_months": None,
        "sex": None,
        "district": None,
        "has_account": False,
        "org_type": None,
        "baby_sex": data.get("baby_sex"),
        "licence_type": data.get("licence_type"),
        "days_to_expiry": None,
    }
    person = person or life_event.person
    organisation = organisation or life_event.organisation
    if person is not None:
        years, months = age_on(person.birth_date, life_event.occurred_on)
        district = person.household_district.code if person.household_district_id else None
        context.update(
            subject="person",
            age=float(years),
            age_months=float(months),
            sex=person.sex,
            district=district,
            has_account=person.user_id is not None,
        )
    else:
        context.update(
            subject="organisation",
            org_type=organisation.org_type,
            district=organisation.district.code if organisation.district_id else None,
        )
    if life_event.kind == LifeEventKind.ENTERPRISE_PROFILE:
        from .enterprise import enterprise_context

        context.update(enterprise_context(data))
    if data.get("valid_until"):
        valid_until = dt.date.fromisoformat(data["valid_until"])
        context["days_to_expiry"] = float((valid_until - life_event.occurred_on).days)
    return context


# --- registry reads ----------------------------------------------------------------------------------------
# Proactive services read other departments' registries like any department: through exchange's lookup, as the
# platform's department, for one stated purpose, so a grant must allow it and the person sees every read in
# "who used my data". A refused read is audited by exchange (``data.lookup_refused``) and logged here; the rule
# then has nobody to address, and the worker goes on.

PROACTIVE_PURPOSE = "主动服务"  # written on the grants as it is (matched, not translated)
PROACTIVE_DEPARTMENT = PLATFORM_DEPARTMENT_CODE
PROACTIVE_ACTOR = Actor(kind="system", id="proactive", label="proactive", department=PLATFORM_DEPARTMENT_CODE)
BIRTH_RESOURCE = "birth-record"
HOUSEHOLD_RESOURCE = "household-members"
BUSINESS_RESOURCE = "business-registration"
# (resource, fields) proactive reads: the demo seed grants them (``demo.scenarios.demo_grants_ensure``).
REGISTRY_READS = (
    (
        BIRTH_RESOURCE,
        (
            "certificate_number",
            "baby_name",
            "birth_time",
            "weight_g",
            "mother_resident_id",
            "father_resident_id",
            "baby_resident_id",
        ),
    ),
    (HOUSEHOLD_RESOURCE, ("member_ids",)),
    (BUSINESS_RESOURCE, ("registered_on",)),
)


def registry_reads_grant(*, actor: Actor = SYSTEM) -> int:
    """The standing grants proactive services need (the demo seed and tests; a real city signs them with the
    registries' owners): one per resource in ``REGISTRY_READS``. Needs the data catalogue synced."""
    from tongban.exchange.services import grant_ensure

    for resource, fields in REGISTRY_READS:
        grant_ensure(
            actor=actor,
            department=PROACTIVE_DEPARTMENT,
            resource=resource,
            fields=list(fields),
            purpose=PROACTIVE_PURPOSE,
        )
    return len(REGISTRY_READS)


def registry_read(*, resource: str, subject_key: str, fields, refusals: list | None = None):
    """Read ``fields`` of ``resource`` about ``subject_key`` for proactive services; None when refused (the
    refusal is recorded by exchange, logged, and its reason appended to ``refusals``) or when nothing is found."""
    from tongban.exchange.services import GrantMissing, lookup

    if not subject_key:
        return None
    try:
        result = lookup(
            actor=PROACTIVE_ACTOR,
            department=PROACTIVE_DEPARTMENT,
            resource_code=resource,
            subject_key=subject_key,
            fields=list(fields),
            purpose=PROACTIVE_PURPOSE,
        )
    except GrantMissing as exc:
        logger.warning("proactive read of %s refused: %s", resource, exc)
        if refusals is not None:
            refusals.append(str(exc))
        return None
    return result.data if result.found else None


def birth_record_read(
    *, parent: Person, certificate_number: str, refusals: list | None = None
) -> dict | None:
    """The birth with ``certificate_number`` among the births of ``parent`` (the birth register's fields)."""
    rows = registry_read(
        resource=BIRTH_RESOURCE,
        subject_key=parent.resident_id,
        fields=["certificate_number", "baby_name", "weight_g", "birth_time"],
        refusals=refusals,
    )
    wanted = (certificate_number or "").strip().upper()
    return next((row for row in rows or [] if row.get("certificate_number") == wanted), None)


def _guardians(child: Person, refusals: list | None = None) -> list[Person]:
    """A child's parents: from the birth register, else the household's head and spouse (read through exchange)."""
    rows = registry_read(
        resource=BIRTH_RESOURCE,
        subject_key=child.resident_id,
        fields=["mother_resident_id", "father_resident_id", "baby_resident_id"],
        refusals=refusals,
    )
    own = [row for row in rows or [] if row.get("baby_resident_id") == child.resident_id]
    if own:
        ids = [own[0].get("mother_resident_id"), own[0].get("father_resident_id")]
        found = {p.resident_id: p for p in Person.objects.filter(resident_id__in=[i for i in ids if i])}
        return [found[i] for i in ids if i in found]
    household = registry_read(
        resource=HOUSEHOLD_RESOURCE, subject_key=child.resident_id, fields=["member_ids"], refusals=refusals
    )
    ids = [
        m["resident_id"]
        for m in (household or {}).get("member_ids") or []
        if m.get("relation") in ("head", "spouse") and m.get("resident_id") != child.resident_id
    ]
    found = {
        p.resident_id: p
        for p in Person.objects.filter(resident_id__in=ids).select_related("household_district")
    }
    return [found[i] for i in ids if i in found]


def recipients_for(life_event: LifeEvent, refusals: list | None = None) -> list[Person | Organisation]:
    """Whom a rule on this life event addresses: the subject, or for a child's milestone the parents."""
    if life_event.organisation_id:
        return [life_event.organisation]
    if life_event.kind in CHILD_MILESTONES:
        return _guardians(life_event.person, refusals)
    return [life_event.person]


def _rules_for(kind: str) -> list[ProactiveRule]:
    return list(ProactiveRule.objects.filter(trigger=kind, active=True).order_by("code"))


def _recipient_q(recipient) -> dict:
    return {"person": recipient} if isinstance(recipient, Person) else {"organisation": recipient}


def _run_log(rule, life_event, recipient, outcome, error=""):
    fields = _recipient_q(recipient) if recipient is not None else {}
    if (
        outcome != RuleRun.Outcome.FAILED
        and RuleRun.objects.filter(rule=rule, life_event=life_event, outcome=outcome, **fields).exists()
    ):
        return
    RuleRun.objects.create(rule=rule, life_event=life_event, outcome=outcome, error=error[-4000:], **fields)


def rules_apply(
    *, life_event: LifeEvent, actor: Actor = SYSTEM, rules: Iterable | None = None
) -> list[Offer]:
    """Evaluate the active rules triggered by ``life_event`` and act for its recipients; idempotent.

    Returns the offers made now (existing ones are left as they are). A rule failing for one recipient is
    logged (``RuleRun``) and skipped.
    """
    rules = list(_rules_for(life_event.kind) if rules is None else rules)
    if not rules:
        return []
    made: list[Offer] = []
    context = None
    recipients = None
    refusals: list[str] = []
    for rule in rules:
        try:
            with transaction.atomic():
                if context is None:
                    context = subject_context(life_event)
                if not condition_matches(rule.condition, context):
                    continue
                if recipients is None:
                    recipients = recipients_for(life_event, refusals)
        except Exception:
            _run_log(rule, life_event, life_event.subject, RuleRun.Outcome.FAILED, traceback.format_exc())
            logger.warning("rule %s failed on life event %s", rule.code, life_event.pk, exc_info=True)
            continue
        if not recipients:
            # A registry read refused for want of a grant leaves nobody to address: its reason is kept.
            _run_log(rule, life_event, None, RuleRun.Outcome.NO_RECIPIENT, "\n".join(refusals))
            continue
        for recipient in recipients:
            try:
                with transaction.atomic():
                    offer = _act(rule=rule, life_event=life_event, recipient=recipient, actor=actor)
            except Exception:
                _run_log(rule, life_event, recipient, RuleRun.Outcome.FAILED, traceback.format_exc())
                logger.warning(
                    "rule %s failed for a recipient of %s", rule.code, life_event.pk, exc_info=True
                )
                continue
            if offer is not None:
                made.append(offer)
    return made


# --- actions -------------------------------------------------------------------------------------------


def _birth_fields(life_event: LifeEvent) -> dict:
    data = life_event.data or {}
    fields = {
        "baby_name": data.get("baby_name"),
        "baby_sex": SEX_FORM.get(data.get("baby_sex") or ""),
        "birth_date": data.get("birth_date"),
        "birth_time": data.get("birth_time"),
        "birth_weight_g": data.get("weight_g"),
        "birth_hospital": data.get("hospital"),
        "hospital": data.get("hospital"),
    }
    return {k: v for k, v in fields.items() if v not in (None, "")}


def offer_form_prefill(*, service, recipient, life_event: LifeEvent) -> dict:
    """What the platform already knows for the service's form: the data hub's prefill and the event's data."""
    from tongban.cases.prefill import prefill

    properties = set((service.form_schema or {}).get("properties", {}))
    values: dict = {}
    if isinstance(recipient, Person):
        values.update(
            {
                name: found.value
                for name, found in prefill(service=service, applicant_person=recipient).items()
            }
        )
    else:
        values.update(
            company_name=recipient.name,
            credit_code=recipient.credit_code,
            legal_representative=recipient.legal_representative.name
            if recipient.legal_representative_id
            else None,
        )
    if life_event.kind == LifeEventKind.BIRTH_REGISTERED:
        values.update(_birth_fields(life_event))
    if life_event.kind in CHILD_MILESTONES and life_event.person_id:
        values.update(child_name=life_event.person.name, child_resident_id=life_event.person.resident_id)
    return {k: v for k, v in values.items() if k in properties and v not in (None, "")}


# 上海市老年综合津贴 (yuan a month) by age band; the demo's grant names the amount in its message.
SENIOR_ALLOWANCE = ((100, 600), (90, 350), (80, 180), (70, 150), (65, 75))


def _allowance(age: int) -> str:
    return next((str(amount) for floor, amount in SENIOR_ALLOWANCE if age >= floor), "")


def _message_context(rule, life_event, recipient, *, service_name="", link="") -> dict:
    """Every placeholder a message template may use (messaging.models.PLACEHOLDERS), blank when unknown."""
    from tongban.messaging.models import PLACEHOLDERS

    data = life_event.data or {}
    context = dict.fromkeys(PLACEHOLDERS, "")
    context.update(
        name=recipient.name,
        service=service_name or rule.description or rule.name_zh,
        link=link,
        date=life_event.occurred_on.isoformat(),
        baby_name=data.get("baby_name") or "",
        child_name=data.get("baby_name") or "",
        licence=data.get("licence_name") or data.get("licence_type") or "",
        licence_number=data.get("licence_number") or "",
        expires=data.get("valid_until") or "",
        organisation=recipient.name if isinstance(recipient, Organisation) else "",
    )
    if life_event.kind == LifeEventKind.ENTERPRISE_PROFILE:
        from .enterprise import why_text

        # The facts the policy's condition read: the enterprise is told why it qualifies.
        context["reason"] = why_text(rule.condition, data)
        context["service"] = rule.name_zh
    if life_event.kind in CHILD_MILESTONES and life_event.person_id:
        context["child_name"] = context["baby_name"] = life_event.person.name
    if life_event.kind in PERSON_MILESTONES:
        months = PERSON_MILESTONES[life_event.kind]
        context["age"] = f"{months // 12}" if months >= 12 else f"{months}"
    if life_event.kind == LifeEventKind.CHILD_2_MONTHS:
        context["vaccine"] = "脊灰灭活疫苗、百白破疫苗"
        context["date"] = context["deadline"] = (life_event.occurred_on + dt.timedelta(days=30)).isoformat()
    if rule.action == ProactiveRule.Action.GRANT and life_event.person_id:
        context["amount"] = _allowance(age_on(life_event.person.birth_date, life_event.occurred_on)[0])
    return context


def _guide_link(service) -> str:
    from tongban.catalog.models import Bundle

    if service is None:
        return ""
    name = "catalog:bundle" if isinstance(service, Bundle) else "catalog:item"
    return reverse(name, args=[service.code])


def _send(*, actor, rule, recipient, context, dedupe_key):
    from tongban.messaging.services import message_send

    return message_send(
        actor=actor,
        topic=rule.topic,
        template=rule.template,
        context=context,
        dedupe_key=dedupe_key,
        **_recipient_q(recipient),
    )


APPLIED_WINDOW = dt.timedelta(days=90)


def _applied_already(service, recipient, life_event: LifeEvent) -> bool:
    """Whether the recipient has a live case of this service submitted around the life event."""
    from tongban.cases.models import Case
    from tongban.catalog.models import Bundle

    by_service = {"bundle": service} if isinstance(service, Bundle) else {"item": service}
    by_applicant = (
        {"applicant_person": recipient}
        if isinstance(recipient, Person)
        else {"applicant_organisation": recipient}
    )
    since = dt.datetime.combine(life_event.occurred_on - APPLIED_WINDOW, dt.time.min, tzinfo=dt.UTC)
    return (
        Case.objects.filter(**by_service, **by_applicant, submitted_at__gte=since)
        .exclude(status__in=[Case.Status.WITHDRAWN, Case.Status.REJECTED, Case.Status.DRAFT])
        .exists()
    )


def _act(*, rule: ProactiveRule, life_event: LifeEvent, recipient, actor: Actor) -> Offer | None:
    """Do the rule's action for one recipient, once; None when it was done before or the topic is off."""
    from tongban.messaging.selectors import topic_allowed

    occurrence = "once" if rule.once_per_subject else str(life_event.pk)
    who = _recipient_q(recipient)
    if Offer.objects.filter(rule=rule, occurrence=occurrence, **who).exists():
        return None
    if not topic_allowed(recipient, rule.topic):
        _run_log(rule, life_event, recipient, RuleRun.Outcome.OPTED_OUT)
        return None
    service = service_resolve(rule.service)
    if rule.action != ProactiveRule.Action.NOTIFY and service is None:
        raise LookupError(f"the service {rule.service!r} of rule {rule.code} is not published")
    if rule.action == ProactiveRule.Action.OFFER and _applied_already(service, recipient, life_event):
        # The person applied on their own (a birth registered by the newborn bundle's own case emits
        # person.born too): offering the same service again would be noise.
        _run_log(rule, life_event, recipient, RuleRun.Outcome.ALREADY_APPLIED)
        return None
    status = {
        ProactiveRule.Action.NOTIFY: Offer.Status.NOTIFIED,
        ProactiveRule.Action.OFFER: Offer.Status.OFFERED,
        ProactiveRule.Action.GRANT: Offer.Status.GRANTED,
    }[rule.action]
    offer = Offer(
        rule=rule,
        life_event=life_event,
        occurrence=occurrence,
        action=rule.action,
        service=rule.service if service is not None else "",
        service_name=service.name_zh if service is not None else "",
        status=status,
        **who,
    )
    if rule.action == ProactiveRule.Action.OFFER:
        offer.prefilled = offer_form_prefill(service=service, recipient=recipient, life_event=life_event)
    try:
        with transaction.atomic():
            offer.save(force_insert=True)
    except IntegrityError:
        return None  # made at the same moment by another worker: never twice
    if rule.action == ProactiveRule.Action.GRANT and hasattr(service, "department"):
        # 免申即享: the benefit is a real, completed case in the person's cases and the department's figures.
        from tongban.cases.services import case_grant

        case = case_grant(
            actor=actor,
            service=service,
            applicant_person=recipient if isinstance(recipient, Person) else None,
            applicant_organisation=None if isinstance(recipient, Person) else recipient,
            form_data=offer_form_prefill(service=service, recipient=recipient, life_event=life_event),
            reason=f"{rule.code}: {life_event.kind}",
        )
        offer.case_id = case.pk
        Offer.objects.filter(pk=offer.pk).update(case_id=case.pk)
    if rule.action == ProactiveRule.Action.NOTIFY:
        # Notify with the guide (what to prepare, where to go), or a search for it.
        link = _guide_link(service) or f"{reverse('catalog:search')}?{urlencode({'q': rule.name_zh})}"
    else:
        link = reverse("proactive:offer", args=[offer.pk])
    message = _send(
        actor=actor,
        rule=rule,
        recipient=recipient,
        context=_message_context(rule, life_event, recipient, service_name=offer.service_name, link=link),
        dedupe_key=f"proactive:{rule.code}:{occurrence}",
    )
    offer.message_id = getattr(message, "pk", None)
    Offer.objects.filter(pk=offer.pk).update(message_id=offer.message_id)
    audit_record(
        actor=actor,
        action=f"proactive.{rule.action}",
        subject_type="person" if isinstance(recipient, Person) else "organisation",
        subject_id=str(recipient.pk),
        details={
            "rule": rule.code,
            "offer": str(offer.pk),
            "life_event": life_event.kind,
            "service": offer.service,
        },
    )
    event_emit(
        "offer.made",
        {"offer_id": str(offer.pk), "rule": rule.code, "action": rule.action, "status": offer.status},
        subject_type="offer",
        subject_id=str(offer.pk),
    )
    return offer


# --- the recipient's decision ----------------------------------------------------------------------------


def _require_recipient(user, offer: Offer) -> None:
    from .selectors import offer_is_recipient

    if not offer_is_recipient(user, offer):
        raise PermissionDenied(_("This offer is not addressed to you."))


def offer_accept(
    *,
    actor: UserActor,
    offer: Offer,
    form_data: dict | None = None,
    files=None,
    now=None,
    skip_items=(),
) -> Offer:
    """Accept an offer with one confirmation: submit the prefilled application (plus the person's edits).

    The case is submitted through ``cases.services.case_submit`` with an idempotency key of the offer, so
    confirming twice makes one case. Invalid or missing fields are reported as by case_submit (ValidationError).
    ``skip_items``: a bundle offer accepted in part: the codes of the items the recipient leaves for later ("not
    now"). The case takes the others; the offer remembers these (``items_later``), its page offers them to apply
    for later, and the rule's counts tell the service designers.
    """
    from tongban.cases.services import case_submit

    _require_recipient(actor.user, offer)
    # The offer is locked and checked first, and the case submitted in the same transaction: an offer that expired
    # or was declined meanwhile gives a Conflict and no case.
    with transaction.atomic():
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if locked.status == Offer.Status.ACCEPTED:
            return locked
        if locked.status != Offer.Status.OFFERED:
            raise Conflict(_("This offer can no longer be accepted."))
        service = service_resolve(locked.service)
        if service is None:
            raise Conflict(_("The service of this offer is no longer available."))
        properties = set((service.form_schema or {}).get("properties", {}))
        data = dict(locked.prefilled)
        data.update({k: v for k, v in (form_data or {}).items() if k in properties and v not in (None, "")})
        case = case_submit(
            actor=actor,
            service=service,
            form_data=data,
            files=files or {},
            applicant_person=locked.person,
            applicant_organisation=locked.organisation,
            idempotency_key=f"offer-{locked.pk}",
            skip_items=skip_items,
        )
        locked.status = Offer.Status.ACCEPTED
        locked.case_id = case.pk
        locked.decided_at = now or timezone.now()
        locked.items_later = list(case.items_skipped or [])
        locked.save(update_fields=["status", "case_id", "decided_at", "items_later", "updated_at"])
        details = {"case": str(case.pk), "case_number": case.number}
        if locked.items_later:
            details["items_later"] = locked.items_later
        _decision_record(actor, locked, "accepted", details)
    return locked


def offer_decline(*, actor: UserActor, offer: Offer, reason: str = "", now=None) -> Offer:
    """Decline an offer, or a grant (免申即享: the benefit stops); audited, and an ``offer.declined`` event."""
    _require_recipient(actor.user, offer)
    with transaction.atomic():
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if locked.status == Offer.Status.DECLINED:
            return locked
        if locked.status not in (Offer.Status.OFFERED, Offer.Status.GRANTED):
            raise Conflict(_("This offer can no longer be declined."))
        if locked.status == Offer.Status.GRANTED and locked.case_id:
            from tongban.cases.models import Case
            from tongban.cases.services import case_grant_decline

            case_grant_decline(actor=actor, case=Case.objects.get(pk=locked.case_id), reason=reason or "")
        locked.status = Offer.Status.DECLINED
        locked.decided_at = now or timezone.now()
        locked.reason = (reason or "").strip()[:300]
        locked.save(update_fields=["status", "decided_at", "reason", "updated_at"])
        _decision_record(actor, locked, "declined", {"reason": locked.reason})
    return locked


def _decision_record(actor: Actor, offer: Offer, verb: str, details: dict) -> None:
    audit_record(
        actor=actor,
        action=f"proactive.offer.{verb}",
        subject_type="offer",
        subject_id=str(offer.pk),
        case_id=str(offer.case_id or ""),
        details={"rule": offer.rule.code, "action": offer.action, **details},
    )
    event_emit(
        f"offer.{verb}",
        {
            "offer_id": str(offer.pk),
            "rule": offer.rule.code,
            "action": offer.action,
            "case_id": str(offer.case_id or ""),
            "items_later": list(offer.items_later or []),
        },
        subject_type="offer",
        subject_id=str(offer.pk),
    )


# --- the daily milestone sweep -----------------------------------------------------------------------------


def milestone_dates(today: dt.date) -> dict[str, list[dt.date]]:
    """For each person milestone, the birth dates that reach it on ``today``."""
    return {kind: birth_dates_reaching(today, months) for kind, months in PERSON_MILESTONES.items()}


def _apply_new(events: list[LifeEvent], rules_by_kind: dict, actor: Actor) -> tuple[int, int]:
    offers = failures_before = 0
    failures_before = RuleRun.objects.filter(outcome=RuleRun.Outcome.FAILED).count() if events else 0
    for event in events:
        offers += len(rules_apply(life_event=event, actor=actor, rules=rules_by_kind.get(event.kind, ())))
    failures = (
        RuleRun.objects.filter(outcome=RuleRun.Outcome.FAILED).count() - failures_before if events else 0
    )
    return offers, failures


def _persons_sweep(today, run_id, rules_by_kind, batch_size, actor) -> tuple[int, int, int]:
    dates = milestone_dates(today)
    kinds_by_date: dict[dt.date, list[str]] = {}
    for kind, days in dates.items():
        for day in days:
            kinds_by_date.setdefault(day, []).append(kind)
    if not kinds_by_date:
        return 0, 0, 0
    key = today.isoformat()
    recorded = offers = failures = 0
    # Keyset pagination over the few persons born on those dates: memory is bounded by the batch size.
    rows = (
        Person.objects.filter(birth_date__in=list(kinds_by_date))
        .order_by("pk")
        .values_list("pk", "birth_date")
    )
    last = None
    while True:
        page = rows.filter(pk__gt=last) if last is not None else rows
        chunk = list(page[:batch_size])
        if not chunk:
            break
        last = chunk[-1][0]
        with transaction.atomic():
            new = [
                LifeEvent(
                    person_id=pk,
                    kind=kind,
                    key=key,
                    occurred_on=today,
                    source_id=run_id,
                    data={"birth_date": birth.isoformat()},
                )
                for pk, birth in chunk
                for kind in kinds_by_date[birth]
            ]
            LifeEvent.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
            created = list(
                LifeEvent.objects.filter(
                    source_id=run_id, person_id__in=[pk for pk, _birth in chunk], key=key
                ).select_related("person__household_district")
            )
            recorded += len(created)
            made, failed = _apply_new([e for e in created if rules_by_kind.get(e.kind)], rules_by_kind, actor)
            offers += made
            failures += failed
        if len(chunk) < batch_size:
            break
    return recorded, offers, failures


def _licences_sweep(today, run_id, rules_by_kind, batch_size, actor) -> tuple[int, int, int]:
    from tongban.licences.models import Licence

    until = today + dt.timedelta(days=LICENCE_WINDOW_DAYS)
    rows = (
        Licence.objects.filter(status=Licence.Status.VALID, valid_until__gte=today, valid_until__lte=until)
        .order_by("pk")
        .values_list(
            "pk",
            "holder_person_id",
            "holder_organisation_id",
            "valid_until",
            "number",
            "type__code",
            "type__name_zh",
        )
    )
    recorded = offers = failures = 0
    last = None
    while True:
        page = rows.filter(pk__gt=last) if last is not None else rows
        chunk = list(page[:batch_size])
        if not chunk:
            break
        last = chunk[-1][0]
        with transaction.atomic():
            new = [
                LifeEvent(
                    person_id=person_id,
                    organisation_id=org_id,
                    kind=LifeEventKind.LICENCE_EXPIRING,
                    key=f"{pk}:{valid_until.isoformat()}",
                    occurred_on=today,
                    source_id=run_id,
                    data={
                        "licence_id": str(pk),
                        "licence_number": number,
                        "licence_type": type_code,
                        "licence_name": type_name,
                        "valid_until": valid_until.isoformat(),
                    },
                )
                for pk, person_id, org_id, valid_until, number, type_code, type_name in chunk
            ]
            LifeEvent.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
            created = list(
                LifeEvent.objects.filter(
                    source_id=run_id, kind=LifeEventKind.LICENCE_EXPIRING, key__in=[e.key for e in new]
                ).select_related("person__household_district", "organisation__district")
            )
            recorded += len(created)
            made, failed = _apply_new(created, rules_by_kind, actor)
            offers += made
            failures += failed
        if len(chunk) < batch_size:
            break
    return recorded, offers, failures


def milestones_sweep(*, today: dt.date | None = None, batch_size: int = 5000, actor: Actor = SYSTEM) -> dict:
    """The daily sweep: persons reaching a milestone today and licences expiring within 90 days.

    Selects only the persons born on the few dates that reach a milestone today (an IN query on birth_date),
    a batch at a time, records their life events in bulk (a conflict means recorded before: idempotent), and
    applies the rules to the life events this run recorded. Returns the figures.
    """
    started = time.perf_counter()
    today = today or timezone.localdate()
    run_id = uuid.uuid4()
    rules_by_kind: dict[str, list[ProactiveRule]] = {}
    for rule in ProactiveRule.objects.filter(active=True).order_by("code"):
        rules_by_kind.setdefault(rule.trigger, []).append(rule)
    persons = _persons_sweep(today, run_id, rules_by_kind, batch_size, actor)
    licences = _licences_sweep(today, run_id, rules_by_kind, batch_size, actor)
    figures = {
        "run": str(run_id),
        "today": today.isoformat(),
        "life_events": persons[0] + licences[0],
        "licences_expiring": licences[0],
        "offers": persons[1] + licences[1],
        "failures": persons[2] + licences[2],
        "seconds": round(time.perf_counter() - started, 3),
    }
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="proactive.sweep",
            subject_type="sweep",
            subject_id=str(run_id),
            details=figures,
        )
    return figures


def offers_expire(*, before: dt.datetime, actor: Actor = SYSTEM) -> int:
    """Mark open offers made before ``before`` as expired (not grants: a grant stands until declined)."""
    with transaction.atomic():
        count = Offer.objects.filter(status=Offer.Status.OFFERED, created_at__lt=before).update(
            status=Offer.Status.EXPIRED, updated_at=timezone.now()
        )
        if count:
            audit_record(
                actor=actor, action="proactive.offers.expired", subject_type="offer", details={"count": count}
            )
    return count


__all__ = [
    "life_event_record",
    "milestone_dates",
    "milestones_sweep",
    "offer_accept",
    "offer_decline",
    "offer_form_prefill",
    "offers_expire",
    "recipients_for",
    "registry_read",
    "registry_reads_grant",
    "rule_create",
    "rule_update",
    "rules_apply",
    "service_resolve",
    "subject_context",
]
