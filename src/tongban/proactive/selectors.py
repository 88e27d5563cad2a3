"""Reads of proactive services, filtered by who asks; the dry run of a rule."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from tongban.catalog.selectors import service_name_get
from tongban.core.masking import mask_name, mask_resident_id
from tongban.identity.models import Organisation, Person

from .milestones import LICENCE_WINDOW_DAYS, PERSON_MILESTONES, birth_dates_reaching
from .models import LifeEvent, LifeEventKind, Offer, ProactiveRule
from .rules import CONTEXT_TYPES, condition_error, condition_matches

DRY_RUN_LIMIT = 200
EVENT_LOOKBACK_DAYS = 30


def _own_q(user) -> Q:
    return Q(person__user=user) | Q(organisation__agents=user)


def offer_list_for_user(user):
    """The offers and grants addressed to the user or to an organisation the user acts for (not notices)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Offer.objects.none()
    return (
        Offer.objects.filter(_own_q(user))
        .exclude(status=Offer.Status.NOTIFIED)
        .select_related("rule", "person", "organisation", "life_event")
        .distinct()
        .order_by("-created_at")
    )


def offer_get_for_user(user, pk) -> Offer | None:
    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        return None
    return offer_list_for_user(user).filter(pk=pk).first()


def offer_is_recipient(user, offer: Offer) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if offer.person_id:
        return offer.person.user_id is not None and offer.person.user_id == user.pk
    return offer.organisation.agents.filter(pk=user.pk).exists()


def rule_get(code: str) -> ProactiveRule | None:
    return ProactiveRule.objects.filter(code=code).first()


def rule_list_with_counts():
    """Every rule with how many offers it made, and how many were accepted, declined, granted, notified."""

    def count(status=None):
        return Count("offers", filter=Q(offers__status=status)) if status else Count("offers")

    rules = list(
        ProactiveRule.objects.annotate(
            sent=count(),
            notified=count(Offer.Status.NOTIFIED),
            offered=count(Offer.Status.OFFERED),
            accepted=count(Offer.Status.ACCEPTED),
            declined=count(Offer.Status.DECLINED),
            granted=count(Offer.Status.GRANTED),
            expired=count(Offer.Status.EXPIRED),
        ).order_by("trigger", "code")
    )
    later = offers_later_counts()
    for rule in rules:
        partly, items = later.get(rule.pk, (0, {}))
        rule.accepted_in_part = partly
        rule.items_later = [
            {"code": code, "name": service_name_get(code) or code, "count": n}
            for code, n in sorted(items.items())
        ]
    return rules


def offers_later_counts() -> dict:
    """Per rule: how many offers were accepted in part, and how often each item was left for later ("not now"):
    ``{rule id: (offers, {item code: offers})}``. Reads only accepted offers of bundle rules."""
    found: dict = {}
    rows = (
        Offer.objects.filter(status=Offer.Status.ACCEPTED)
        .exclude(items_later=[])
        .values_list("rule_id", "items_later")
    )
    for rule_id, items in rows.iterator():
        if not items:
            continue
        partly, counts = found.setdefault(rule_id, [0, Counter()])
        found[rule_id][0] = partly + 1
        counts.update(items)
    return {rule_id: (partly, dict(counts)) for rule_id, (partly, counts) in found.items()}


def _names_in(condition: str) -> list[str]:
    found = set(re.findall(r"(?<![\w.$\"'])([a-z_][a-z0-9_]*)", condition or ""))
    return [name for name in CONTEXT_TYPES if name in found]


@dataclass
class DryRunRow:
    subject: str
    subject_id: str
    values: dict
    matched: bool
    error: str = ""
    recipients: list[str] = field(default_factory=list)
    done_before: bool = False


def _candidates(trigger: str, today: dt.date, limit: int) -> list[LifeEvent]:
    """Today's candidates for ``trigger``, as (unsaved) life events: milestones reached today, licences
    expiring within the window, or the registry life events of the last 30 days."""
    if trigger in PERSON_MILESTONES:
        days = birth_dates_reaching(today, PERSON_MILESTONES[trigger])
        persons = (
            Person.objects.filter(birth_date__in=days).select_related("household_district").order_by("pk")
        )
        return [
            LifeEvent(person=p, kind=trigger, key=today.isoformat(), occurred_on=today)
            for p in persons[:limit]
        ]
    if trigger == LifeEventKind.LICENCE_EXPIRING:
        from tongban.licences.models import Licence

        licences = (
            Licence.objects.filter(
                status=Licence.Status.VALID,
                valid_until__gte=today,
                valid_until__lte=today + dt.timedelta(days=LICENCE_WINDOW_DAYS),
            )
            .select_related("type", "holder_person__household_district", "holder_organisation__district")
            .order_by("valid_until")[:limit]
        )
        return [
            LifeEvent(
                person=lic.holder_person,
                organisation=lic.holder_organisation,
                kind=trigger,
                key=f"{lic.pk}:{lic.valid_until}",
                occurred_on=today,
                data={
                    "licence_type": lic.type.code,
                    "licence_number": lic.number,
                    "valid_until": lic.valid_until.isoformat(),
                },
            )
            for lic in licences
        ]
    since = today - dt.timedelta(days=EVENT_LOOKBACK_DAYS)
    if trigger == LifeEventKind.ENTERPRISE_PROFILE:
        # The latest figures of each enterprise (a sweep a day and each register change record one).
        latest, seen = [], set()
        events = (
            LifeEvent.objects.filter(kind=trigger, occurred_on__gte=since)
            .select_related("organisation__district")
            .order_by("-occurred_on", "-created_at")
        )
        for event in events.iterator(chunk_size=500):
            if event.organisation_id not in seen:
                seen.add(event.organisation_id)
                latest.append(event)
                if len(latest) >= limit:
                    break
        return latest
    return list(
        LifeEvent.objects.filter(kind=trigger, occurred_on__gte=since)
        .select_related("person__household_district", "organisation__district")
        .order_by("-occurred_on")[:limit]
    )


