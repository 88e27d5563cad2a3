"""The sharing layer's rules: grant lifecycle, lookups that return only granted fields, audit and data uses."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from tongban.core import calendar
from tongban.core.audit import SYSTEM
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.exchange import services
from tongban.exchange.models import DataResource, DataUse, SharingGrant
from tongban.exchange.tests.fixtures_sharing import PURPOSE
from tongban.identity.selectors import actor_for, department_get, person_for
from tongban.identity.tests.fixtures import CITIZEN_RESIDENT_ID

DAY = dt.timedelta(days=1)


def request_basic(
    user=None, *, fields=("name", "sex"), purpose=PURPOSE, resource="test-person-basic", **kwargs
):
    return services.grant_request(
        actor=actor_for(user) if user else SYSTEM,
        department=department_get("health"),
        resource=resource,
        fields=list(fields),
        purpose=purpose,
        legal_basis=kwargs.pop("legal_basis", "《母婴保健法》第二十三条"),
        **kwargs,
    )


def health_lookup(**kwargs):
    values = {
        "actor": SYSTEM,
        "department": kwargs.pop("department", None) or department_get("health"),
        "resource_code": "test-person-basic",
        "subject_key": CITIZEN_RESIDENT_ID,
        "purpose": PURPOSE,
    }
    values.update(kwargs)
    return services.lookup(**values)


# --- catalogue -------------------------------------------------------------------------------------------------


def test_sync_creates_resources_once_and_is_idempotent(test_resources):
    row = DataResource.objects.get(code="test-person-basic")
    assert row.owner.code == "public-security"
    assert row.sharing == "conditional"
    assert row.fields[0] == {
        "name": "name",
        "type": "string",
        "sensitivity": "personal",
        "label": "姓名",
        "label_en": "",
    }
    assert services.data_resources_sync(actor=SYSTEM) == {"created": 0, "updated": 0, "deactivated": 0}


def test_sync_deactivates_a_resource_whose_spec_is_gone(test_resources):
    specs = [s for code, s in test_resources.items() if code != "test-person-secret"]
    counts = services.data_resources_sync(actor=SYSTEM, specs=specs)
    assert counts["deactivated"] >= 1
    assert not DataResource.objects.get(code="test-person-secret").active


# --- grants ----------------------------------------------------------------------------------------------------


def test_a_conditional_resource_waits_for_the_owners_steward(test_resources, health_steward, ps_steward):
    grant = request_basic(health_steward)
    assert grant.status == SharingGrant.Status.REQUESTED
    assert OutboxEvent.objects.filter(name="grant.requested").count() == 1
    services.grant_approve(actor=actor_for(ps_steward), grant=grant)
    grant.refresh_from_db()
    assert grant.status == "approved" and grant.decided_by.startswith("steward.ps")
    assert AuditEntry.objects.filter(action="grant.approved", subject_id=str(grant.pk)).exists()
    assert OutboxEvent.objects.filter(name="grant.approved").count() == 1


def test_an_unconditional_resource_is_approved_on_request(test_resources, health_steward):
    grant = request_basic(health_steward, resource="test-person-public", legal_basis="")
    assert grant.status == SharingGrant.Status.APPROVED
    assert grant.legal_basis == "《居民身份证法》"  # the resource's own


def test_a_not_shared_resource_cannot_be_requested(test_resources, health_steward):
    with pytest.raises(ValidationError) as error:
        request_basic(health_steward, resource="test-person-secret")
    assert "resource" in error.value.message_dict
    assert not SharingGrant.objects.exists()


def test_only_the_owners_steward_approves(test_resources, health_steward, health_handler):
    grant = request_basic(health_steward)
    for user in (health_steward, health_handler):  # the requester's steward and a handler may not
        with pytest.raises(PermissionDenied):
            services.grant_approve(actor=actor_for(user), grant=grant)
    grant.refresh_from_db()
    assert grant.status == "requested"
    assert AuditEntry.objects.filter(action="permission.denied", subject_id="exchange.grant").count() == 2


def test_a_refusal_needs_a_reason(test_resources, health_steward, ps_steward):
    grant = request_basic(health_steward)
    with pytest.raises(ValidationError) as error:
        services.grant_refuse(actor=actor_for(ps_steward), grant=grant, reason="  ")
    assert "reason" in error.value.message_dict
    services.grant_refuse(actor=actor_for(ps_steward), grant=grant, reason="目的与所需字段不相称")
    grant.refresh_from_db()
    assert grant.status == "refused" and grant.reason == "目的与所需字段不相称"
    with pytest.raises(Conflict):
        services.grant_approve(actor=actor_for(ps_steward), grant=grant)


def test_a_department_without_exchange_request_cannot_ask(test_resources, health_handler):
    with pytest.raises(PermissionDenied):
        request_basic(health_handler)


def test_a_conditional_request_needs_a_legal_basis_and_known_fields(test_resources, health_steward):
    with pytest.raises(ValidationError) as error:
        request_basic(health_steward, legal_basis="")
    assert "legal_basis" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        request_basic(health_steward, fields=["name", "income"])
    assert "fields" in error.value.message_dict


def test_a_second_request_for_the_same_purpose_conflicts(test_resources, health_steward):
    request_basic(health_steward)
    with pytest.raises(Conflict):
        request_basic(health_steward, fields=["name"])
    # Another purpose is another grant.
    assert request_basic(health_steward, purpose="医疗保险参保核验").status == "requested"


def test_revoked_grant_stops_lookups(test_resources, health_steward, ps_steward):
    grant = request_basic(health_steward)
    services.grant_approve(actor=actor_for(ps_steward), grant=grant)
    assert health_lookup(fields=["name"]).allowed
    with pytest.raises(ValidationError):
        services.grant_revoke(actor=actor_for(ps_steward), grant=grant, reason="")
    services.grant_revoke(actor=actor_for(ps_steward), grant=grant, reason="协议到期")
    with pytest.raises(services.GrantMissing):
        health_lookup(fields=["name"])


# --- lookups ---------------------------------------------------------------------------------------------------


@pytest.fixture
def approved(test_resources, health_steward, ps_steward):
    grant = request_basic(health_steward)
    return services.grant_approve(actor=actor_for(ps_steward), grant=grant)


def test_a_lookup_returns_only_granted_fields(approved, citizen):
    result = health_lookup()
    assert result.allowed and result.basis == "grant"
    assert result.fields == ("name", "sex")
    assert result.data == {"name": "李明", "sex": "M"}  # no phone, no birth date
    assert health_lookup(fields=["name"]).data == {"name": "李明"}


def test_a_lookup_of_an_ungranted_field_is_refused_and_names_the_missing_grant(approved, citizen):
    before = AuditEntry.objects.count()
    with pytest.raises(services.GrantMissing) as error:
        health_lookup(fields=["name", "phone"])
    message = str(error.value)
    assert "test-person-basic" in message and "phone" in message and PURPOSE in message
    assert "name," not in message  # only the missing field is named
    assert error.value.params["reason"] == "fields"
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "data.lookup_refused" and entry.purpose == PURPOSE
    assert '"resource":"test-person-basic"' in entry.details


def test_a_lookup_without_any_grant_is_refused_audited_and_recorded(test_resources, citizen):
    with pytest.raises(services.GrantMissing) as error:
        health_lookup(case_number="SH-2026-00000001")
    assert error.value.params["reason"] == "no_grant"
    entry = AuditEntry.objects.get(action="data.lookup_refused")
    person = person_for(citizen)
    assert entry.subject_type == "person" and entry.subject_id == str(person.pk)
    use = DataUse.objects.get()
    assert use.person_id == person.pk and not use.allowed and use.refused_reason
    assert use.case_number == "SH-2026-00000001"


def test_a_lookup_for_another_purpose_is_refused(approved, citizen):
    with pytest.raises(services.GrantMissing):
        health_lookup(purpose="营销推广")


def test_a_refused_lookup_can_return_instead_of_raising(approved, citizen):
    result = health_lookup(fields=["phone"], raise_refused=False)
    assert not result.allowed and result.data is None and "phone" in result.missing


def test_an_expired_grant_is_refused(test_resources, health_steward, ps_steward, citizen):
    today = calendar.today()
    grant = request_basic(health_steward, valid_until=today + DAY)
    services.grant_approve(actor=actor_for(ps_steward), grant=grant)
    assert health_lookup(today=today + DAY).allowed
    with pytest.raises(services.GrantMissing) as error:
        health_lookup(today=today + 2 * DAY)
    assert error.value.params["reason"] == "expired"


def test_a_pending_request_is_named_as_such(test_resources, health_steward, citizen):
    request_basic(health_steward)
    with pytest.raises(services.GrantMissing) as error:
        health_lookup()
    assert error.value.params["reason"] == "pending"


def test_every_lookup_writes_one_audit_entry_and_one_data_use(approved, citizen):
    before = AuditEntry.objects.count()
    case_id = "6c0b8f34-0f7b-4a77-9d0e-3f3a52c8a0a1"
    health_lookup(case_id=case_id, case_number="SH-2026-00000002")
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.action == "data.lookup" and entry.case_id == case_id
    use = DataUse.objects.get()
    assert use.allowed and use.fields == ["name", "sex"] and str(use.case_id) == case_id
    assert use.department.code == "health"


def test_a_lookup_of_an_unknown_person_finds_nothing_and_records_no_data_use(approved):
    result = health_lookup(subject_key="110101199003070011")
    assert result.allowed and result.data is None and not result.found
    assert not DataUse.objects.exists()
    assert AuditEntry.objects.filter(action="data.lookup").exists()


def test_the_owner_and_its_branches_read_their_own_resource_without_a_grant(test_resources, citizen):
    result = health_lookup(department=department_get("public-security-310104"), fields=["phone"])
    assert result.allowed and result.basis == "owner"
    assert result.data == {"phone": "13812345678"}
    assert DataUse.objects.get().department.code == "public-security-310104"


def test_a_grant_to_a_municipal_department_covers_its_branches(approved, citizen):
    assert health_lookup(department=department_get("health-310104")).allowed


def test_a_not_shared_resource_is_refused_to_others(test_resources, citizen):
    with pytest.raises(services.GrantMissing) as error:
        health_lookup(resource_code="test-person-secret")
    assert error.value.params["reason"] == "not_shared"


def test_the_hot_path_makes_a_fixed_number_of_queries(approved, citizen, django_assert_max_num_queries):
    department = department_get("health")
    health_lookup(department=department)  # warm up
    # grant check, fetch, person, DataUse insert, savepoint and release; the audit append bypasses Django's
    # cursor on SQLite and is one statement through it on PostgreSQL.
    with django_assert_max_num_queries(6 if connection.vendor == "sqlite" else 7):
        health_lookup(department=department, fields=["name", "sex"])


def test_grant_ensure_is_idempotent_and_widens_fields(test_resources):
    one = services.grant_ensure(
        department="health", resource="test-person-basic", fields=["name"], purpose=PURPOSE
    )
    again = services.grant_ensure(
        department="health", resource="test-person-basic", fields=["name"], purpose=PURPOSE
    )
    assert one.pk == again.pk
    wider = services.grant_ensure(
        department="health", resource="test-person-basic", fields=["sex"], purpose=PURPOSE
    )
    assert wider.pk == one.pk and wider.fields == ["name", "sex"]
