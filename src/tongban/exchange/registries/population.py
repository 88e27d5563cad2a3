"""Population and households (人口库 / 户籍), owned by public security."""

from __future__ import annotations

from tongban.core.db import fast
from tongban.identity.models import Person

from ..models import HouseholdMembership
from ..resources import Field, ResourceSpec, register_resource
from ._common import key, person_id, plain

OWNER = "public-security"
LEGAL_BASIS = (
    "《中华人民共和国户口登记条例》；《中华人民共和国居民身份证法》；《政务信息资源共享管理暂行办法》"
)

# --- person-identity -----------------------------------------------------------------------------

IDENTITY_COLUMNS = {
    "resident_id": ("resident_id",),
    "name": ("name",),
    "sex": ("sex",),
    "birth_date": ("birth_date",),
    "household_district": ("household_district__code",),
    "household_district_name": ("household_district__name",),
}
IDENTITY_SOURCE = {
    "household_district": "household_district__code",
    "household_district_name": "household_district__name",
}


def fetch_person_identity(subject_key, fields):
    """A person's identity fields: one hand-written SELECT (on the hot path of every submission)."""
    found = fast.fetchone(
        "SELECT p.resident_id, p.name, p.sex, p.birth_date, d.code, d.name FROM identity_person p "
        "LEFT OUTER JOIN identity_adminunit d ON d.id = p.household_district_id WHERE p.resident_id = %s",
        [key(subject_key)],
    )
    if found is None:
        return None
    birth_date = fast.convert(Person, "birth_date", found[3])
    row = dict(zip(IDENTITY_COLUMNS, (*found[:3], birth_date, *found[4:]), strict=True))
    return {name: plain(row[name]) for name in fields if name in IDENTITY_COLUMNS}


register_resource(
    ResourceSpec(
        code="person-identity",
        owner=OWNER,
        name_zh="人口基本信息",
        name_en="Resident identity data",
        subject="person",
        fields={
            "resident_id": Field("string", "sensitive", "公民身份号码", "Resident ID number"),
            "name": Field("string", "personal", "姓名", "Name"),
            "sex": Field("string", "personal", "性别", "Sex"),
            "birth_date": Field("date", "personal", "出生日期", "Date of birth"),
            "household_district": Field(
                "string", "internal", "户籍区代码", "District code of household registration"
            ),
            "household_district_name": Field(
                "string", "internal", "户籍区", "District of household registration"
            ),
        },
        sharing="conditional",
        frequency="realtime",
        legal_basis=LEGAL_BASIS,
        fetch=fetch_person_identity,
    )
)

# --- household-members ---------------------------------------------------------------------------

MEMBERSHIP_COLUMNS = {
    "household_number": ("household__number",),
    "address": ("household__address",),
    "district": ("household__district__code",),
    "district_name": ("household__district__name",),
    "relation": ("relation",),
    "since": ("since",),
    "members": ("household_id",),
    "member_ids": ("household_id",),
}
MEMBERSHIP_SOURCE = {
    "household_number": "household__number",
    "address": "household__address",
    "district": "household__district__code",
    "district_name": "household__district__name",
}


def _member_ids(household_id):
    """The members' resident IDs and relations to the head (to address a household's adults, not to show)."""
    rows = HouseholdMembership.objects.filter(household_id=household_id).order_by("created_at", "person_id")
    return [
        {"resident_id": resident_id, "relation": relation}
        for resident_id, relation in rows.values_list("person__resident_id", "relation")
    ]


def _members(household_id):
    rows = (
        HouseholdMembership.objects.filter(household_id=household_id)
        .order_by("created_at", "person_id")
        .values("relation", "person__name", "person__sex", "person__birth_date")
    )
    return [
        {
            "name": row["person__name"],
            "relation": row["relation"],
            "sex": row["person__sex"],
            "birth_date": plain(row["person__birth_date"]),
        }
        for row in rows
    ]


