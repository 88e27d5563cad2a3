import datetime as dt
import json
import stat
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from tongban.core.audit import SYSTEM
from tongban.core.exceptions import Conflict
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.identity.selectors import department_get, person_for
from tongban.identity.tests.factories import OrganisationFactory
from tongban.licences import keys, services, signing
from tongban.licences.models import Licence, SigningKey
from tongban.licences.reference import LICENCE_TYPES

from .factories import BIRTH_DATA, business_licence_data, issue_birth_certificate, issue_business_licence

pytestmark = pytest.mark.django_db


def _flip(text: str, position: int) -> str:
    """``text`` with the character at ``position`` replaced by another base64url character."""
    replacement = "B" if text[position] != "B" else "C"
    return text[:position] + replacement + text[position + 1 :]


def test_demo_types_cover_every_licence_the_demo_catalogue_issues():
    from tongban.demo.catalog import ITEMS

    services.licence_types_demo_ensure()
    codes = {item["result_licence_type"] for item in ITEMS if item["result_licence_type"]}
    missing = [code for code in codes if services.licence_type_get(code) is None]
    assert missing == []
    for code in (
        "birth-medical-certificate",
        "property-certificate",
        "business-licence",
        "marriage-certificate",
        "social-security-card",
        "passport",
        "resident-id-card",
        "residence-permit",
    ):
        assert services.licence_type_get(code) is not None, code
    assert services.licence_type_get("property-certificate").name_zh == "不动产权证书"


def test_demo_type_fields_are_named_as_the_issuing_items_form_fields():
    from tongban.demo.catalog import ITEMS

    services.licence_types_demo_ensure()
    for item in ITEMS:
        if not item["result_licence_type"]:
            continue
        licence_type = services.licence_type_get(item["result_licence_type"])
        form_fields = set(item["form_schema"]["properties"])
        required = [spec["name"] for spec in licence_type.fields if spec.get("required")]
        # Every required licence field can be taken from the form of the item that issues it.
        assert set(required) <= form_fields, (item["code"], set(required) - form_fields)


def test_demo_types_are_issued_by_existing_departments(city):
    for definition in LICENCE_TYPES:
        assert department_get(definition.department) is not None, definition.code


def test_issuing_signs_audits_and_emits(citizen):
    licence = issue_birth_certificate(citizen)
    assert licence.number.startswith(f"BMC-{dt.date.today().year}-")
    assert licence.holder_person == person_for(citizen)
    assert licence.holder_name == "李明"
    assert licence.algorithm == "ed25519"
    assert licence.key.department.code == "health"
    assert services.licence_verify(services.licence_token(licence)).status == "valid"
    assert AuditEntry.objects.filter(action="licence.issued", subject_id=licence.number).count() == 1
    assert OutboxEvent.objects.filter(name="licence.issued", subject_id=licence.number).count() == 1


def test_issuing_again_for_the_same_case_returns_the_first_licence(citizen):
    case_id = uuid.uuid4()
    first = issue_birth_certificate(citizen, case_id=case_id)
    second = issue_birth_certificate(citizen, case_id=case_id)
    assert first.pk == second.pk
    assert Licence.objects.count() == 1
    assert AuditEntry.objects.filter(action="licence.issued").count() == 1
    # Without a case, each call is a new licence.
    issue_birth_certificate(citizen)
    assert Licence.objects.count() == 2


def test_issuing_refuses_unknown_and_missing_fields(citizen):
    data = dict(BIRTH_DATA, shoe_size="42")
    del data["mother_name"]
    with pytest.raises(ValidationError) as caught:
        issue_birth_certificate(citizen, data=data)
    assert set(caught.value.message_dict) == {"data.shoe_size", "data.mother_name"}
    assert Licence.objects.count() == 0


def test_only_the_types_department_or_its_branches_issue_it(citizen):
    with pytest.raises(ValidationError) as caught:
        issue_birth_certificate(citizen, department="tax")
    assert "department" in caught.value.message_dict
    licence = issue_birth_certificate(citizen, department="health-310104")
    assert licence.department.code == "health-310104"


