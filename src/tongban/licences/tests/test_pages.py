"""Portal pages (wallet, licence, PDF, public verification) and the staff revocation page."""

import pytest
from django.test import Client
from django.urls import reverse

from tongban.core.audit import SYSTEM
from tongban.core.masking import mask_resident_id
from tongban.core.models import AuditEntry
from tongban.identity import services as identity
from tongban.identity.selectors import department_get, person_for
from tongban.identity.tests.factories import CitizenFactory, OrganisationFactory
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.licences import services
from tongban.licences.pdf import token_from_pdf

from .factories import BIRTH_DATA, issue_birth_certificate

pytestmark = pytest.mark.django_db


def _staff(username, department_code, roles):
    user = identity.user_create(actor=SYSTEM, username=username, password="x-pass-2026", check_password=False)
    identity.staff_create(actor=SYSTEM, user=user, department=department_get(department_code), roles=roles)
    return user


@pytest.fixture
def client():
    return Client(headers={"accept-language": "zh-hans"})


def test_the_wallet_shows_only_my_licences_and_my_organisations(client, citizen):
    mine = issue_birth_certificate(citizen)
    someone = CitizenFactory()
    theirs = services.licence_issue(
        actor=SYSTEM,
        type="birth-medical-certificate",
        data=BIRTH_DATA,
        department="health",
        holder_person=person_for(someone),
    )
    organisation = OrganisationFactory(agents=[citizen])
    company = services.licence_issue(
        actor=SYSTEM,
        type="business-licence",
        data={"business_address": "上海市徐汇区", "business_scope": "软件开发"},
        department="market-regulation",
        holder_organisation=organisation,
    )
    client.force_login(citizen)
    page = client.get(reverse("licences:wallet")).content.decode()
    assert mine.number in page
    assert company.number in page
    assert theirs.number not in page
    assert client.get(reverse("licences:detail", args=[theirs.number])).status_code == 404
    assert client.get(reverse("licences:pdf", args=[theirs.number])).status_code == 404


def test_the_wallet_needs_a_login(client):
    response = client.get(reverse("licences:wallet"))
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_the_licence_page_shows_its_qr_code_and_masks_sensitive_fields(client, citizen):
    licence = issue_birth_certificate(citizen)
    client.force_login(citizen)
    page = client.get(reverse("licences:detail", args=[licence.number])).content.decode()
    assert "<svg" in page
    assert services.licence_token(licence) in page
    assert "李小明" in page  # personal: the holder sees it
    assert BIRTH_DATA["mother_resident_id"] not in page  # sensitive: masked even for the holder
    assert mask_resident_id(BIRTH_DATA["mother_resident_id"]) in page


