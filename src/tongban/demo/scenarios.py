"""The demo's services and a few cases in flight, so a visitor finds work in the inboxes and a case to rate.

``demo_services_ensure`` is idempotent and runs on every ``tongban demo`` start, also on a city seeded before
the catalogue existed: staff accounts, the service catalogue, the shipped BPMN processes, and (once) the demo
cases, made through the same services that pages use.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.cases.evidence import CHECK_PURPOSE
from tongban.cases.models import Case
from tongban.cases.services import case_accept, case_submit, case_task_complete
from tongban.catalog.selectors import bundle_get, item_get
from tongban.catalog.services import required_materials
from tongban.core.audit import SYSTEM, Actor
from tongban.demo.catalog import NEWBORN_BUNDLE, REAL_ESTATE_BUNDLE, catalog_demo_ensure
from tongban.demo.registries import DEMO_UNITS
from tongban.demo.sample import sample_form_data
from tongban.identity.models import Person, Staff, User
from tongban.identity.selectors import actor_for
from tongban.workflow.models import Task
from tongban.workflow.services import definitions_ensure_builtin

DEMO_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _uploads(service, form):
    """Only what no department holds: the rest the case obtains from the registries and e-licences itself."""
    return {
        m.code: SimpleUploadedFile(f"{m.code}.pdf", DEMO_PDF, content_type="application/pdf")
        for m in required_materials(service, form)
        if m.satisfied_by == "upload"
    }


def _work_through(case) -> None:
    """Complete every step of a case, each by a demo staff member of the step's department and role."""
    for _round in range(10):
        tasks = list(Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES))
        if not tasks:
            return
        for task in tasks:
            staff = (
                Staff.objects.filter(
                    department_id=task.department_id, roles__code__in=[task.role, "dept_head"], active=True
                )
                .select_related("user")
                .first()
            )
            if staff is None:
                return
            case_task_complete(
                actor=actor_for(staff.user), task_id=task.pk, decision="approve", opinion="材料齐全，同意。"
            )


def _complete(case, step: str, username: str) -> None:
    task = Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)
    case_task_complete(
        actor=actor_for(User.objects.get(username=username)),
        task_id=task.pk,
        decision="approve",
        opinion="材料齐全，同意。",
    )


def demo_cases_ensure() -> int:
    """Three cases (once): a newborn bundle at the household step, a real-estate transfer accepted at a Pudong
    window for a Huangpu buyer (three departments at work in parallel), and a completed ID-card renewal to rate."""
    if Case.objects.filter(idempotency_key__startswith="demo-").exists():
        return 0
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["chen.jing", "li.ming", "wang.xiuying", "clerk.pudong"])
    }
    if len(users) < 4:
        return 0
    persons = {
        p.user.username: p for p in Person.objects.filter(user__in=users.values()).select_related("user")
    }
    made = 0

    newborn = bundle_get(NEWBORN_BUNDLE)
    form = sample_form_data(newborn.form_schema, person=persons["chen.jing"])
    # 陈静 and 李明 are married in the marriage register: the form says so.
    form.update(
        {"baby_name": "李安安", "mother_name": "陈静", "father_name": "李明", "parents_married": True}
    )
    form["father_resident_id"] = persons["li.ming"].resident_id
    form["mother_resident_id"] = persons["chen.jing"].resident_id
    case = case_submit(
        actor=actor_for(users["chen.jing"]),
        service=newborn,
        form_data=form,
        files=_uploads(newborn, form),
        idempotency_key="demo-newborn",
    )
    _complete(case, "birth_certificate", "handler.health")
    made += 1

    estate = bundle_get(REAL_ESTATE_BUNDLE)
    form = sample_form_data(estate.form_schema, person=persons["li.ming"])
    form.update(
        {"buyer_name": "李明", "buyer_resident_id": persons["li.ming"].resident_id, "seller_name": "王秀英"}
    )
    form["seller_resident_id"] = persons["wang.xiuying"].resident_id
    form["property_unit"] = DEMO_UNITS["wang.xiuying"]  # 王秀英's flat in 静安, free of mortgage and seizure
    form["price"] = 3_800_000
    case_submit(
        actor=actor_for(users["clerk.pudong"]),
        service=estate,
        form_data=form,
        files={},
        window_checked={m.code for m in required_materials(estate, form) if m.satisfied_by == "upload"},
        applicant_person=persons["li.ming"],
        channel=Case.Channel.WINDOW,
        idempotency_key="demo-real-estate",
    )
    made += 1

    renewal = item_get("resident-id-card-renewal")
    if renewal is not None:
        form = sample_form_data(renewal.form_schema, person=persons["wang.xiuying"])
        case = case_submit(
            actor=actor_for(users["wang.xiuying"]),
            service=renewal,
            form_data=form,
            files=_uploads(renewal, form),
            idempotency_key="demo-id-renewal",
        )
        if case.status == Case.Status.SUBMITTED:
            case_accept(actor=actor_for(User.objects.get(username="clerk.huangpu")), case=case)
        _work_through(case)
        made += 1
    return made


