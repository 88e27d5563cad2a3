"""The demo city's enterprise figures and policies: industry codes, eight quarters of insured head-count and tax,
tax credit ratings and qualifications, so that some enterprises qualify for the demo's policies (惠企政策) and
show as hidden champions (隐形冠军); then three policies and a first check of the featured enterprises.

Deterministic for a seed, with its own random stream (the registries' stream is left as it was). The figures are
written in bulk like the rest of the seeded registers; the policies through ``proactive.enterprise``'s services,
and the check reads the figures through the data hub as the daily sweep does (the sweep covers every enterprise
each morning; the seed checks the featured ones and a sample, to stay quick).
"""

from __future__ import annotations

import datetime
import random

from django.db.models import Q
from django.utils import timezone

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.exchange.models import (
    BusinessRegistration,
    EmployerQuarterHeadcount,
    EnterpriseQualification,
    TaxQuarterFiling,
    TaxRegistration,
)
from tongban.identity.models import Organisation

from . import reference as ref
from .registries import SCOPES, _Writer

# GB/T 4754-2017 codes of the registries' business scopes, in SCOPES' order.
SCOPE_INDUSTRIES = ("I6513", "F5211", "H6210", "F5181", "E5011", "L7249", "G5431", "F5232")
MANUFACTURING_SCOPE = "精密零部件制造；工业自动化设备研发、制造、销售；技术服务。"
MANUFACTURING_CODES = ("C3484", "C3913", "C4014", "C3562")
RATINGS = (("A", 0.30), ("B", 0.45), ("M", 0.15), ("C", 0.07), ("D", 0.03))
FEATURED_SHARE = 0.03  # of enterprises: fast growers
SAMPLE_CHECKED = 60  # ordinary enterprises the seed checks besides the featured ones
SUBSIDY_ITEM = "enterprise-jobs-subsidy"


def quarters_before(day: datetime.date, count: int = 8) -> list[datetime.date]:
    """The first days of the ``count`` complete quarters before ``day``, oldest first."""
    start = datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    quarters = []
    for _ in range(count):
        month, year = start.month - 3, start.year
        if month < 1:
            month, year = month + 12, year - 1
        start = datetime.date(year, month, 1)
        quarters.append(start)
    return list(reversed(quarters))


def _rating(draw: float) -> str:
    total = 0.0
    for rating, share in RATINGS:
        total += share
        if draw < total:
            return rating
    return "B"


def enterprise_figures_seed(*, seed: int, actor: Actor = SYSTEM, batch_size: int = 5000, today=None) -> dict:
    """Industry codes for every registration, and for each enterprise eight quarters of figures, a credit rating
    and (for some) qualifications. Returns the counts and the featured enterprises' ids."""
    rng = random.Random(f"tongban:{seed}:enterprise-figures")
    today = today or timezone.localdate()
    quarters = quarters_before(today)
    for index, scope in enumerate(SCOPES):
        BusinessRegistration.objects.filter(business_scope=scope).update(
            industry_code=SCOPE_INDUSTRIES[index]
        )
    headcounts = _Writer(EmployerQuarterHeadcount, ["id", "organisation", "quarter", "insured"], batch_size)
    filings = _Writer(TaxQuarterFiling, ["id", "organisation", "quarter", "revenue", "tax_paid"], batch_size)
    qualifications = _Writer(
        EnterpriseQualification, ["id", "organisation", "kind", "number", "valid_until"], batch_size
    )
    demo_code = (
        Organisation.objects.filter(name=ref.DEMO_ENTERPRISE["name"])
        .values_list("credit_code", flat=True)
        .first()
    )
    if (
        demo_code
    ):  # the demo enterprise is a live, growing one: its agent's space shows what the policies found
        BusinessRegistration.objects.filter(organisation__credit_code=demo_code).update(status="active")
    enterprises = list(
        Organisation.objects.filter(
            org_type=Organisation.Type.ENTERPRISE, business_registration__status="active"
        )
        .order_by("pk")
        .values_list("pk", "credit_code")
    )
    featured, ratings = [], {rating: [] for rating, _share in RATINGS}
    for pk, credit_code in enterprises:
        star = credit_code == demo_code or rng.random() < FEATURED_SHARE
        people = max(15 if star else 3, int(rng.lognormvariate(2.6, 0.9)))
        tax = max(0.5, people * rng.uniform(0.3, 1.2))
        for quarter in quarters:
            growth = rng.uniform(0.07, 0.14) if star else rng.uniform(-0.04, 0.05)
            people = max(1, round(people * (1 + growth)))
            tax = max(0.1, tax * (1 + growth + rng.uniform(-0.02, 0.04)))
            headcounts.add((uuid_hex(rng), pk.hex, quarter.isoformat(), people))
            revenue = tax * rng.uniform(10, 20)
            filings.add((uuid_hex(rng), pk.hex, quarter.isoformat(), f"{revenue:.2f}", f"{tax:.2f}"))
        rating = ("A" if rng.random() < 0.7 else "B") if star else _rating(rng.random())
        ratings[rating].append(pk)
        kinds = []
        if star:
            featured.append(pk)
            kinds = rng.sample(
                ["high_tech", "specialised", "little_giant", "tech_sme"], k=1 + int(rng.random() * 2)
            )
        elif rng.random() < 0.03:
            kinds = ["high_tech"]
        for kind in kinds:
            valid = today + datetime.timedelta(days=200 + int(rng.random() * 900))
            number = f"{kind[:2].upper()}{today.year}{credit_code[-8:]}"
            qualifications.add((uuid_hex(rng), pk.hex, kind, number, valid.isoformat()))
    for writer in (headcounts, filings, qualifications):
        writer.flush()
    for rating, pks in ratings.items():
        for start in range(0, len(pks), 500):
            TaxRegistration.objects.filter(organisation_id__in=pks[start : start + 500]).update(
                credit_rating=rating
            )
    # Most fast growers make things (the city's specialised manufacturers); the rest keep their trade.
    for index, pk in enumerate(featured):
        if index % 3 != 2:
            BusinessRegistration.objects.filter(organisation_id=pk).update(
                business_scope=MANUFACTURING_SCOPE,
                industry_code=MANUFACTURING_CODES[index % len(MANUFACTURING_CODES)],
            )
    counts = {
        "headcount_quarters": headcounts.written,
        "tax_filings": filings.written,
        "qualifications": qualifications.written,
        "featured": len(featured),
    }
    audit_record(
        actor=actor, action="registries.seed", subject_type="registry", details={"enterprise_figures": counts}
    )
    return {**counts, "featured_ids": featured}