def test_existing_licences_are_imported_signed_in_batches_with_an_audit_entry_each_and_no_event(city):
    services.licence_types_demo_ensure()
    organisations = [OrganisationFactory() for _ in range(5)]
    holders = [(org, business_licence_data(org)) for org in organisations]
    imported = services.licences_import_existing(
        actor=SYSTEM, type="business-licence", department="market-regulation", holders=holders, batch_size=2
    )
    assert imported == 5
    licences = Licence.objects.filter(type__code="business-licence")
    assert {licence.holder_organisation_id for licence in licences} == {org.pk for org in organisations}
    for licence in licences:
        assert services.licence_verify(services.licence_token(licence)).status == "valid"
        assert licence.key.department.code == "market-regulation"
    entries = AuditEntry.objects.filter(action="licence.imported").order_by("at")
    assert [json.loads(entry.details)["count"] for entry in entries] == [2, 2, 1]
    assert not OutboxEvent.objects.filter(name="licence.issued").exists()


def test_only_the_system_or_the_issuing_department_imports_existing_licences(city):
    from django.core.exceptions import PermissionDenied

    from tongban.core.audit import Actor

    services.licence_types_demo_ensure()
    organisation = OrganisationFactory()
    holders = [(organisation, business_licence_data(organisation))]
    health = Actor(kind="staff", id="1", label="health.handler", role="dept_handler", department="health")
    with pytest.raises(PermissionDenied):
        services.licences_import_existing(
            actor=health, type="business-licence", department="market-regulation", holders=holders
        )
    assert not Licence.objects.exists()
    market = Actor(
        kind="staff", id="2", label="market.handler", role="dept_handler", department="market-regulation"
    )
    assert (
        services.licences_import_existing(
            actor=market, type="business-licence", department="market-regulation", holders=holders
        )
        == 1
    )


def test_an_import_with_data_the_type_refuses_stops_at_that_holder_with_the_field(city):
    services.licence_types_demo_ensure()
    good, bad = OrganisationFactory(), OrganisationFactory()
    holders = [
        (good, {"business_address": "上海市", "business_scope": "软件开发"}),
        (bad, {"business_address": "上海市"}),  # no business scope
    ]
    with pytest.raises(ValidationError) as caught:
        services.licences_import_existing(
            actor=SYSTEM, type="business-licence", department="market-regulation", holders=holders
        )
    assert "data.business_scope" in caught.value.message_dict
    assert not Licence.objects.exists()  # the batch it was in is not written


def test_a_licence_has_exactly_one_holder(citizen):
    services.licence_types_demo_ensure()
    organisation = OrganisationFactory()
    with pytest.raises(ValidationError):
        services.licence_issue(
            actor=SYSTEM,
            type="business-licence",
            data={"business_address": "上海市", "business_scope": "软件"},
            department="market-regulation",
            holder_person=person_for(citizen),
            holder_organisation=organisation,
        )
    licence = issue_business_licence(organisation)
    assert licence.holder_id_number == organisation.credit_code
    assert licence.valid_until is None  # 营业执照: long-term


def test_validity_years_give_the_expiry_date(citizen):
    services.licence_types_demo_ensure()
    licence = services.licence_issue(
        actor=SYSTEM,
        type="passport",
        data={"applicant_name": "李明", "applicant_resident_id": person_for(citizen).resident_id},
        department="public-security",
        holder_person=person_for(citizen),
    )
    today = dt.date.today()
    assert licence.valid_until.year == today.year + 10


def test_private_keys_are_files_readable_by_the_owner_only(citizen, key_dir):
    licence = issue_birth_certificate(citizen)
    path = key_dir / f"{licence.key.key_id}.key"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in path.read_text()
    assert "PRIVATE" not in licence.key.public_key


def test_verification_reads_revoked_after_revocation(citizen):
    licence = issue_birth_certificate(citizen)
    token = services.licence_token(licence)
    with pytest.raises(ValidationError):
        services.licence_revoke(actor=SYSTEM, licence=licence, reason="  ")
    services.licence_revoke(actor=SYSTEM, licence=licence, reason="出生信息登记有误")
    licence.refresh_from_db()
    assert licence.status == "revoked"
    assert licence.revoked_reason == "出生信息登记有误"
    assert services.licence_verify(token).status == "revoked"
    assert AuditEntry.objects.filter(action="licence.revoked", subject_id=licence.number).exists()
    assert OutboxEvent.objects.filter(name="licence.revoked").count() == 1
    with pytest.raises(Conflict):
        services.licence_revoke(actor=SYSTEM, licence=licence, reason="again")