def _label(subject) -> tuple[str, str]:
    if isinstance(subject, Organisation):
        return subject.name, subject.credit_code
    return mask_name(subject.name), mask_resident_id(subject.resident_id)


def rule_dry_run(
    *, trigger: str, condition: str, today: dt.date | None = None, limit: int = DRY_RUN_LIMIT, rule=None
) -> dict:
    """Who would this rule reach today, and why: the candidates with the values the condition reads.

    Acts on nothing. Persons are masked. ``rule`` (saved) lets it say who was already reached.
    """
    from .services import recipients_for, subject_context

    today = today or timezone.localdate()
    error = condition_error(condition)
    if error is not None:
        return {"error": str(error), "position": error.position, "rows": [], "candidates": 0, "matched": 0}
    names = _names_in(condition)
    rows = []
    for event in _candidates(trigger, today, limit):
        subject = event.person or event.organisation
        name, ident = _label(subject)
        try:
            context = subject_context(event)
            matched = condition_matches(condition, context)
            problem = ""
        except Exception as exc:
            context, matched, problem = {}, False, str(getattr(exc, "message", exc))
        values = {
            n: (v.isoformat() if isinstance(v, dt.date) else v) for n, v in context.items() if n in names
        }
        row = DryRunRow(subject=name, subject_id=ident, values=values, matched=matched, error=problem)
        if matched:
            recipients = recipients_for(event)
            row.recipients = [_label(r)[0] for r in recipients]
            if rule is not None and event.pk and event._state.adding is False:
                row.done_before = Offer.objects.filter(rule=rule, life_event=event).exists()
        rows.append(row)
    return {
        "error": "",
        "position": None,
        "names": names,
        "rows": rows,
        "candidates": len(rows),
        "matched": sum(1 for r in rows if r.matched),
    }


def policy_offers_for_user(user):
    """What the policies gave the enterprises the user acts for: notices, offers and grants."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Offer.objects.none()
    return (
        Offer.objects.filter(organisation__agents=user, rule__policy__isnull=False)
        .select_related("rule", "rule__policy", "organisation", "life_event")
        .distinct()
        .order_by("-created_at")
    )


def policy_why(offer: Offer) -> str:
    """Why the enterprise qualified: the facts the policy's condition read when it matched."""
    from .enterprise import why_text

    return why_text(offer.rule.condition, offer.life_event.data or {})


def policy_get(code: str):
    from .models import EnterprisePolicy

    return EnterprisePolicy.objects.select_related("rule", "department").filter(code=code).first()


def policy_list_with_counts():
    """Every policy with how many enterprises were told, offered, granted, accepted or declined."""
    from .models import EnterprisePolicy

    statuses = [s for s, _label in Offer.Status.choices]
    annotations = {
        f"n_{status}": Count("rule__offers", filter=Q(rule__offers__status=status)) for status in statuses
    }
    return (
        EnterprisePolicy.objects.select_related("rule", "department")
        .annotate(n_total=Count("rule__offers"), **annotations)
        .order_by("code")
    )


def enterprise_profiles_latest(*, days: int = 40, today: dt.date | None = None) -> list[LifeEvent]:
    """Each enterprise's latest figures (``enterprise_profile`` life events of the last ``days``), as read through
    the data hub by the sweep or on a register change: the evidence the analytics rank by."""
    from django.db.models import Max

    today = today or timezone.localdate()
    since = today - dt.timedelta(days=days)
    # The daily sweep reads every enterprise: the events since the day before the last sweep's are enough (a few
    # thousand rows, not the whole window's).
    last = LifeEvent.objects.filter(
        kind=LifeEventKind.ENTERPRISE_PROFILE, key__startswith="sweep:"
    ).aggregate(day=Max("occurred_on"))["day"]
    if last is not None:
        since = max(since, last - dt.timedelta(days=1))
    latest, seen = [], set()
    events = (
        LifeEvent.objects.filter(kind=LifeEventKind.ENTERPRISE_PROFILE, occurred_on__gte=since)
        .select_related("organisation__district", "organisation__legal_representative")
        .order_by("-occurred_on", "-created_at")
    )
    for event in events.iterator(chunk_size=500):
        if event.organisation_id not in seen:
            seen.add(event.organisation_id)
            latest.append(event)
    return latest
