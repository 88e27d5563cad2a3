"""Workbench registry browsing: the owner's staff see records (masked IDs, every view audited), others get 403."""

import pytest
from django.urls import reverse

from tongban.core.models import AuditEntry
from tongban.exchange.tests.factories_registries import (
    BirthRecordFactory,
    MemberFactory,
    MortgageFactory,
    OwnershipFactory,
    registry_staff,
)
from tongban.identity.tests.factories import login_verified

pytestmark = pytest.mark.django_db


def _staff_client(client, department_code):
    user = registry_staff(department_code)
    login_verified(client, user)
    return user


def test_owner_staff_search_a_register_and_see_masked_ids_and_the_view_is_audited(client, city):
    member = MemberFactory()
    _staff_client(client, "public-security-310101")
    url = reverse("exchange:registry-list", args=["households"])
    response = client.get(url, {"q": member.person.resident_id, "purpose": "verification"})
    assert response.status_code == 200
    body = response.content.decode()
    assert member.household.number in body
    table = body[body.index("<table") :]
    assert member.person.masked_resident_id in table and member.person.resident_id not in table
    entry = AuditEntry.objects.filter(action="registry.viewed").latest("seq")
    assert entry.subject_id == "households" and str(member.pk) in entry.details
    assert entry.purpose


def test_a_search_narrows_the_list(client, city):
    wanted, other = MemberFactory(), MemberFactory()
    _staff_client(client, "public-security")
    response = client.get(
        reverse("exchange:registry-list", args=["households"]), {"q": wanted.household.number}
    )
    body = response.content.decode()
    assert wanted.household.number in body and other.household.number not in body


def test_owner_staff_open_a_unit_with_its_owners_and_mortgages(client, city):
    ownership = OwnershipFactory()
    MortgageFactory(unit=ownership.unit, creditor="上海测试银行")
    _staff_client(client, "planning-resources")
    url = reverse("exchange:registry-record", args=["property-units", ownership.unit.pk])
    response = client.get(url, {"purpose": "registration"})
    assert response.status_code == 200
    body = response.content.decode()
    assert ownership.unit.unit_number in body and "上海测试银行" in body
    assert ownership.owner_person.masked_resident_id in body
    entry = AuditEntry.objects.filter(action="registry.viewed").latest("seq")
    assert entry.subject_type == "property_unit" and entry.subject_id == ownership.unit.unit_number


def test_staff_of_another_department_get_403_and_the_refusal_is_audited(client, city):
    record = BirthRecordFactory()
    _staff_client(client, "public-security")
    assert client.get(reverse("exchange:registry-list", args=["births"])).status_code == 403
    assert client.get(reverse("exchange:registry-record", args=["births", record.pk])).status_code == 403
    assert AuditEntry.objects.filter(action="permission.denied", subject_id="births").exists()
    assert not AuditEntry.objects.filter(action="registry.viewed").exists()


def test_health_staff_browse_births(client, city):
    record = BirthRecordFactory()
    _staff_client(client, "health")
    response = client.get(reverse("exchange:registry-record", args=["births", record.pk]))
    assert response.status_code == 200 and record.certificate_number in response.content.decode()


def test_a_citizen_cannot_browse_registries(client, citizen):
    client.force_login(citizen)
    assert client.get(reverse("exchange:registry-list", args=["households"])).status_code == 403
    assert client.get(reverse("exchange:registries")).status_code == 403


def test_the_registry_home_lists_only_the_departments_registers(client, city):
    _staff_client(client, "tax")
    response = client.get(reverse("exchange:registries"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("exchange:registry-list", args=["deed-tax"]) in body
    assert reverse("exchange:registry-list", args=["births"]) not in body


def test_an_unknown_register_is_404(client, city):
    _staff_client(client, "tax")
    assert client.get(reverse("exchange:registry-list", args=["nothing"])).status_code == 404
