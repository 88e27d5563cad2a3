import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from tongban.core.audit import SYSTEM
from tongban.core.ids import make_credit_code, make_resident_id
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.identity import services
from tongban.identity.models import AdminUnit, Department, Person, Role
from tongban.identity.reference import MUNICIPAL_DEPARTMENT_CODES, ROLE_CODES
from tongban.identity.selectors import actor_for, person_for, roles_for, user_get_by_login

from .factories import (
    AdminUnitFactory,
    BranchFactory,
    CitizenFactory,
    DepartmentFactory,
    OrganisationFactory,
    PersonFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English; people see them in the active language (zh-Hans first)."""
    with override("en"):
        yield


BIRTH = datetime.date(1990, 5, 17)


def test_reference_data_is_in_the_database_after_migrating():
    """The data migration created the 12 roles and every municipal department with 16 district branches."""
    assert set(Role.objects.values_list("code", flat=True)) >= set(ROLE_CODES)
    health = Department.objects.get(code="health")
    assert health.name_zh == "市卫生健康委员会"
    assert health.branches.count() == 16
    assert Department.objects.get(code="public-security-310101").admin_unit.code == "310101"
    assert Department.objects.get(code="big-data-center").level == Department.Level.CITY


def test_departments_ensure_is_idempotent_and_complete():
    services.departments_ensure(actor=SYSTEM)
    again = services.departments_ensure(actor=SYSTEM)
    assert again == {"admin_units": 0, "departments": 0, "roles": 0}
    assert AdminUnit.objects.filter(level="district", parent__code="310000").count() == 16
    assert Department.objects.filter(code__in=MUNICIPAL_DEPARTMENT_CODES, level="city").count() == 18
    assert (
        Department.objects.filter(level="district", parent__code__in=MUNICIPAL_DEPARTMENT_CODES).count()
        == 18 * 16
    )


def test_person_create_takes_sex_and_birth_date_from_the_id_number_and_audits_and_emits():
    AdminUnitFactory(code="310104")
    number = make_resident_id("310104", BIRTH, 124)  # even sequence: a woman
    person = services.person_create(
        actor=SYSTEM, resident_id=number.lower(), name=" 王芳 ", phone="13812345678"
    )
    assert person.sex == Person.Sex.FEMALE
    assert person.birth_date == BIRTH
    assert person.household_district.code == "310104"
    assert person.name == "王芳"
    assert person.masked_resident_id == number[:3] + "*" * 11 + number[-4:]
    assert person.masked_phone == "138****5678"
    entry = AuditEntry.objects.get(action="person.created", subject_id=str(person.pk))
    assert entry.actor_kind == "system"
    event = OutboxEvent.objects.get(name="person.registered")
    assert event.subject_id == str(person.pk)


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("31010419900517123", "18"),  # 17 characters: the length is wrong
        ("990104199005171230", "area"),  # no such area code
        ("310104199013171238", "date"),  # month 13
    ],
)
def test_person_create_refuses_a_bad_id_number_and_says_which_part(number, fragment):
    with pytest.raises(ValidationError) as caught:
        services.person_create(actor=SYSTEM, resident_id=number, name="某人")
    with override("en"):
        messages = " ".join(caught.value.message_dict["resident_id"]).lower()
    assert fragment in messages, messages
    assert not Person.objects.exists()


def test_person_create_refuses_a_wrong_check_digit():
    good = make_resident_id("310104", BIRTH, 123)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError) as caught:
        services.person_create(actor=SYSTEM, resident_id=bad, name="某人")
    with override("en"):
        assert "check" in " ".join(caught.value.message_dict["resident_id"]).lower()


def test_person_create_refuses_a_sex_that_contradicts_the_id_number():
    number = make_resident_id("310104", BIRTH, 123)  # odd: a man
    with pytest.raises(ValidationError) as caught:
        services.person_create(actor=SYSTEM, resident_id=number, name="某人", sex="F")
    assert "sex" in caught.value.message_dict


def test_person_create_refuses_a_duplicate_id_number():
    person = PersonFactory()
    with pytest.raises(ValidationError) as caught:
        services.person_create(actor=SYSTEM, resident_id=person.resident_id, name="另一人")
    assert "resident_id" in caught.value.message_dict


def test_person_update_changes_allowed_fields_and_audits_field_names_only():
    person = PersonFactory(phone="13900000000")
    services.person_update(actor=SYSTEM, person=person, phone="13711112222", name="新名字")
    person.refresh_from_db()
    assert person.phone == "13711112222"
    entry = AuditEntry.objects.get(action="person.updated")
    assert entry.details_data["fields"] == ["name", "phone"]
    assert "13711112222" not in entry.details
    with pytest.raises(ValidationError) as caught:
        services.person_update(actor=SYSTEM, person=person, resident_id="310104199005171234")
    assert "resident_id" in caught.value.message_dict


def test_organisation_create_validates_the_credit_code():
    code = make_credit_code("310104", "12345678")
    org = services.organisation_create(actor=SYSTEM, credit_code=code.lower(), name="某某有限公司")
    assert org.credit_code == code
    assert OutboxEvent.objects.filter(name="organisation.registered", subject_id=str(org.pk)).exists()
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ValidationError) as caught:
        services.organisation_create(actor=SYSTEM, credit_code=bad, name="另一家公司")
    assert "credit_code" in caught.value.message_dict


def test_staff_create_with_roles_and_actor_for():
    user = UserFactory()
    dept = DepartmentFactory()
    staff = services.staff_create(
        actor=SYSTEM, user=user, department=dept, roles=["dept_handler", "window_clerk"]
    )
    assert roles_for(user) == {"dept_handler", "window_clerk"}
    actor = actor_for(user)
    assert (actor.kind, actor.department, actor.role) == ("staff", dept.code, "dept_handler,window_clerk")
    assert AuditEntry.objects.filter(action="staff.created", subject_id=str(staff.pk)).exists()
    with pytest.raises(ValidationError) as caught:
        services.staff_create(actor=SYSTEM, user=UserFactory(), department=dept, roles=["citizen"])
    assert "roles" in caught.value.message_dict


def test_staff_roles_set_and_deactivate_change_what_the_user_holds():
    staff = StaffFactory(roles=["dept_handler"])
    services.staff_roles_set(actor=SYSTEM, staff=staff, roles=["dept_approver"])
    assert roles_for(staff.user) == {"dept_approver"}
    services.staff_deactivate(actor=SYSTEM, staff=staff)
    assert roles_for(staff.user) == frozenset()


def test_citizen_and_agent_roles_come_from_person_and_organisation():
    citizen = CitizenFactory()
    assert roles_for(citizen) == {"citizen"}
    assert person_for(citizen) is not None
    org = OrganisationFactory()
    services.organisation_agent_add(actor=SYSTEM, organisation=org, user=citizen)
    assert roles_for(citizen) == {"citizen", "enterprise_agent"}
    assert actor_for(citizen).kind == "citizen"


def test_user_can_be_found_by_resident_id():
    citizen = CitizenFactory()
    assert user_get_by_login(citizen.person.resident_id.lower()) == citizen
    assert user_get_by_login(citizen.username) == citizen
    assert user_get_by_login("nobody") is None


def test_user_create_checks_the_password_unless_told_not_to():
    with pytest.raises(ValidationError) as caught:
        services.user_create(actor=SYSTEM, username="weak", password="123")
    assert "password" in caught.value.message_dict
    user = services.user_create(actor=SYSTEM, username="demo", password="123", check_password=False)
    assert user.check_password("123")


def test_models_refuse_inconsistent_places():
    city = AdminUnit.objects.get(code="310000")
    street = AdminUnit(code="310104999", name="某街道", level="street", parent=city)
    with pytest.raises(ValidationError) as caught:
        street.full_clean()
    assert "parent" in caught.value.message_dict
    branch = BranchFactory.build(parent=BranchFactory())
    with pytest.raises(ValidationError) as caught:
        branch.full_clean()
    assert "parent" in caught.value.message_dict
