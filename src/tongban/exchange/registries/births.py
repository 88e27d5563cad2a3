"""Births (出生医学证明信息), owned by health."""

from __future__ import annotations

from django.db.models import Q

from ..models import BirthRecord
from ..resources import Field, ResourceSpec, register_resource
from ._common import columns_for, person_id, plain

OWNER = "health"

COLUMNS = {
    "certificate_number": ("certificate_number",),
    "baby_name": ("baby_name",),
    "baby_sex": ("baby_sex",),
    "birth_date": ("birth_date",),
    "birth_time": ("birth_time",),
    "weight_g": ("weight_g",),
    "hospital": ("hospital",),
    "mother_name": ("mother__name",),
    "mother_resident_id": ("mother__resident_id",),
    "father_name": ("father__name",),
    "father_resident_id": ("father__resident_id",),
    "baby_resident_id": ("baby__resident_id",),
    "household_registered": ("baby_id",),
}
SOURCE = {
    "mother_name": "mother__name",
    "mother_resident_id": "mother__resident_id",
    "father_name": "father__name",
    "father_resident_id": "father__resident_id",
    "baby_resident_id": "baby__resident_id",
}


def _records(pk):
    return BirthRecord.objects.filter(Q(mother_id=pk) | Q(father_id=pk) | Q(baby_id=pk)).order_by(
        "-birth_date"
    )


def fetch_birth_record(subject_key, fields):
    """The births where the person is the mother, the father or the baby (newest first), or None."""
    pk = person_id(subject_key)
    if pk is None:
        return None
    rows = list(_records(pk).values(*columns_for(fields, COLUMNS, always=("pk",))))
    if not rows:
        return None
    result = []
    for row in rows:
        item = {}
        for name in fields:
            if name == "household_registered":
                item[name] = row["baby_id"] is not None
            elif name in COLUMNS:
                item[name] = plain(row[SOURCE.get(name, name)])
        result.append(item)
    return result


def birth_person_ids(subject_key, fields=None):
    """The subject, and the mothers, fathers and babies of their birth records."""
    pk = person_id(subject_key)
    if pk is None:
        return []
    ids = {pk}
    for row in _records(pk).values_list("mother_id", "father_id", "baby_id"):
        ids.update(value for value in row if value)
    return [pk, *sorted(ids - {pk}, key=str)]


register_resource(
    ResourceSpec(
        code="birth-record",
        owner=OWNER,
        name_zh="出生医学证明信息",
        name_en="Birth medical certificate data",
        subject="person",
        fields={
            "certificate_number": Field(
                "string", "internal", "出生医学证明编号", "Birth medical certificate number"
            ),
            "baby_name": Field("string", "personal", "新生儿姓名", "Baby's name"),
            "baby_sex": Field("string", "personal", "新生儿性别", "Baby's sex"),
            "birth_date": Field("date", "personal", "出生日期", "Date of birth"),
            "birth_time": Field("string", "personal", "出生时间", "Time of birth"),
            "weight_g": Field("integer", "sensitive", "出生体重（克）", "Birth weight (g)"),
            "hospital": Field("string", "personal", "接生机构", "Place of birth (hospital)"),
            "mother_name": Field("string", "personal", "母亲姓名", "Mother's name"),
            "mother_resident_id": Field("string", "sensitive", "母亲身份证号", "Mother's resident ID number"),
            "father_name": Field("string", "personal", "父亲姓名", "Father's name"),
            "father_resident_id": Field("string", "sensitive", "父亲身份证号", "Father's resident ID number"),
            "baby_resident_id": Field("string", "sensitive", "新生儿身份证号", "Baby's resident ID number"),
            "household_registered": Field("boolean", "internal", "是否已办理出生登记", "Birth registered"),
        },
        sharing="conditional",
        frequency="realtime",
        legal_basis="《中华人民共和国母婴保健法》第二十三条；《出生医学证明管理办法》",
        fetch=fetch_birth_record,
        person_ids=birth_person_ids,
    )
)
