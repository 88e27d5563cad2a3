"""Social insurance (社会保险参保信息), owned by human resources and social security."""

from __future__ import annotations

from ..models import SocialInsuranceRecord
from ..resources import Field, ResourceSpec, register_resource
from ._common import columns_for, person_id, plain

OWNER = "hrss"

COLUMNS = {
    "enrolled": ("status",),
    "status": ("status",),
    "since": ("since",),
    "employer_name": ("employer__name",),
    "employer_credit_code": ("employer__credit_code",),
    "card_number": ("card_number",),
    "card_issued": ("card_number",),
    "card_issued_on": ("card_issued_on",),
}
SOURCE = {"employer_name": "employer__name", "employer_credit_code": "employer__credit_code"}


def fetch_social_insurance(subject_key, fields):
    """The person's enrolment and card; ``enrolled: false`` when a known person has none."""
    pk = person_id(subject_key)
    if pk is None:
        return None
    row = (
        SocialInsuranceRecord.objects.filter(person_id=pk)
        .values(*columns_for(fields, COLUMNS, ("pk",)))
        .first()
    )
    result = {}
    for name in fields:
        if name not in COLUMNS:
            continue
        if name == "enrolled":
            result[name] = row is not None and row["status"] == "active"
        elif name == "card_issued":
            result[name] = bool(row and row["card_number"])
        else:
            result[name] = plain(row[SOURCE.get(name, name)]) if row else None
    return result


register_resource(
    ResourceSpec(
        code="social-insurance",
        owner=OWNER,
        name_zh="社会保险参保信息",
        name_en="Social insurance enrolment",
        subject="person",
        fields={
            "enrolled": Field("boolean", "personal", "是否在保", "Currently insured"),
            "status": Field("string", "personal", "参保状态", "Insurance status"),
            "since": Field("date", "personal", "参保日期", "Insured since"),
            "employer_name": Field("string", "personal", "参保单位", "Insured through (employer)"),
            "employer_credit_code": Field(
                "string", "internal", "参保单位统一社会信用代码", "Employer's unified social credit code"
            ),
            "card_number": Field("string", "sensitive", "社会保障卡卡号", "Social security card number"),
            "card_issued": Field("boolean", "internal", "是否已领社会保障卡", "Social security card issued"),
            "card_issued_on": Field("date", "internal", "发卡日期", "Card issued on"),
        },
        sharing="conditional",
        frequency="daily",
        legal_basis="《中华人民共和国社会保险法》；《社会保险个人权益记录管理办法》",
        fetch=fetch_social_insurance,
    )
)
