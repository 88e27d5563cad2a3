"""Medical insurance (医疗保险参保信息), owned by the healthcare security administration."""

from __future__ import annotations

from ..models import MedicalInsuranceRecord
from ..resources import Field, ResourceSpec, register_resource
from ._common import columns_for, person_id, plain

OWNER = "medical-insurance"

COLUMNS = {"enrolled": ("status",), "scheme": ("scheme",), "status": ("status",), "since": ("since",)}


def fetch_medical_insurance(subject_key, fields):
    """The person's scheme and status; ``enrolled: false`` when a known person has none."""
    pk = person_id(subject_key)
    if pk is None:
        return None
    row = (
        MedicalInsuranceRecord.objects.filter(person_id=pk)
        .values(*columns_for(fields, COLUMNS, ("pk",)))
        .first()
    )
    result = {}
    for name in fields:
        if name == "enrolled":
            result[name] = row is not None and row["status"] == "active"
        elif name in COLUMNS:
            result[name] = plain(row[name]) if row else None
    return result


register_resource(
    ResourceSpec(
        code="medical-insurance",
        owner=OWNER,
        name_zh="医疗保险参保信息",
        name_en="Medical insurance enrolment",
        subject="person",
        fields={
            "enrolled": Field("boolean", "personal", "是否在保", "Currently insured"),
            "scheme": Field(
                "string",
                "personal",
                "险种（职工/城乡居民）",
                "Scheme (employees / urban and rural residents)",
            ),
            "status": Field("string", "personal", "参保状态", "Insurance status"),
            "since": Field("date", "personal", "参保日期", "Insured since"),
        },
        sharing="conditional",
        frequency="daily",
        legal_basis="《中华人民共和国社会保险法》；《医疗保障基金使用监督管理条例》",
        fetch=fetch_medical_insurance,
    )
)