def _clock_due_on(due, limit_days: int):
    """An SLA clock of ``limit_days`` working days, started on the day that makes it due on ``due``."""
    import datetime as dt

    from tongban.core import calendar
    from tongban.core.sla import SLAClock

    day = due
    for _ in range(120):
        start = dt.datetime.combine(day, dt.time(9, 30), tzinfo=calendar.SHANGHAI)
        clock = SLAClock.start(start, limit_days)
        if clock.due_date() == due:
            return clock
        day -= dt.timedelta(days=1)
    raise ValueError(f"no start gives a {limit_days}-day clock due on {due}")


def demo_cards_ensure() -> int:
    """Time-limit cards for the supervisor's page (once): the demo newborn case's household step two working
    days past its due date, so the deadline job raises a red card as it would, and a step of the demo real-estate
    transfer on its last working day with a yellow card. The steps' clocks are set as if the cases had been
    accepted that many days ago (a demo story: the rest of each case is as its services left it)."""
    from tongban.core import calendar
    from tongban.supervision.models import Warning
    from tongban.supervision.services import deadlines_check, task_warning_raise

    if Warning.objects.exists():
        return 0
    today = calendar.today()
    last_day = today if calendar.is_working_day(today) else calendar.add_working_days(today, 1)
    late = calendar.add_working_days(today, -2)
    made = 0
    for key, due, level in (("demo-newborn", late, "red"), ("demo-real-estate", last_day, "yellow")):
        case = Case.objects.filter(idempotency_key=key).first()
        task = (
            Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES).order_by("created_at").first()
            if case is not None
            else None
        )
        if task is None or not task.limit_days:
            continue
        clock = _clock_due_on(due, task.limit_days)
        Task.objects.filter(pk=task.pk).update(clock=clock.to_dict(), due_date=clock.due_date())
        if level == "yellow":
            made += int(task_warning_raise(task=Task.objects.get(pk=task.pk), level=level))
    made += sum(value for value in deadlines_check().values() if isinstance(value, int))
    return made


def demo_grants_ensure(*, actor: Actor = SYSTEM) -> int:
    """The standing data-sharing grants the demo's services need (as agreements signed between departments).

    For every material a department obtains from another's registry at acceptance, and for the checks the
    real-estate registration makes (the deed tax recorded by tax), one approved grant for the purpose of checking
    applications. A department reads its own registries without a grant.
    """
    from tongban.catalog.models import Bundle, Material, PublicationStatus, SatisfiedBy
    from tongban.exchange.resources import resource_spec
    from tongban.exchange.services import grant_ensure

    wanted = {("planning-resources", "deed-tax")}
    materials = Material.objects.filter(
        satisfied_by=SatisfiedBy.REGISTRY, item__status=PublicationStatus.PUBLISHED
    )
    for material in materials.select_related("item__department"):
        wanted.add((material.item.department.code, material.evidence))
    for bundle in Bundle.objects.filter(status=PublicationStatus.PUBLISHED).select_related("lead_department"):
        for link in bundle.bundle_items.select_related("item"):
            for material in link.item.materials.filter(satisfied_by=SatisfiedBy.REGISTRY):
                wanted.add((bundle.lead_department.code, material.evidence))
    # Prefill: the resources each published form may be filled from, read by the service's lead department.
    from tongban.cases.prefill import ALL_SOURCES, PREFILL_PURPOSE
    from tongban.catalog.models import ServiceItem

    sources = ALL_SOURCES
    prefill_wanted = set()
    services_ = [*Bundle.objects.filter(status=PublicationStatus.PUBLISHED).select_related("lead_department")]
    services_ += [
        *ServiceItem.objects.filter(status=PublicationStatus.PUBLISHED).select_related("department")
    ]
    for service in services_:
        department = service.lead_department if isinstance(service, Bundle) else service.department
        for name in (service.form_schema or {}).get("properties", {}):
            if name in sources:
                prefill_wanted.add((department.code, sources[name][0]))
    made = 0
    for purpose, pairs in ((CHECK_PURPOSE, wanted), (PREFILL_PURPOSE, prefill_wanted)):
        for department, resource in sorted(pairs):
            spec = resource_spec(resource)
            if spec is None or spec.owner == department or spec.sharing == "not_shared":
                continue
            grant_ensure(actor=actor, department=department, resource=resource, purpose=purpose)
            made += 1
    # Proactive services read the birth and household registers as the platform's department.
    from tongban.proactive.services import registry_reads_grant

    made += registry_reads_grant(actor=actor)
    return made