def uuid_hex(rng: random.Random) -> str:
    """A random UUID (version 4 layout) from the seeded stream."""
    value = rng.getrandbits(128)
    value &= ~(0xF000 << 64)
    value |= 0x4000 << 64
    value &= ~(0xC000 << 48)
    value |= 0x8000 << 48
    return f"{value:032x}"


def _subsidy_item_ensure(actor: Actor):
    from tongban.catalog import services as catalog
    from tongban.catalog.models import ItemType, PublicationStatus, ServiceObject
    from tongban.catalog.selectors import item_get
    from tongban.identity.selectors import department_get

    found = item_get(SUBSIDY_ITEM, published=False)
    if found is not None:
        return found
    return catalog.item_create(
        actor=actor,
        code=SUBSIDY_ITEM,
        basic_code=SUBSIDY_ITEM,
        name_zh="企业稳岗返还",
        name_en="Job-retention refund for enterprises",
        item_type=ItemType.PAYMENT,
        service_object=ServiceObject.ORGANISATION,
        legal_basis="《失业保险条例》第十七条；《关于做好失业保险稳岗位提技能防失业工作的通知》",
        legal_basis_en=(
            "Regulations on Unemployment Insurance, Art. 17; Notice on Unemployment Insurance Support for Keeping"
            " Jobs, Raising Skills and Preventing Unemployment"
        ),
        department=department_get("hrss"),
        legal_limit_days=20,
        promised_limit_days=10,
        handling_modes=["online"],
        result_type="record",
        result_name="稳岗返还",
        result_name_en="Job-retention refund",
        form_schema={
            "type": "object",
            "properties": {
                "company_name": {"type": "string", "title": "单位名称", "title_en": "Enterprise"},
                "credit_code": {"type": "string", "title": "统一社会信用代码", "title_en": "Credit code"},
            },
            "required": ["company_name", "credit_code"],
        },
        materials=[],
        status=PublicationStatus.PUBLISHED,
    )


DEMO_POLICIES = (
    {
        "code": "manufacturing-jobs",
        "name_zh": "制造业企业稳岗扩岗补贴",
        "name_en": "Job subsidy for growing manufacturers",
        "summary": "制造业企业参保人数达到20人、纳税信用A级或B级的，按新增参保人数给予补贴。",
        "legal_basis": "《关于促进制造业高质量发展的若干政策措施》",
        "condition": 'industry_section == "C" and headcount >= 20 and tax_credit_rating in ["A", "B"]',
        "action": "notify",
    },
    {
        "code": "high-tech-reward",
        "name_zh": "高新技术企业研发投入奖励",
        "name_en": "R&D reward for high-tech enterprises",
        "summary": "有效期内的高新技术企业、近四季度纳税增长10%以上的，给予研发投入奖励。",
        "legal_basis": "《高新技术企业认定管理办法》；本市科技创新支持政策",
        "condition": '"high_tech" in qualifications and tax_growth >= 10',
        "action": "notify",
    },
    {
        "code": "jobs-refund",
        "name_zh": "稳岗返还（免申即享）",
        "name_en": "Job-retention refund (granted without application)",
        "summary": "参保人数一年增长20%以上、纳税信用不为C或D级的企业，稳岗返还直接兑现，无需申请。",
        "legal_basis": "《失业保险条例》第十七条",
        "condition": 'headcount_growth >= 20 and headcount >= 10 and not tax_credit_rating in ["C", "D"]',
        "action": "grant",
        "service": SUBSIDY_ITEM,
    },
)


