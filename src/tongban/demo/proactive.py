"""The demo's proactive rules, and the journeys of the demo citizens that predate the event stream.

``proactive_rules_demo_ensure`` creates the missing rules (idempotent; an existing rule is left as a designer
changed it). ``proactive_demo_journeys_ensure`` catches up, for the seeded city, what the registry events would
have triggered had they happened on the platform: 王秀英 turned 65 (the elderly allowance, 免申即享) and
上海通办示范科技有限公司 was registered (the enterprise notices). The newborn journey needs no catch-up: a
birth registered by health staff emits ``person.born`` and the mother's inbox gets the offer.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from tongban.core.audit import SYSTEM, Actor
from tongban.proactive.models import LifeEventKind as K
from tongban.proactive.models import ProactiveRule

A = ProactiveRule.Action

# code, name_zh, name_en, trigger, condition, action, topic, template, service, once per recipient
DEMO_RULES = [
    (
        "newborn-bundle",
        "出生一件事主动推送",
        "Newborn bundle offer",
        K.BIRTH_REGISTERED,
        'sex == "F"',
        A.OFFER,
        "newborn",
        "newborn-offer",
        "newborn",
        False,
    ),
    (
        "vaccination-2-months",
        "两月龄疫苗接种提醒",
        "Vaccination reminder at 2 months",
        K.CHILD_2_MONTHS,
        "",
        A.NOTIFY,
        "vaccination",
        "vaccination-reminder",
        "",
        False,
    ),
    (
        "kindergarten-at-3",
        "幼儿园入园登记推送",
        "Kindergarten enrolment at 3",
        K.CHILD_3_YEARS,
        "",
        A.OFFER,
        "education",
        "kindergarten-offer",
        "kindergarten-enrolment",
        False,
    ),
    (
        "primary-school-at-6",
        "小学入学登记推送",
        "Primary school enrolment at 6",
        K.CHILD_6_YEARS,
        "",
        A.OFFER,
        "education",
        "primary-school-offer",
        "primary-school-enrolment",
        False,
    ),
    (
        "enterprise-tax-registration",
        "新办企业税务登记提醒",
        "Tax registration for a new enterprise",
        K.BUSINESS_REGISTERED,
        "",
        A.NOTIFY,
        "enterprise",
        "enterprise-tax-registration",
        "",
        False,
    ),
    (
        "enterprise-social-insurance",
        "新办企业社保开户提醒",
        "Social-insurance account for a new enterprise",
        K.BUSINESS_REGISTERED,
        "",
        A.OFFER,
        "enterprise",
        "enterprise-social-insurance",
        "employer-social-insurance-registration",
        False,
    ),
    (
        "enterprise-hiring-subsidy",
        "新办企业吸纳就业补贴提醒",
        "Hiring subsidies for a new enterprise",
        K.BUSINESS_REGISTERED,
        'org_type in ["enterprise", "individual"]',
        A.NOTIFY,
        "enterprise",
        "hiring-subsidy",
        "",
        False,
    ),
    (
        "elderly-allowance",
        "老年综合津贴免申即享",
        "Elderly allowance without application",
        K.AGE_65,
        'district =~ "^3101"',
        A.GRANT,
        "elderly",
        "elderly-allowance-granted",
        "senior-allowance",
        True,
    ),
    (
        "licence-expiry",
        "证照到期提醒",
        "Licence expiry reminder",
        K.LICENCE_EXPIRING,
        "days_to_expiry <= 90",
        A.NOTIFY,
        "licence-expiry",
        "licence-expiry",
        "",
        False,
    ),
]


def proactive_rules_demo_ensure(*, actor: Actor = SYSTEM) -> int:
    """Create the demo rules that are missing (needs the demo catalogue); returns how many were made."""
    from tongban.proactive.services import rule_create, service_resolve

    existing = set(ProactiveRule.objects.values_list("code", flat=True))
    made = 0
    for code, name_zh, name_en, trigger, condition, action, topic, template, service, once in DEMO_RULES:
        if code in existing:
            continue
        if service and service_resolve(service) is None:
            # The catalogue lacks the item: tell rather than offer.
            action, service = A.NOTIFY, ""
        rule_create(
            actor=actor,
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            trigger=trigger,
            condition=condition,
            action=action,
            topic=topic,
            template=template,
            service=service,
            once_per_subject=once,
        )
        made += 1
    return made


@transaction.atomic
def proactive_demo_journeys_ensure() -> int:
    """Life events of the seeded demo citizens (65th birthday, a registered enterprise), then the rules."""
    from tongban.identity.models import Organisation, Person
    from tongban.proactive.milestones import PERSON_MILESTONES, birth_dates_reaching
    from tongban.proactive.services import BUSINESS_RESOURCE, life_event_record, registry_read, rules_apply

    made = 0
    elder = Person.objects.filter(user__username="wang.xiuying").select_related("household_district").first()
    if elder is not None:
        months = PERSON_MILESTONES[K.AGE_65]
        turned = dt.date(elder.birth_date.year + months // 12, elder.birth_date.month, 1)
        for day in range(1, 32):  # the day of 65th birthday (Civil Code month ends)
            try:
                candidate = turned.replace(day=day)
            except ValueError:
                break
            if elder.birth_date in birth_dates_reaching(candidate, months):
                turned = candidate
                break
        event, _created = life_event_record(
            kind=K.AGE_65, key=turned.isoformat(), occurred_on=turned, person=elder, data={"catch_up": True}
        )
        made += len(rules_apply(life_event=event))
    for organisation in Organisation.objects.filter(agents__username="zhang.wei").select_related("district"):
        # The business register is market regulation's: read through the hub like any other department.
        registration = registry_read(
            resource=BUSINESS_RESOURCE, subject_key=organisation.credit_code, fields=["registered_on"]
        )
        if not registration or not registration.get("registered_on"):
            continue
        event, _created = life_event_record(
            kind=K.BUSINESS_REGISTERED,
            key=f"business:{organisation.pk}",
            occurred_on=dt.date.fromisoformat(registration["registered_on"]),
            organisation=organisation,
            data={"catch_up": True, "credit_code": organisation.credit_code},
        )
        made += len(rules_apply(life_event=event))
    return made
