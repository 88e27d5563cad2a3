"""惠企政策: policies written as rules on enterprises' figures, read through the data hub with grants; matched on
a register change and in the daily sweep; told with why, offered, or granted without application."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tongban.catalog import services as catalog
from tongban.catalog.models import PublicationStatus
from tongban.core.audit import SYSTEM
from tongban.core.events import event_deliver
from tongban.core.ids import make_credit_code
from tongban.exchange import registry_services as registers
from tongban.exchange.models import SharingGrant
from tongban.identity import services as identity
from tongban.identity.models import AdminUnit
from tongban.identity.selectors import actor_for, department_get
from tongban.messaging.models import Message
from tongban.proactive.enterprise import enterprise_reads_grant, policies_sweep, policy_create
from tongban.proactive.models import LifeEvent, Offer
from tongban.proactive.selectors import policy_list_with_counts, rule_dry_run
from tongban.workflow.services import definitions_ensure_builtin, forget_department_cache

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 1)
QUARTERS = [
    dt.date(2024, 10, 1),
    *[dt.date(2025, m, 1) for m in (1, 4, 7, 10)],
    *[dt.date(2026, m, 1) for m in (1, 4, 7)],
]


def enterprise_with_figures(number, name, *, industry, heads, tax, rating="A", district="310104"):
    org = identity.organisation_create(
        actor=SYSTEM,
        credit_code=make_credit_code(district, number),
        name=name,
        district=AdminUnit.objects.get(code=district),
    )
    registers.business_register(
        actor=SYSTEM,
        organisation=org,
        business_scope="制造",
        registered_on=dt.date(2016, 5, 1),
        industry_code=industry,
    )
    registers.tax_register(actor=SYSTEM, organisation=org, registered_on=dt.date(2016, 5, 10))
    registers.tax_credit_rate(actor=SYSTEM, organisation=org, rating=rating)
    for quarter, people, paid in zip(QUARTERS, heads, tax, strict=True):
        registers.employer_quarter_report(actor=SYSTEM, organisation=org, quarter=quarter, insured=people)
        registers.tax_quarter_file(
            actor=SYSTEM,
            organisation=org,
            quarter=quarter,
            revenue=Decimal(paid) * 12,
            tax_paid=Decimal(paid),
        )
    return org


@pytest.fixture
def enterprises(city, messaging_templates):
    enterprise_reads_grant()
    growing = enterprise_with_figures(
        "MA1G0001",
        "上海增长科技有限公司",
        industry="C3913",
        heads=[20, 22, 25, 28, 30, 36, 40, 45],
        tax=[10, 11, 12, 13, 15, 18, 20, 24],
    )
    flat = enterprise_with_figures(
        "MA1F0002",
        "上海平稳商贸有限公司",
        industry="F5123",
        heads=[8, 8, 8, 8, 8, 8, 8, 8],
        tax=[2, 2, 2, 2, 2, 2, 2, 2],
        rating="B",
    )
    return growing, flat


@pytest.fixture
def designer_actor(city):
    user = identity.user_create(
        actor=SYSTEM, username="policy.designer", password="x-pass-2026", check_password=False
    )
    identity.staff_create(
        actor=SYSTEM, user=user, department=department_get("market-regulation"), roles=["service_designer"]
    )
    return actor_for(user, second_factor=True)


MANUFACTURING = 'industry_section == "C" and headcount >= 20 and tax_credit_rating in ["A", "B"]'


def test_a_notify_policy_tells_the_eligible_enterprise_why_and_not_the_other(enterprises, designer_actor):
    growing, flat = enterprises
    policy = policy_create(
        actor=designer_actor,
        code="manufacturing-jobs",
        name_zh="制造业稳岗补贴",
        department=department_get("market-regulation"),
        condition=MANUFACTURING,
        action="notify",
    )
    assert policies_sweep(today=TODAY) == {"checked": 2, "offers": 1}
    offer = Offer.objects.get(rule=policy.rule)
    assert offer.organisation == growing
    message = Message.objects.get(pk=offer.message_id)
    assert "行业门类：C" in message.body and "参保人数：45" in message.body  # words, not the rule's names
    assert not Message.objects.filter(organisation=flat, topic="enterprise").exists()
    # Once per enterprise: a second sweep (another day) tells nobody again.
    assert policies_sweep(today=TODAY + dt.timedelta(days=1))["offers"] == 0
    counts = policy_list_with_counts().get(pk=policy.pk)
    assert (counts.n_total, counts.n_notified) == (1, 1)


def test_the_figures_are_read_through_the_hub_and_a_missing_grant_finds_nobody(enterprises, designer_actor):
    policy_create(
        actor=designer_actor,
        code="p1",
        name_zh="测试",
        department=department_get("market-regulation"),
        condition="headcount >= 1",
        action="notify",
    )
    SharingGrant.objects.filter(resource__code="employer-headcount").update(
        status=SharingGrant.Status.REVOKED
    )
    policies_sweep(today=TODAY)
    assert not Offer.objects.exists()
    event = LifeEvent.objects.filter(kind="enterprise_profile").first()
    assert event.data["refused"] is True and event.data["headcount"] is None


def test_the_dry_run_shows_each_enterprise_with_the_values_the_condition_reads(enterprises, designer_actor):
    policies_sweep(today=TODAY)  # no policy yet: the figures are kept for the analytics and dry runs
    result = rule_dry_run(trigger="enterprise_profile", condition=MANUFACTURING, today=TODAY)
    assert (result["candidates"], result["matched"]) == (2, 1)
    row = next(r for r in result["rows"] if r.matched)
    assert row.values == {"industry_section": "C", "headcount": 45.0, "tax_credit_rating": "A"}
    bad = rule_dry_run(trigger="enterprise_profile", condition="headcount >= ", today=TODAY)
    assert bad["error"]
    assert not Offer.objects.exists()  # a dry run acts on nothing


def test_a_register_change_matches_at_once(enterprises, designer_actor):
    growing, _flat = enterprises
    event_deliver()  # the registers' own events of the fixture: no policy listens yet, nothing is read
    assert not LifeEvent.objects.filter(kind="enterprise_profile").exists()
    policy = policy_create(
        actor=designer_actor,
        code="high-tech",
        name_zh="高新技术企业奖励",
        department=department_get("market-regulation"),
        condition='"high_tech" in qualifications and headcount_growth >= 20',
        action="notify",
    )
    registers.qualification_record(
        actor=SYSTEM,
        organisation=growing,
        kind="high_tech",
        number="GR202631000123",
        valid_until=dt.date(2029, 12, 1),
    )
    event_deliver()
    assert Offer.objects.get(rule=policy.rule).organisation == growing


def test_a_policy_granted_without_application_is_a_completed_case(enterprises, designer_actor):
    from tongban.cases.models import Case

    growing, _flat = enterprises
    forget_department_cache()
    definitions_ensure_builtin(actor=SYSTEM)
    catalog.item_create(
        actor=SYSTEM,
        code="test-jobs-subsidy",
        basic_code="test-jobs-subsidy",
        name_zh="稳岗补贴（测试）",
        name_en="Jobs subsidy (test)",
        item_type="public_service",
        legal_basis="《失业保险条例》",
        department=department_get("hrss"),
        legal_limit_days=20,
        promised_limit_days=10,
        handling_modes=["online"],
        result_type="record",
        result_name="稳岗补贴",
        form_schema={
            "type": "object",
            "properties": {
                "company_name": {"type": "string", "title": "单位名称"},
                "credit_code": {"type": "string", "title": "统一社会信用代码"},
            },
            "required": ["company_name", "credit_code"],
        },
        materials=[],
        status=PublicationStatus.PUBLISHED,
    )
    policy = policy_create(
        actor=designer_actor,
        code="jobs-grant",
        name_zh="稳岗返还免申即享",
        department=department_get("market-regulation"),
        condition='headcount_growth >= 20 and revenue_band != "micro"',
        action="grant",
        service="test-jobs-subsidy",
    )
    policies_sweep(today=TODAY)
    offer = Offer.objects.get(rule=policy.rule)
    case = Case.objects.get(pk=offer.case_id)
    assert (case.status, case.applicant_organisation) == (Case.Status.COMPLETED, growing)
    assert case.form_data["credit_code"] == growing.credit_code


def test_only_a_service_designer_writes_policies_and_a_bad_condition_is_refused(
    enterprises, designer_actor, citizen
):
    with pytest.raises(PermissionDenied):
        policy_create(
            actor=actor_for(citizen),
            code="x",
            name_zh="x",
            department=department_get("market-regulation"),
            condition="headcount > 1",
            action="notify",
        )
    with pytest.raises(ValidationError) as refused:
        policy_create(
            actor=designer_actor,
            code="y",
            name_zh="y",
            department=department_get("market-regulation"),
            condition="headcont > 1",
            action="notify",
        )
    assert "condition" in refused.value.message_dict


def test_an_offer_policy_offers_a_prefilled_application(enterprises, designer_actor):
    growing, _flat = enterprises
    forget_department_cache()
    definitions_ensure_builtin(actor=SYSTEM)
    catalog.item_create(
        actor=SYSTEM,
        code="test-rd-reward",
        basic_code="test-rd-reward",
        name_zh="研发奖励（测试）",
        name_en="R&D reward (test)",
        item_type="payment",
        service_object="organisation",
        legal_basis="测试",
        department=department_get("market-regulation"),
        legal_limit_days=20,
        promised_limit_days=10,
        handling_modes=["online"],
        result_type="record",
        result_name="研发奖励",
        form_schema={
            "type": "object",
            "properties": {
                "company_name": {"type": "string", "title": "单位名称"},
                "credit_code": {"type": "string", "title": "统一社会信用代码"},
                "project": {"type": "string", "title": "研发项目"},
            },
            "required": ["company_name", "credit_code", "project"],
        },
        materials=[],
        status=PublicationStatus.PUBLISHED,
    )
    policy = policy_create(
        actor=designer_actor,
        code="rd-offer",
        name_zh="研发奖励",
        department=department_get("market-regulation"),
        condition="tax_growth >= 20",
        action="offer",
        service="test-rd-reward",
    )
    policies_sweep(today=TODAY)
    offer = Offer.objects.get(rule=policy.rule)
    assert (offer.organisation, offer.status) == (growing, Offer.Status.OFFERED)
    assert offer.prefilled == {"company_name": growing.name, "credit_code": growing.credit_code}


def test_the_policy_api_writes_a_policy_refuses_a_bad_condition_and_counts(
    client, enterprises, designer_actor
):
    from tongban.identity.tests.fixtures import login_with_second_factor

    login_with_second_factor(client, designer_actor.user)
    body = {
        "code": "api-policy",
        "name_zh": "接口政策",
        "department": "market-regulation",
        "condition": "headcount >= 40",
        "action": "notify",
    }
    bad = client.post(
        "/api/v1/proactive/policies/", {**body, "condition": "headcount >="}, content_type="application/json"
    )
    assert bad.status_code == 400 and "condition" in bad.json()["errors"]
    made = client.post("/api/v1/proactive/policies/", body, content_type="application/json")
    assert made.status_code == 201, made.content
    policies_sweep(today=TODAY)
    [listed] = client.get("/api/v1/proactive/policies/").json()
    assert (listed["rule"], listed["counts"]["notified"]) == ("policy-api-policy", 1)