def test_one_byte_changed_anywhere_in_the_token_reads_as_altered(citizen):
    licence = issue_birth_certificate(citizen)
    token = services.licence_token(licence)
    payload_part, signature_part = token.split(".")
    for position in range(len(payload_part)):
        changed = _flip(token, position)
        assert services.licence_verify(changed).status == "altered", position
    offset = len(payload_part) + 1
    for position in range(len(signature_part)):
        assert services.licence_verify(_flip(token, offset + position)).status == "altered", position


def test_a_changed_payload_byte_reads_as_altered(citizen):
    licence = issue_birth_certificate(citizen)
    parsed = signing.token_parse(services.licence_token(licence))
    payload = parsed.payload.replace("李小明".encode(), "李大明".encode())
    forged = signing.token_encode(payload, parsed.signature)
    assert services.licence_verify(forged).status == "altered"
    # The number of another licence, with this licence's signature: altered too.
    other = issue_birth_certificate(citizen)
    payload = parsed.payload.replace(licence.number.encode(), other.number.encode())
    assert services.licence_verify(signing.token_encode(payload, parsed.signature)).status == "altered"


def test_a_nul_in_the_number_reads_as_altered_without_a_query(citizen, django_assert_num_queries):
    # PostgreSQL refuses a NUL in a query parameter (a 500 on the public page): no query is made.
    licence = issue_birth_certificate(citizen)
    parsed = signing.token_parse(services.licence_token(licence))
    payload = signing.canonical_json({**parsed.fields, "number": licence.number + "\x00"})
    with django_assert_num_queries(0):
        assert services.licence_verify(signing.token_encode(payload, parsed.signature)).status == "altered"


def test_a_changed_register_reads_as_altered(citizen):
    licence = issue_birth_certificate(citizen)
    token = services.licence_token(licence)
    Licence.objects.filter(pk=licence.pk).update(data=dict(licence.data, baby_name="李大明"))
    assert services.licence_verify(token).status == "altered"


def test_unknown_documents(citizen):
    assert services.licence_verify("").status == "unknown"
    assert services.licence_verify("hello world").status == "unknown"
    licence = issue_birth_certificate(citizen)
    token = services.licence_token(licence)
    # A genuine licence that this register does not hold (say, deleted from a copy of the database).
    Licence.objects.filter(pk=licence.pk).delete()
    assert services.licence_verify(token).status == "unknown"
    # A key this platform never had.
    SigningKey.objects.all().delete()
    assert services.licence_verify(token).status == "unknown"


def test_the_verification_link_is_accepted_as_well_as_the_token(citizen):
    licence = issue_birth_certificate(citizen)
    link = f"https://tongban.example/licences/verify/?t={services.licence_token(licence)}"
    result = services.licence_verify(link)
    assert result.status == "valid"
    assert result.licence == licence


def test_verification_gives_only_public_fields(citizen):
    licence = issue_birth_certificate(citizen)
    result = services.licence_verify(services.licence_token(licence))
    assert [f["name"] for f in result.public_fields] == ["birth_hospital"]


def test_an_expired_licence_is_valid_and_flagged(citizen):
    services.licence_types_demo_ensure()
    licence = services.licence_issue(
        actor=SYSTEM,
        type="passport",
        data={"applicant_name": "李明", "applicant_resident_id": person_for(citizen).resident_id},
        department="public-security",
        holder_person=person_for(citizen),
        valid_until=dt.date(2020, 1, 1),
    )
    result = services.licence_verify(services.licence_token(licence))
    assert result.status == "valid"
    assert result.expired
    assert not result.ok


def test_rotation_keeps_old_licences_verifiable(citizen):
    old = issue_birth_certificate(citizen)
    old_key = old.key
    new_key = services.key_rotate(actor=SYSTEM, department="health")
    old_key.refresh_from_db()
    assert not old_key.active and old_key.retired_at is not None
    assert new_key.active and new_key.key_id != old_key.key_id
    new = issue_birth_certificate(citizen)
    assert new.key == new_key
    assert services.licence_verify(services.licence_token(old)).status == "valid"
    assert services.licence_verify(services.licence_token(new)).status == "valid"
    assert AuditEntry.objects.filter(action="licence_key.rotated", subject_id=new_key.key_id).exists()


