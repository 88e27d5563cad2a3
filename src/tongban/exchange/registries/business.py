"""Business register (市场主体登记信息), owned by market regulation."""

from __future__ import annotations

from tongban.identity.models import Organisation

from ..models import BusinessRegistration
from ..resources import Field, ResourceSpec, register_resource
from ._common import columns_for, key, plain

OWNER = "market-regulation"

COLUMNS = {
    "credit_code": ("organisation__credit_code",),
    "name": ("organisation__name",),
    "org_type": ("organisation__org_type",),
    "legal_representative": ("organisation__legal_representative__name",),
    "legal_representative_id": ("organisation__legal_representative__resident_id",),
    "district": ("organisation__district__name",),
    "registered_on": ("registered_on",),
    "business_scope": ("business_scope",),
    "registered_capital": ("registered_capital",),
    "status": ("status",),
    "industry_code": ("industry_code",),
}


def fetch_business_registration(subject_key, fields):
    """The organisation's registration (the data on its business licence), or None."""
    organisation = (
        Organisation.objects.filter(credit_code=key(subject_key)).values_list("pk", flat=True).first()
    )
    if organisation is None:
        return None
    row = (
        BusinessRegistration.objects.filter(organisation_id=organisation)
        .values(*columns_for(fields, COLUMNS, ("pk",)))
        .first()
    )
    if row is None:
        return None
    return {name: plain(row[COLUMNS[name][0]]) for name in fields if name in COLUMNS}


def representative_ids(subject_key, fields=None):
    """The legal representative when their ID number is read (so they see the read); otherwise nobody: the rest
    is public register data."""
    if fields is not None and "legal_representative_id" not in fields:
        return []
    found = (
        Organisation.objects.filter(credit_code=key(subject_key))
        .values_list("legal_representative_id", flat=True)
        .first()
    )
    return [found] if found else []


register_resource(
    ResourceSpec(
        code="business-registration",
        owner=OWNER,
        name_zh="市场主体登记信息",
        name_en="Business registration",
        subject="organisation",
        fields={
            "credit_code": Field("string", "public", "统一社会信用代码", "Unified social credit code"),
            "name": Field("string", "public", "名称", "Name"),
            "org_type": Field("string", "public", "主体类型", "Type of entity"),
            "legal_representative": Field("string", "public", "法定代表人", "Legal representative"),
            "district": Field("string", "public", "登记区", "District of registration"),
            "registered_on": Field("date", "public", "成立日期", "Date of establishment"),
            "business_scope": Field("string", "public", "经营范围", "Business scope"),
            "registered_capital": Field(
                "number", "public", "注册资本（万元）", "Registered capital (10,000 yuan)"
            ),
            "status": Field("string", "public", "登记状态", "Registration status"),
            "industry_code": Field("string", "public", "国民经济行业代码", "Industry code"),
            "legal_representative_id": Field(
                "string", "personal", "法定代表人身份证件号码", "Legal representative's ID number"
            ),
        },
        sharing="unconditional",
        frequency="realtime",
        legal_basis="《市场主体登记管理条例》；《企业信息公示暂行条例》",
        fetch=fetch_business_registration,
        person_ids=representative_ids,
    )
)