def enterprise_policies_demo_ensure(*, actor: Actor = SYSTEM, featured_ids=(), today=None) -> dict:
    """The demo's policies (idempotent), their grants, and a first check of the featured enterprises and a
    sample of the others (the daily sweep checks every enterprise)."""
    from tongban.enterprise.services import enterprise_reads_grant as certificate_reads_grant
    from tongban.identity.selectors import department_get
    from tongban.proactive.enterprise import enterprise_profile_check, enterprise_reads_grant, policy_create
    from tongban.proactive.selectors import policy_get

    enterprise_reads_grant(actor=actor)  # 惠企政策: the policies read the registers
    certificate_reads_grant(actor=actor)  # 法人一证通: the authority checks legal representatives
    _subsidy_item_ensure(actor)
    made = 0
    for spec in DEMO_POLICIES:
        if policy_get(spec["code"]) is None:
            policy_create(actor=actor, department=department_get("hrss"), **spec)
            made += 1
    today = today or timezone.localdate()
    sample = list(
        Organisation.objects.filter(org_type=Organisation.Type.ENTERPRISE)
        .filter(Q(pk__in=list(featured_ids)) | Q(business_registration__status="active"))
        .order_by("pk")
        .values_list("pk", flat=True)[: len(featured_ids) + SAMPLE_CHECKED]
    )
    wanted = list(dict.fromkeys([*featured_ids, *sample]))
    offers = 0
    for organisation in Organisation.objects.filter(pk__in=wanted):
        offers += len(
            enterprise_profile_check(
                organisation=organisation, key=f"sweep:{today}", today=today, actor=actor
            )
        )
    return {"policies": made, "checked": len(wanted), "offers": offers}


def business_licences_seed(*, actor: Actor = SYSTEM, batch_size: int = 1000) -> int:
    """The business licence (营业执照) of every registered, live market entity as an e-licence in the store
    (``licences_import_existing``: signed by market regulation, no event), so that the data hub finds it when an
    enterprise applies (what a city has after collecting its existing licences, 存量证照归集). Once: entities
    holding one already are left out."""
    from tongban.identity.selectors import department_get
    from tongban.licences.models import Licence
    from tongban.licences.services import licences_import_existing

    holding = Licence.objects.filter(type__code="business-licence", holder_organisation__isnull=False)
    registrations = (
        BusinessRegistration.objects.filter(status=BusinessRegistration.Status.ACTIVE)
        .exclude(organisation_id__in=holding.values("holder_organisation_id"))
        .select_related("organisation__legal_representative", "organisation__district")
        .order_by("organisation_id")
    )

    def holders():
        for registration in registrations.iterator(chunk_size=batch_size):
            organisation = registration.organisation
            representative, district = organisation.legal_representative, organisation.district
            data = {
                "company_name": organisation.name,
                "credit_code": organisation.credit_code,
                "legal_representative": representative.name if representative else "",
                "business_address": f"上海市{district.name}" if district else "上海市",
                "business_scope": registration.business_scope,
            }
            if registration.registered_capital:  # an individual business has none
                data["registered_capital"] = str(registration.registered_capital)
            if organisation.org_type == Organisation.Type.INDIVIDUAL_BUSINESS and representative:
                data["applicant_name"] = representative.name  # 经营者
            yield organisation, data

    return licences_import_existing(
        actor=actor,
        type="business-licence",
        department=department_get("market-regulation"),
        holders=holders(),
        batch_size=batch_size,
    )


def enterprise_demo_ensure(*, seed: int, actor: Actor = SYSTEM, batch_size: int = 5000) -> dict:
    figures = enterprise_figures_seed(seed=seed, actor=actor, batch_size=batch_size)
    featured = figures.pop("featured_ids")
    licences = business_licences_seed(actor=actor)
    return {
        **figures,
        "business_licences": licences,
        **enterprise_policies_demo_ensure(actor=actor, featured_ids=featured),
    }


__all__ = [
    "business_licences_seed",
    "enterprise_demo_ensure",
    "enterprise_figures_seed",
    "enterprise_policies_demo_ensure",
]