@override_settings(TONGBAN_LICENCE_ALGORITHM="sm2")
def test_sm2_licences_sign_and_verify(citizen):
    licence = issue_birth_certificate(citizen)
    assert licence.algorithm == "sm2"
    assert licence.key.public_key.startswith("04") and len(licence.key.public_key) == 130
    token = services.licence_token(licence)
    assert services.licence_verify(token).status == "valid"
    assert services.licence_verify(_flip(token, 10)).status == "altered"
    assert services.licence_verify(_flip(token, len(token) - 5)).status == "altered"


def test_rotating_to_sm2_keeps_ed25519_licences_verifiable(citizen):
    old = issue_birth_certificate(citizen)
    assert old.algorithm == "ed25519"
    services.key_rotate(actor=SYSTEM, department="health", algorithm="sm2")
    new = issue_birth_certificate(citizen)
    assert new.algorithm == "sm2"
    assert services.licence_verify(services.licence_token(old)).status == "valid"
    assert services.licence_verify(services.licence_token(new)).status == "valid"


def test_a_missing_private_key_stops_issuing(citizen, key_dir):
    licence = issue_birth_certificate(citizen)
    (key_dir / f"{licence.key.key_id}.key").unlink()
    services._private_cache.clear()
    with pytest.raises(Conflict):
        issue_birth_certificate(citizen)


def test_key_storage_can_be_replaced(citizen):
    class MemoryStorage(keys.KeyStorage):
        def __init__(self):
            self.saved = {}

        def save(self, key_id, private):
            self.saved[key_id] = private

        def load(self, key_id):
            return self.saved[key_id]

        def exists(self, key_id):
            return key_id in self.saved

    memory = MemoryStorage()
    keys.storage_set(memory)
    try:
        licence = issue_birth_certificate(citizen)
    finally:
        keys.storage_set(None)
    assert licence.key.key_id in memory.saved


def test_licences_for_case_results_issues_one_per_licence_result(citizen):
    services.licence_types_demo_ensure()
    case_id = uuid.uuid4()
    results = [
        {"item": "birth-medical-certificate", "licence_type": "birth-medical-certificate"},
        {"item": "birth-household-registration", "licence_type": ""},
    ]
    form_data = dict(BIRTH_DATA, mailing_address="上海市徐汇区", household_address="x")
    issued = services.licences_for_case_results(
        actor=SYSTEM,
        case_id=case_id,
        results=results,
        form_data=form_data,
        holder_person=person_for(citizen),
        department_codes={"birth-medical-certificate": "health"},
    )
    assert [licence.type.code for licence in issued] == ["birth-medical-certificate"]
    assert "mailing_address" not in issued[0].data
    again = services.licences_for_case_results(
        actor=SYSTEM, case_id=case_id, results=results, form_data=form_data, holder_person=person_for(citizen)
    )
    assert [licence.pk for licence in again] == [issued[0].pk]


def test_the_notification_read_gives_what_the_orm_read_gives(citizen, django_assert_num_queries):
    from tongban.licences.selectors import licence_for_notification, licence_get

    services.licence_types_demo_ensure()
    organisation = OrganisationFactory()
    held_by_person = issue_birth_certificate(citizen)
    held_by_organisation = issue_business_licence(organisation)
    for issued in (held_by_person, held_by_organisation):
        expected = licence_get(issued.number)
        with django_assert_num_queries(1):
            found = licence_for_notification(issued.number)
            holder = found.holder_organisation or found.holder_person
            names = (found.type.name_zh, found.type.name_en, holder.name)
        assert {f.attname: getattr(found, f.attname) for f in Licence._meta.concrete_fields} == {
            f.attname: getattr(expected, f.attname) for f in Licence._meta.concrete_fields
        }
        assert names == (
            expected.type.name_zh,
            expected.type.name_en,
            (expected.holder_organisation or expected.holder_person).name,
        )
        assert (found.holder_person is None) == (expected.holder_person is None)
        assert (found.holder_organisation is None) == (expected.holder_organisation is None)
    assert licence_for_notification("NO-SUCH-NUMBER") is None
    assert licence_for_notification("") is None
