"""Real estate (不动产登记信息), owned by planning and natural resources."""

from __future__ import annotations

from ..models import Mortgage, PropertyOwnership, PropertyUnit, Seizure
from ..resources import Field, ResourceSpec, register_resource
from ._common import columns_for, key, person_id, plain

OWNER = "planning-resources"
LEGAL_BASIS = "《中华人民共和国民法典》物权编；《不动产登记暂行条例》及其实施细则"

UNIT_COLUMNS = {
    "unit_number": ("unit_number",),
    "address": ("address",),
    "district": ("district__code",),
    "district_name": ("district__name",),
    "use": ("use",),
    "floor_area": ("floor_area",),
    "certificate_number": ("certificate_number",),
}
UNIT_SOURCE = {"district": "district__code", "district_name": "district__name"}


def _unit(subject_key, fields, mapping=UNIT_COLUMNS):
    return (
        PropertyUnit.objects.filter(unit_number=key(subject_key))
        .values(*columns_for(fields, mapping, ("pk",)))
        .first()
    )


def _owners(unit_pk):
    rows = (
        PropertyOwnership.objects.filter(unit_id=unit_pk, ended_at__isnull=True)
        .order_by("-share", "created_at")
        .values(
            "share",
            "since",
            "owner_person__name",
            "owner_person__resident_id",
            "owner_organisation__name",
            "owner_organisation__credit_code",
        )
    )
    return [
        {
            "kind": "person" if row["owner_person__resident_id"] else "organisation",
            "name": row["owner_person__name"] or row["owner_organisation__name"],
            "id_number": row["owner_person__resident_id"] or row["owner_organisation__credit_code"],
            "share": plain(row["share"]),
            "since": plain(row["since"]),
        }
        for row in rows
    ]


def fetch_property_ownership(subject_key, fields):
    """The unit and (if asked) its current owners with their shares; None for an unknown unit number."""
    row = _unit(subject_key, fields)
    if row is None:
        return None
    result = {}
    for name in fields:
        if name == "owners":
            result[name] = _owners(row["pk"])
        elif name in UNIT_COLUMNS:
            result[name] = plain(row[UNIT_SOURCE.get(name, name)])
    return result


def unit_owner_person_ids(subject_key, fields=None):
    """The persons who own the unit now (whose data a lookup of the unit concerns)."""
    return list(
        PropertyOwnership.objects.filter(
            unit__unit_number=key(subject_key), ended_at__isnull=True, owner_person__isnull=False
        ).values_list("owner_person_id", flat=True)
    )


register_resource(
    ResourceSpec(
        code="property-ownership",
        owner=OWNER,
        name_zh="不动产权属信息",
        name_en="Real-estate ownership",
        subject="property_unit",
        fields={
            "unit_number": Field("string", "public", "不动产单元号", "Property unit number"),
            "address": Field("string", "personal", "坐落", "Location"),
            "district": Field("string", "internal", "区代码", "District code"),
            "district_name": Field("string", "internal", "所在区", "District"),
            "use": Field("string", "internal", "用途", "Use"),
            "floor_area": Field("number", "personal", "建筑面积（平方米）", "Floor area (m²)"),
            "certificate_number": Field(
                "string", "internal", "不动产权证书号", "Property certificate number"
            ),
            "owners": Field(
                "list",
                "sensitive",
                "权利人（姓名、证件号、份额、登记日期）",
                "Right holders (name, ID number, share, registration date)",
            ),
        },
        sharing="conditional",
        frequency="realtime",
        legal_basis=LEGAL_BASIS,
        fetch=fetch_property_ownership,
        person_ids=unit_owner_person_ids,
    )
)

# --- property-encumbrances -----------------------------------------------------------------------


def fetch_property_encumbrances(subject_key, fields):
    """Active mortgages and seizures of the unit."""
    unit = PropertyUnit.objects.filter(unit_number=key(subject_key)).values_list("pk", flat=True).first()
    if unit is None:
        return None
    result = {}
    if {"mortgaged", "mortgages"} & set(fields):
        mortgages = list(
            Mortgage.objects.filter(unit_id=unit, released_on__isnull=True)
            .order_by("registered_on")
            .values("creditor", "amount", "registered_on")
        )
        if "mortgaged" in fields:
            result["mortgaged"] = bool(mortgages)
        if "mortgages" in fields:
            result["mortgages"] = [{name: plain(value) for name, value in m.items()} for m in mortgages]
    if {"seized", "seizures"} & set(fields):
        seizures = list(
            Seizure.objects.filter(unit_id=unit, lifted_on__isnull=True)
            .order_by("ordered_on")
            .values("court", "reference", "ordered_on")
        )
        if "seized" in fields:
            result["seized"] = bool(seizures)
        if "seizures" in fields:
            result["seizures"] = [{name: plain(value) for name, value in s.items()} for s in seizures]
    return {name: result[name] for name in fields if name in result}


register_resource(
    ResourceSpec(
        code="property-encumbrances",
        owner=OWNER,
        name_zh="不动产抵押查封信息",
        name_en="Mortgages and seizures of a unit",
        subject="property_unit",
        fields={
            "mortgaged": Field("boolean", "internal", "是否抵押", "Mortgaged"),
            "seized": Field("boolean", "internal", "是否查封", "Seized"),
            "mortgages": Field(
                "list",
                "personal",
                "抵押（抵押权人、被担保债权数额、登记日期）",
                "Mortgages (mortgagee, secured amount, registration date)",
            ),
            "seizures": Field(
                "list",
                "personal",
                "查封（查封机关、文号、查封日期）",
                "Seizures (authority, reference, date)",
            ),
        },
        sharing="conditional",
        frequency="realtime",
        legal_basis=LEGAL_BASIS,
        fetch=fetch_property_encumbrances,
        person_ids=unit_owner_person_ids,
    )
)

# --- person-properties ---------------------------------------------------------------------------

PERSON_UNIT_COLUMNS = {
    "unit_number": "unit__unit_number",
    "address": "unit__address",
    "district": "unit__district__code",
    "use": "unit__use",
    "floor_area": "unit__floor_area",
    "certificate_number": "unit__certificate_number",
    "share": "share",
    "since": "since",
}


def fetch_person_properties(subject_key, fields):
    """The units the person owns now (住房情况), with their shares."""
    pk = person_id(subject_key)
    if pk is None:
        return None
    rows = list(
        PropertyOwnership.objects.filter(owner_person_id=pk, ended_at__isnull=True)
        .order_by("since")
        .values(*PERSON_UNIT_COLUMNS.values())
    )
    result = {}
    if "unit_count" in fields:
        result["unit_count"] = len(rows)
    if "units" in fields:
        result["units"] = [
            {name: plain(row[column]) for name, column in PERSON_UNIT_COLUMNS.items()} for row in rows
        ]
    return result


register_resource(
    ResourceSpec(
        code="person-properties",
        owner=OWNER,
        name_zh="个人不动产登记信息（住房情况）",
        name_en="Real estate a person owns",
        subject="person",
        fields={
            "unit_count": Field("integer", "personal", "名下不动产数量", "Number of properties held"),
            "units": Field(
                "list",
                "personal",
                "名下不动产（单元号、坐落、用途、面积、份额、证书号）",
                "Properties held (unit, location, use, area, share, certificate)",
            ),
        },
        sharing="conditional",
        frequency="realtime",
        legal_basis=LEGAL_BASIS,
        fetch=fetch_person_properties,
    )
)
