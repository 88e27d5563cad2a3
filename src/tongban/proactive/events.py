"""Subscribers: registry events become life events, and life events trigger the proactive rules.

Each handler records its life events keyed on the registry's own record (a birth record, a marriage, an
organisation, a licence), so a replayed or duplicated event records nothing twice, then applies the rules,
which make at most one offer per rule, recipient and occurrence. Delivery is at least once: all idempotent.
"""

from __future__ import annotations

import datetime as dt

from tongban.core.events import subscriber
from tongban.exchange.registry_services import (
    BUSINESS_REGISTERED,
    ENTERPRISE_REGISTER_EVENTS,
    HOUSEHOLD_REGISTERED,
    MARRIAGE_REGISTERED,
    PERSON_BORN,
)
from tongban.identity.models import Organisation, Person

from .models import LifeEventKind
from .services import birth_record_read, life_event_record, rules_apply

LICENCE_ISSUED = "licence.issued"
# Not emitted by any registry yet: the names the employment and civil-affairs registries are expected to use.
UNEMPLOYMENT_REGISTERED = "unemployment.registered"
DEATH_REGISTERED = "death.registered"


def _day(value, event) -> dt.date:
    if value:
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            pass
    return event.created_at.date()


def _record_and_apply(event, *, kind, key, occurred_on, data, person_ids=(), organisation_ids=()) -> None:
    persons = Person.objects.filter(pk__in=[p for p in person_ids if p]).select_related("household_district")
    organisations = Organisation.objects.filter(pk__in=[o for o in organisation_ids if o]).select_related(
        "district"
    )
    for subject in [*persons, *organisations]:
        life_event, _created = life_event_record(
            kind=kind,
            key=key,
            occurred_on=occurred_on,
            source_id=event.pk,
            data=data,
            **({"person": subject} if isinstance(subject, Person) else {"organisation": subject}),
        )
        rules_apply(life_event=life_event)


@subscriber(PERSON_BORN, name="proactive.birth")
def on_person_born(event):
    """A birth: a life event for the mother and for the father, with what the birth record says (read through
    the data hub: a grant for proactive services, and a line in the parents' "who used my data")."""
    payload = dict(event.payload)
    mother = Person.objects.filter(pk=payload.get("mother_id")).first() if payload.get("mother_id") else None
    record = (
        birth_record_read(parent=mother, certificate_number=payload.get("certificate_number") or "")
        if mother is not None
        else None
    )
    if record is not None:
        birth_time = record.get("birth_time")
        payload.update(
            baby_name=record.get("baby_name"),
            weight_g=record.get("weight_g"),
            birth_time=str(birth_time)[:5] if birth_time else None,
        )
    _record_and_apply(
        event,
        kind=LifeEventKind.BIRTH_REGISTERED,
        key=f"birth:{payload.get('birth_record_id') or event.pk}",
        occurred_on=_day(payload.get("birth_date"), event),
        data=payload,
        person_ids=[payload.get("mother_id"), payload.get("father_id")],
    )


@subscriber(HOUSEHOLD_REGISTERED, name="proactive.household")
def on_household_registered(event):
    payload = event.payload
    _record_and_apply(
        event,
        kind=LifeEventKind.HOUSEHOLD_REGISTERED,
        key=f"household:{payload.get('household_id')}",
        occurred_on=_day(None, event),
        data=dict(payload),
        person_ids=[payload.get("person_id")],
    )


@subscriber(MARRIAGE_REGISTERED, name="proactive.marriage")
def on_marriage_registered(event):
    payload = event.payload
    _record_and_apply(
        event,
        kind=LifeEventKind.MARRIAGE_REGISTERED,
        key=f"marriage:{payload.get('marriage_id') or event.pk}",
        occurred_on=_day(payload.get("registered_on"), event),
        data=dict(payload),
        person_ids=[payload.get("party_a_id"), payload.get("party_b_id")],
    )


@subscriber(BUSINESS_REGISTERED, name="proactive.business")
def on_business_registered(event):
    payload = event.payload
    _record_and_apply(
        event,
        kind=LifeEventKind.BUSINESS_REGISTERED,
        key=f"business:{payload.get('organisation_id')}",
        occurred_on=_day(payload.get("registered_on"), event),
        data=dict(payload),
        organisation_ids=[payload.get("organisation_id")],
    )


@subscriber(LICENCE_ISSUED, name="proactive.licence")
def on_licence_issued(event):
    payload = event.payload
    data = {
        "licence_id": payload.get("licence"),
        "licence_number": payload.get("number"),
        "licence_type": payload.get("type"),
        "department": payload.get("department"),
    }
    _record_and_apply(
        event,
        kind=LifeEventKind.LICENCE_ISSUED,
        key=f"licence:{payload.get('licence') or event.pk}",
        occurred_on=_day(None, event),
        data=data,
        person_ids=[payload.get("holder_person")],
        organisation_ids=[payload.get("holder_organisation")],
    )


@subscriber(UNEMPLOYMENT_REGISTERED, name="proactive.unemployment")
def on_unemployment_registered(event):
    payload = event.payload
    _record_and_apply(
        event,
        kind=LifeEventKind.UNEMPLOYMENT_REGISTERED,
        key=f"unemployment:{payload.get('registration_id') or event.pk}",
        occurred_on=_day(payload.get("registered_on"), event),
        data=dict(payload),
        person_ids=[payload.get("person_id")],
    )


@subscriber(DEATH_REGISTERED, name="proactive.death")
def on_death_registered(event):
    """Tell-us-once: the rules on a death address the deceased's record (e.g. to stop a grant)."""
    payload = event.payload
    _record_and_apply(
        event,
        kind=LifeEventKind.DEATH_REGISTERED,
        key=f"death:{payload.get('person_id')}",
        occurred_on=_day(payload.get("died_on"), event),
        data=dict(payload),
        person_ids=[payload.get("person_id")],
    )


def on_enterprise_register_changed(event):
    """A register an enterprise's eligibility depends on changed: check its figures against the policies (once
    per event; the daily sweep catches what an event missed)."""
    from .enterprise import enterprise_profile_check
    from .models import ProactiveRule

    if not ProactiveRule.objects.filter(trigger=LifeEventKind.ENTERPRISE_PROFILE, active=True).exists():
        return  # no policy listens: the daily sweep keeps the figures for the analytics
    organisation = Organisation.objects.filter(pk=event.payload.get("organisation_id")).first()
    if organisation is None:
        return
    enterprise_profile_check(organisation=organisation, key=f"{event.name}:{event.pk}")


for _name in ENTERPRISE_REGISTER_EVENTS:
    subscriber(_name, name="proactive.policies")(on_enterprise_register_changed)