def test_the_pdf_is_a_pdf_carrying_the_token(client, citizen):
    licence = issue_birth_certificate(citizen)
    client.force_login(citizen)
    response = client.get(reverse("licences:pdf", args=[licence.number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF")
    token = services.licence_token(licence)
    assert token_from_pdf(data) == token
    assert token[:64].encode() in data  # printed too, in lines of 64 characters
    assert BIRTH_DATA["mother_resident_id"].encode() not in data.replace(token.encode(), b"")


def test_a_pdf_whose_token_was_edited_by_one_byte_reads_as_altered(client, citizen):
    licence = issue_birth_certificate(citizen)
    client.force_login(citizen)
    data = client.get(reverse("licences:pdf", args=[licence.number])).content
    token = token_from_pdf(data)
    assert services.licence_verify(token).status == "valid"
    position = data.index(token.encode()) + 40
    edited = bytearray(data)
    edited[position] = ord("A") if edited[position] != ord("A") else ord("B")
    edited_token = token_from_pdf(bytes(edited))
    assert edited_token != token
    assert services.licence_verify(edited_token).status == "altered"


def test_the_verification_page_shows_status_and_public_fields_only(client, citizen):
    licence = issue_birth_certificate(citizen)
    page = client.get(reverse("licences:verify"), {"t": services.licence_token(licence)}).content.decode()
    assert 'data-status="valid"' in page
    assert "有效" in page
    assert BIRTH_DATA["birth_hospital"] in page  # public
    assert licence.number in page
    for private in ("李小明", "王丽", BIRTH_DATA["mother_resident_id"], "李明", "2026-03-01"):
        assert private not in page, private
    assert "李*" in page  # the holder, masked


def test_the_verification_page_says_revoked_altered_and_unknown(client, citizen):
    licence = issue_birth_certificate(citizen)
    token = services.licence_token(licence)
    url = reverse("licences:verify")
    altered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    page = client.get(url, {"t": altered}).content.decode()
    assert 'data-status="altered"' in page and "已被篡改" in page
    assert BIRTH_DATA["birth_hospital"] not in page
    page = client.get(url, {"t": "not a licence"}).content.decode()
    assert 'data-status="unknown"' in page and "无法识别" in page
    services.licence_revoke(actor=SYSTEM, licence=licence, reason="信息有误")
    page = client.get(url, {"t": token}).content.decode()
    assert 'data-status="revoked"' in page and "已撤销" in page
    assert "信息有误" not in page  # the reason is not public
    page = client.get(url).content.decode()
    assert 'name="t"' in page and "data-status" not in page


def test_health_staff_revoke_a_health_licence_with_a_reason(client, citizen, staff_user):
    licence = issue_birth_certificate(citizen)
    login_with_second_factor(client, staff_user)
    url = reverse("licences:revoke", args=[licence.number])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    licence.refresh_from_db()
    assert licence.status == "valid"
    response = client.post(url, {"reason": "助产机构报告信息录入错误"})
    assert response.status_code == 302
    licence.refresh_from_db()
    assert licence.status == "revoked"
    assert licence.revoked_by == "wang.fang"
    entry = AuditEntry.objects.get(action="licence.revoked")
    assert entry.actor_department == "health"


def test_staff_of_another_department_cannot_revoke(client, citizen):
    licence = issue_birth_certificate(citizen)
    tax = _staff("tax.head", "tax", ["dept_head"])
    login_with_second_factor(client, tax)
    response = client.post(reverse("licences:revoke", args=[licence.number]), {"reason": "x"})
    assert response.status_code == 403
    licence.refresh_from_db()
    assert licence.status == "valid"
    assert AuditEntry.objects.filter(action="permission.denied", subject_id="licence.issue").exists()


def test_the_revocation_page_needs_the_second_factor_and_staff(client, citizen, staff_user):
    licence = issue_birth_certificate(citizen)
    url = reverse("licences:revoke", args=[licence.number])
    client.force_login(staff_user)
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("identity:otp-verify") in response["Location"]
    client.force_login(citizen)
    assert client.post(url, {"reason": "x"}).status_code == 403
    licence.refresh_from_db()
    assert licence.status == "valid"


def test_issuing_staff_may_download_the_pdf_but_not_see_it_in_a_wallet(client, citizen, staff_user):
    licence = issue_birth_certificate(citizen)
    login_with_second_factor(client, staff_user)
    assert client.get(reverse("licences:pdf", args=[licence.number])).status_code == 200
    assert client.get(reverse("licences:detail", args=[licence.number])).status_code == 404


def test_the_wallet_shows_each_licences_qr_code(client, citizen):
    issue_birth_certificate(citizen)
    client.force_login(citizen)
    page = client.get(reverse("licences:wallet")).content.decode()
    assert page.count("<svg") == 1
    assert "/licences/verify/?t=" in page


def test_staff_reading_a_licence_pdf_is_on_record(client, citizen, staff_user):
    licence = issue_birth_certificate(citizen)
    client.force_login(citizen)
    client.get(reverse("licences:pdf", args=[licence.number]))
    assert not AuditEntry.objects.filter(action="licence.viewed").exists()  # the holder's own
    login_with_second_factor(client, staff_user)
    client.get(reverse("licences:pdf", args=[licence.number]))
    entry = AuditEntry.objects.get(action="licence.viewed")
    assert entry.subject_id == licence.number and entry.actor_department == "health"


def test_an_unknown_licence_sends_anonymous_visitors_to_log_in_and_staff_to_404(client, staff_user):
    url = reverse("licences:revoke", args=["BMC-2026-NOSUCH00"])
    assert client.get(url).status_code == 302
    login_with_second_factor(client, staff_user)
    assert client.get(url).status_code == 404


def test_a_malformed_link_on_the_public_verify_page_and_api_is_unknown_not_a_500(client):
    response = client.get("/licences/verify/", {"t": "http://[x?t=abc.def"})
    assert response.status_code in (200, 400)
    api = client.post(
        "/api/v1/licences/verify/", {"token": "http://[x?t=abc.def"}, content_type="application/json"
    )
    assert api.status_code in (200, 400)
