"""Marriages (婚姻登记信息), owned by civil affairs."""

from __future__ import annotations

from ..models import MarriageRecord
from ..resources import Field, ResourceSpec, register_resource
from ._common import person_id, plain

OWNER = "civil-affairs"


def _latest(pk, columns):
    """The person's current marriage, else their latest dissolved one: two index lookups (party A, party B)."""
    rows = []
    for side in ("party_a_id", "party_b_id"):
        rows.extend(
            MarriageRecord.objects.filter(**{side: pk})
            .order_by("-registered_on")
            .values("status", "registered_on", "party_a_id", *columns)[:1]
        )
    if not rows:
        return None
    return max(rows, key=lambda r: (r["status"] == "married", r["registered_on"]))


def fetch_marriage_status(subject_key, fields):
    """Married or not, and the current spouse and certificate; None only when the person is unknown."""
    pk = person_id(subject_key)
    if pk is None:
        return None
    columns = []
    if "spouse_name" in fields:
        columns += ["party_a__name", "party_b__name"]
    if "spouse_resident_id" in fields:
        columns += ["party_a__resident_id", "party_b__resident_id"]
    if "certificate_number" in fields:
        columns.append("certificate_number")
    if "office" in fields:
        columns.append("office__name")
    row = _latest(pk, columns)
    married = row is not None and row["status"] == "married"
    spouse = ("party_b" if row["party_a_id"] == pk else "party_a") if row else None
    values = {
        "marital_status": (row["status"] if row else "unmarried"),
        "married": married,
        "spouse_name": row[f"{spouse}__name"] if married and "spouse_name" in fields else None,
        "spouse_resident_id": row[f"{spouse}__resident_id"]
        if married and "spouse_resident_id" in fields
        else None,
        "registered_on": plain(row["registered_on"]) if married else None,
        "certificate_number": row.get("certificate_number") if married else None,
        "office": row.get("office__name") if married else None,
    }
    return {name: values[name] for name in fields if name in values}


def marriage_person_ids(subject_key, fields=None):
    """The subject and, when a spouse field is read, the spouse."""
    pk = person_id(subject_key)
    if pk is None:
        return []
    if fields is not None and not {"spouse_name", "spouse_resident_id"} & set(fields):
        return [pk]
    row = _latest(pk, ["party_b_id"])
    if row is None or row["status"] != "married":
        return [pk]
    return [pk, row["party_b_id"] if row["party_a_id"] == pk else row["party_a_id"]]


register_resource(
    ResourceSpec(
        code="marriage-status",
        owner=OWNER,
        name_zh="婚姻登记信息",
        name_en="Marital status",
        subject="person",
        fields={
            "marital_status": Field(
                "string",
                "personal",
                "婚姻状况（未婚、已婚或离婚）",
                "Marital status (unmarried/married/divorced)",
            ),
            "married": Field("boolean", "personal", "是否在婚", "Currently married"),
            "spouse_name": Field("string", "personal", "配偶姓名", "Spouse's name"),
            "spouse_resident_id": Field("string", "sensitive", "配偶身份证号", "Spouse's resident ID number"),
            "registered_on": Field("date", "personal", "登记日期", "Date of registration"),
            "certificate_number": Field("string", "internal", "结婚证字号", "Marriage certificate number"),
            "office": Field("string", "internal", "登记机关（区）", "Registration authority (district)"),
        },
        sharing="conditional",
        frequency="realtime",
        legal_basis="《中华人民共和国民法典》婚姻家庭编；《婚姻登记条例》",
        fetch=fetch_marriage_status,
        person_ids=marriage_person_ids,
    )
)