def _members_and_ids(household_id):
    """``_members`` and ``_member_ids`` of one household, read together (one hand-written SELECT)."""
    rows = fast.fetchall(
        "SELECT m.relation, p.name, p.sex, p.birth_date, p.resident_id FROM exchange_householdmembership m "
        "INNER JOIN identity_person p ON p.id = m.person_id WHERE m.household_id = %s "
        "ORDER BY m.created_at, m.person_id",
        [fast.prep(HouseholdMembership, "household", household_id)],
    )
    members, ids = [], []
    for relation, name, sex, birth_date, resident_id in rows:
        birth_date = fast.convert(Person, "birth_date", birth_date)
        members.append({"name": name, "relation": relation, "sex": sex, "birth_date": plain(birth_date)})
        ids.append({"resident_id": resident_id, "relation": relation})
    return members, ids


def fetch_household_members(subject_key, fields):
    """The household the person is registered in, their relation to its head and (if asked) its members."""
    # One hand-written query from the resident ID (no person, or no household: None either way).
    found = fast.fetchone(
        "SELECT m.household_id, h.number, h.address, d.code, d.name, m.relation, m.since "
        "FROM exchange_householdmembership m INNER JOIN identity_person p ON p.id = m.person_id "
        "INNER JOIN identity_household h ON h.id = m.household_id "
        "INNER JOIN identity_adminunit d ON d.id = h.district_id WHERE p.resident_id = %s LIMIT 1",
        [key(subject_key)],
    )
    if found is None:
        return None
    row = dict(
        zip(
            ("household_id", *MEMBERSHIP_SOURCE.values(), "relation", "since"),
            (
                fast.convert(HouseholdMembership, "household", found[0]),
                *found[1:6],
                fast.convert(HouseholdMembership, "since", found[6]),
            ),
            strict=True,
        )
    )
    result = {}
    if "members" in fields and "member_ids" in fields:  # both from one query
        members, member_ids = _members_and_ids(row["household_id"])
        result["members"], result["member_ids"] = members, member_ids
    for name in fields:
        if name in result:
            continue
        if name == "members":
            result[name] = _members(row["household_id"])
        elif name == "member_ids":
            result[name] = _member_ids(row["household_id"])
        elif name in MEMBERSHIP_COLUMNS:
            result[name] = plain(row[MEMBERSHIP_SOURCE.get(name, name)])
    return result


def household_person_ids(subject_key, fields=None):
    """The subject; with the ``members`` field (or when fields are not known) the whole household too."""
    if fields is not None and "members" not in fields and "member_ids" not in fields:
        pk = person_id(subject_key)
        return [pk] if pk is not None else []
    # The members of the subject's household, the subject first, in one query.
    resident_id = key(subject_key)
    rows = [
        (fast.convert(HouseholdMembership, "person", pk), rid)
        for pk, rid in fast.fetchall(
            "SELECT m.person_id, p.resident_id FROM exchange_householdmembership m "
            "INNER JOIN identity_person p ON p.id = m.person_id WHERE m.household_id IN ("
            "SELECT s.household_id FROM exchange_householdmembership s "
            "INNER JOIN identity_person sp ON sp.id = s.person_id WHERE sp.resident_id = %s)",
            [resident_id],
        )
    ]
    if not rows:  # no household: the person alone, if there is one
        pk = person_id(subject_key)
        return [pk] if pk is not None else []
    return [pk for pk, rid in rows if rid == resident_id] + [pk for pk, rid in rows if rid != resident_id]


register_resource(
    ResourceSpec(
        code="household-members",
        owner=OWNER,
        name_zh="户籍信息（户成员）",
        name_en="Household registration and members",
        subject="person",
        fields={
            "household_number": Field("string", "internal", "户号", "Household number"),
            "address": Field("string", "personal", "户籍地址", "Registered household address"),
            "district": Field("string", "internal", "户籍区代码", "District code of household registration"),
            "district_name": Field("string", "internal", "户籍区", "District of household registration"),
            "relation": Field("string", "personal", "与户主关系", "Relation to the head of household"),
            "since": Field("date", "personal", "登记日期", "Date of registration"),
            "members": Field(
                "list",
                "personal",
                "户成员（姓名、与户主关系、性别、出生日期）",
                "Household members (name, relation to the head, sex, date of birth)",
            ),
            "member_ids": Field(
                "list",
                "sensitive",
                "户成员身份证号及与户主关系",
                "Household members' ID numbers and relations to the head",
            ),
        },
        sharing="conditional",
        frequency="realtime",
        legal_basis=LEGAL_BASIS,
        fetch=fetch_household_members,
        person_ids=household_person_ids,
    )
)