def demo_tickets_ensure() -> int:
    """The 12345 knowledge base and tickets at every stage of the loop (once):

    - a night-construction complaint routed to 黄浦's urban management (``handler.um.huangpu`` takes it in hand),
      and a second caller about the same site, proposed to the dispatcher as its duplicate;
    - a consultation answered at first contact with an FAQ entry;
    - a street-order complaint the department asked to extend (a complex case waiting for ``supervisor``);
    - a request the model is unsure of, waiting for a dispatcher;
    - 30 days of history (about 300 tickets a day) with a spike today, for the supervisor's overview.
    """
    from tongban.hotline.models import FaqEntry, Ticket
    from tongban.hotline.services import (
        ticket_accept,
        ticket_create,
        ticket_extension_request,
        ticket_supervise,
    )

    from .hotline_faq import demo_faq_ensure

    demo_faq_ensure()
    if Ticket.objects.exists():
        return 0
    operator = User.objects.filter(username="operator.12345").first()
    handler = User.objects.filter(username="handler.um.huangpu").first()
    supervisor = User.objects.filter(username="supervisor").first()
    if operator is None or handler is None or supervisor is None:
        return 0
    operator, handler, supervisor = actor_for(operator), actor_for(handler), actor_for(supervisor)
    from tongban.demo.hotline_history import history_seed
    from tongban.hotline.analytics import spikes_detect

    history_seed()
    spikes_detect()  # the worker does it every hour; the demo shows today's spike at once

    def take(kind, text, district, **extra):
        return ticket_create(
            actor=operator, channel="phone", ticket_type=kind, text=text, district_code=district, **extra
        )

    noise = take(
        "complaint",
        "黄浦区南京东路一处工地每天晚上十一点后还在施工，噪音很大，影响休息",
        "310101",
        address="南京东路",
        contact_name="李明",
        contact_phone="13812345678",
    )
    take(
        "complaint",
        "南京东路那个工地半夜还在施工，吵得睡不着，希望管一管",
        "310101",
        address="南京东路",
        contact_name="陈静",
        contact_phone="13912345678",
    )
    faq = FaqEntry.objects.filter(question="新生儿出生医学证明在哪里办？").first()
    take(
        "consult",
        "孩子出生后出生证明在哪里办？",
        "310101",
        faq=faq.pk if faq else None,
        answer="" if faq else "可在“一网通办”申请出生一件事。",
    )
    stalls = take(
        "complaint",
        "黄浦区福州路夜市占道经营，流动摊贩把人行道全占了，行人只能走机动车道",
        "310101",
        address="福州路",
    )

    if noise.department_id and noise.status == Ticket.Status.DISPATCHED:
        ticket_accept(actor=handler, ticket=noise)
    if stalls.department_id and stalls.status == Ticket.Status.DISPATCHED:
        ticket_accept(actor=handler, ticket=stalls)
        ticket_extension_request(
            actor=handler, ticket=stalls, reason="夜市整治需要与公安、市场监管联合执法，五个工作日内无法办结"
        )
        ticket_supervise(actor=supervisor, ticket=stalls, note="市民多次反映，请一周内拿出整治方案并回复")
    take("help", "我想反映一个情况，具体说起来比较复杂，希望有人联系我", "310115")
    return 6


def demo_services_ensure(*, actor: Actor = SYSTEM) -> dict:
    """Catalogue, licence types, processes, the data catalogue and its grants, and the demo cases; idempotent."""
    from tongban.exchange.services import data_resources_sync
    from tongban.licences.services import licence_types_demo_ensure
    from tongban.messaging.demo import message_templates_demo_ensure

    catalog = catalog_demo_ensure(actor=actor)
    message_templates_demo_ensure(actor=actor)
    licence_types = licence_types_demo_ensure(actor=actor)
    processes = definitions_ensure_builtin(actor=actor)
    data_resources_sync(actor=actor)
    grants = demo_grants_ensure(actor=actor)
    from tongban.demo.proactive import proactive_demo_journeys_ensure, proactive_rules_demo_ensure

    proactive_rules = proactive_rules_demo_ensure(actor=actor)
    cases = demo_cases_ensure()
    demo_cards_ensure()
    proactive_demo_journeys_ensure()  # what the seeded city predates: a 65th birthday, a registered enterprise
    demo_tickets_ensure()
    return {
        "catalog": catalog,
        "licence_types": licence_types,
        "processes": len(processes),
        "grants": grants,
        "proactive_rules": proactive_rules,
        "cases": cases,
    }
