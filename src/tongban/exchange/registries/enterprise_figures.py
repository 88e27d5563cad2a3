"""Enterprise figures: insured head-count by quarter (hrss), revenue, tax and credit rating (tax), qualifications.

The data 惠企政策 matching and the hidden-champions analytics read, through ``exchange.services.lookup`` like any
other department's data (a grant, a purpose, a data-use record). Figures of an organisation, not of a person.
"""

from __future__ import annotations

from tongban.identity.models import Organisation

from ..models import EmployerQuarterHeadcount, EnterpriseQualification, TaxQuarterFiling, TaxRegistration
from ..resources import Field, ResourceSpec, register_resource
from ._common import key, plain

QUARTERS = 8  # the quarters a lookup returns, newest first


def _organisation_pk(subject_key):
    return Organisation.objects.filter(credit_code=key(subject_key)).values_list("pk", flat=True).first()


def _nobody(subject_key, fields=None):
    return []


def fetch_headcount(subject_key, fields):
    """The employer's insured head-count: the latest quarter's and the last eight quarters'."""
    pk = _organisation_pk(subject_key)
    if pk is None:
        return None
    rows = list(
        EmployerQuarterHeadcount.objects.filter(organisation_id=pk)
        .order_by("-quarter")
        .values("quarter", "insured")[:QUARTERS]
    )
    values = {
        "insured": rows[0]["insured"] if rows else 0,
        "quarters": [{"quarter": plain(r["quarter"]), "insured": r["insured"]} for r in rows],
    }
    return {name: values[name] for name in fields if name in values}


register_resource(
    ResourceSpec(
        code="employer-headcount",
        owner="hrss",
        name_zh="单位参保人数",
        name_en="Employer's insured head-count",
        subject="organisation",
        fields={
            "insured": Field("integer", "internal", "最近一季参保人数", "Insured employees, last quarter"),
            "quarters": Field(
                "list", "internal", "近八季度参保人数", "Insured employees, last eight quarters"
            ),
        },
        sharing="conditional",
        frequency="daily",
        legal_basis="《中华人民共和国社会保险法》；《社会保险费征缴暂行条例》",
        fetch=fetch_headcount,
        person_ids=_nobody,
    )
)


def fetch_enterprise_tax(subject_key, fields):
    """Tax credit rating, revenue and tax of the last four quarters, and the last eight quarters' filings."""
    pk = _organisation_pk(subject_key)
    if pk is None:
        return None
    registration = TaxRegistration.objects.filter(organisation_id=pk).values("credit_rating").first()
    rows = list(
        TaxQuarterFiling.objects.filter(organisation_id=pk)
        .order_by("-quarter")
        .values("quarter", "revenue", "tax_paid")[:QUARTERS]
    )
    values = {
        "credit_rating": (registration or {}).get("credit_rating") or None,
        "revenue_4q": plain(sum((r["revenue"] for r in rows[:4]), start=0)),
        "tax_4q": plain(sum((r["tax_paid"] for r in rows[:4]), start=0)),
        "quarters": [
            {"quarter": plain(r["quarter"]), "revenue": plain(r["revenue"]), "tax_paid": plain(r["tax_paid"])}
            for r in rows
        ],
    }
    return {name: values[name] for name in fields if name in values}


register_resource(
    ResourceSpec(
        code="enterprise-tax",
        owner="tax",
        name_zh="企业纳税信用与申报信息",
        name_en="Enterprise tax rating and filings",
        subject="organisation",
        fields={
            "credit_rating": Field("string", "internal", "纳税信用等级", "Tax credit rating"),
            "revenue_4q": Field(
                "number", "internal", "近四季度营业收入（万元）", "Revenue, last four quarters (10,000 yuan)"
            ),
            "tax_4q": Field(
                "number", "internal", "近四季度纳税额（万元）", "Tax paid, last four quarters (10,000 yuan)"
            ),
            "quarters": Field(
                "list",
                "internal",
                "近八季度申报（营业收入、纳税额）",
                "Returns, last eight quarters (revenue, tax)",
            ),
        },
        sharing="conditional",
        frequency="daily",
        legal_basis="《中华人民共和国税收征收管理法》；《纳税信用管理办法》",
        fetch=fetch_enterprise_tax,
        person_ids=_nobody,
    )
)


def fetch_qualifications(subject_key, fields):
    """The qualifications the enterprise holds (kind, number, valid until), valid ones and lapsed ones."""
    pk = _organisation_pk(subject_key)
    if pk is None:
        return None
    rows = list(
        EnterpriseQualification.objects.filter(organisation_id=pk)
        .order_by("kind")
        .values("kind", "number", "valid_until")
    )
    values = {"qualifications": [{k: plain(v) for k, v in r.items()} for r in rows]}
    return {name: values[name] for name in fields if name in values}


register_resource(
    ResourceSpec(
        code="enterprise-qualifications",
        owner="market-regulation",
        name_zh="企业资质认定信息",
        name_en="Enterprise qualifications",
        subject="organisation",
        fields={
            "qualifications": Field(
                "list",
                "public",
                "资质（类别、证书编号、有效期）",
                "Qualifications (kind, certificate number, valid until)",
            )
        },
        sharing="unconditional",
        frequency="daily",
        legal_basis="《高新技术企业认定管理办法》；《优质中小企业梯度培育管理暂行办法》",
        fetch=fetch_qualifications,
        person_ids=_nobody,
    )
)
