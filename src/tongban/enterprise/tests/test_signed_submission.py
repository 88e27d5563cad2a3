"""法人一证通: an agent signs what they submit. The signature over the form (or the API body) as sent is checked
before the case is written, kept in the case's transaction, and verified on the staff's case page; a forged,
altered or revoked signature leaves no case behind."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from tongban.cases.models import Case
from tongban.cases.selectors import case_materials
from tongban.cases.signing import form_canonical
from tongban.enterprise import services
from tongban.enterprise.models import CaseSignature, CertificateUse
from tongban.enterprise.selectors import case_signatures_checked
from tongban.identity.selectors import actor_for

from .conftest import BrowserKey, issue_agent_certificate

pytestmark = pytest.mark.django_db

DRAWING = b"%PDF-1.4\n% a shop sign\n"


def _form(organisation, text='测试 "精密"\r\n制造', key="k-signed-1"):
    return {"applicant": f"organisation:{organisation.pk}", "sign_text": text, "idempotency_key": key}


def _signed_post(client, url, fields, key, cert, *, signed_fields=None, drawing=DRAWING):
    """POST the form as a browser does after signing it: the signature covers ``signed_fields`` (default: the
    fields sent) and the drawing's name, size and SHA-256."""
    query = QueryDict(mutable=True)
    for name, value in (signed_fields or fields).items():
        query[name] = value
    files = MultiValueDict({"materials.sign-design": [SimpleUploadedFile("设计图.pdf", drawing)]})
    signature = key.sign(form_canonical(query, files))
    body = {
        **fields,
        "tb_signature_serial": cert.serial,
        "tb_signature": signature,
        "materials.sign-design": SimpleUploadedFile("设计图.pdf", drawing, content_type="application/pdf"),
    }
    return client.post(url, body)


@pytest.fixture
def signing_agent(client, citizen, organisation, agent, browser_key, sign_item):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    client.force_login(agent)
    return cert


def test_the_form_offers_the_agents_certificate_for_the_enterprise_only(
    client, organisation, signing_agent, sign_item
):
    page = client.get(reverse("cases:apply_item", args=[sign_item.code])).content.decode()
    assert 'id="tb-signing-certificates"' in page and signing_agent.serial in page
    assert "enterprise/certificate.js" in page


def test_a_signed_form_becomes_a_case_with_its_signature_verified(
    client, organisation, signing_agent, browser_key, sign_item
):
    url = reverse("cases:apply_item", args=[sign_item.code])
    response = _signed_post(client, url, _form(organisation), browser_key, signing_agent)
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.applicant_organisation == organisation
    [record] = CaseSignature.objects.filter(case_id=case.pk)
    assert record.kind == CaseSignature.Kind.SUBMISSION
    signed = json.loads(record.payload)
    assert signed["fields"]["sign_text"] == ['测试 "精密"\n制造']  # line ends as the browser signs them
    assert signed["files"]["materials.sign-design"][0]["size"] == len(DRAWING)
    [material] = case_materials(case)
    assert signed["files"]["materials.sign-design"][0]["sha256"] == material.sha256
    [check] = case_signatures_checked(case)
    assert check.verified and check.matches_case, check.reason
    assert CertificateUse.objects.filter(
        certificate=signing_agent, accepted=True, case_number=case.number
    ).exists()
    # The same form sent again (a double click) is the same case, not a second one nor a second signature.
    again = _signed_post(client, url, _form(organisation), browser_key, signing_agent)
    assert again.status_code == 302 and Case.objects.count() == 1 and CaseSignature.objects.count() == 1


@pytest.mark.parametrize(
    "how",
    ["forged", "altered-field", "altered-file", "revoked", "someone-elses"],
)
def test_a_bad_signature_is_refused_on_the_form_and_writes_no_case(
    client, citizen, organisation, agent, signing_agent, browser_key, sign_item, how
):
    url = reverse("cases:apply_item", args=[sign_item.code])
    fields = _form(organisation)
    key, signed_fields, cert = browser_key, None, signing_agent
    extra = {}
    if how == "forged":
        key = BrowserKey()
    elif how == "altered-field":
        signed_fields = {**fields, "sign_text": "别的招牌"}
    elif how == "altered-file":
        extra = {"drawing": DRAWING + b"tampered"}
    elif how == "revoked":
        services.certificate_revoke(actor=actor_for(citizen), certificate=signing_agent, reason="test")
    elif how == "someone-elses":
        client.force_login(citizen)  # the representative, holding no agent certificate of their own
    if how == "altered-file":
        # The browser signed the original drawing; a different file arrives.
        query = QueryDict(mutable=True)
        query.update(fields)
        from django.utils.datastructures import MultiValueDict as MVD

        signature = key.sign(
            form_canonical(query, MVD({"materials.sign-design": [SimpleUploadedFile("设计图.pdf", DRAWING)]}))
        )
        response = client.post(
            url,
            {
                **fields,
                "tb_signature_serial": cert.serial,
                "tb_signature": signature,
                "materials.sign-design": SimpleUploadedFile("设计图.pdf", extra["drawing"]),
            },
        )
    else:
        response = _signed_post(client, url, fields, key, cert, signed_fields=signed_fields)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="signature-error"' in page and 'href="#tb-signing"' in page
    assert Case.objects.count() == 0 and CaseSignature.objects.count() == 0
    if how != "someone-elses":
        refused = CertificateUse.objects.get(certificate=signing_agent, accepted=False)
        assert refused.reason == ("revoked" if how == "revoked" else "signature")


def test_an_unsigned_form_still_applies(client, organisation, signing_agent, sign_item):
    url = reverse("cases:apply_item", args=[sign_item.code])
    assert client.post(url, _form(organisation)).status_code == 302
    assert Case.objects.count() == 1 and CaseSignature.objects.count() == 0


def test_the_api_takes_a_signature_over_the_body_as_sent(
    client, organisation, signing_agent, browser_key, sign_item
):
    body = json.dumps(
        {
            "service_type": "item",
            "service_code": sign_item.code,
            "applicant_organisation": organisation.credit_code,
            "form_data": {"sign_text": "接口招牌"},
            "materials": {
                "sign-design": {
                    "filename": "d.pdf",
                    "content_type": "application/pdf",
                    "content": base64.b64encode(DRAWING).decode(),
                }
            },
        },
        ensure_ascii=False,
    )
    headers = {
        "HTTP_TONGBAN_CERTIFICATE": signing_agent.serial,
        "HTTP_IDEMPOTENCY_KEY": "api-signed-1",
    }
    forged = client.post(
        "/api/v1/cases/",
        body,
        content_type="application/json",
        HTTP_TONGBAN_CERTIFICATE_SIGNATURE=BrowserKey().sign(body),
        **headers,
    )
    assert forged.status_code == 400, forged.content
    assert forged.json()["errors"]["signature"] == [str(services.REFUSALS["signature"])]
    assert Case.objects.count() == 0
    response = client.post(
        "/api/v1/cases/",
        body,
        content_type="application/json",
        HTTP_TONGBAN_CERTIFICATE_SIGNATURE=browser_key.sign(body),
        **headers,
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    [check] = case_signatures_checked(case)
    assert check.verified and check.signature.payload == body


def test_the_space_marks_signed_cases_and_says_why_a_use_was_refused(
    client, citizen, organisation, signing_agent, browser_key, sign_item
):
    url = reverse("cases:apply_item", args=[sign_item.code])
    _signed_post(client, url, _form(organisation), browser_key, signing_agent)
    _signed_post(client, url, _form(organisation, key="k-forged"), BrowserKey(), signing_agent)
    page = client.get(reverse("enterprise:space", args=[organisation.credit_code])).content.decode()
    assert 'badge text-bg-success">signed<' in page or 'badge text-bg-success">已签署<' in page
    assert str(services.REFUSALS["signature"]) in page  # the refused signature, with its reason


def test_a_signed_api_form_is_checked_as_its_canonical_text_not_a_server_error(
    client, organisation, signing_agent, browser_key, sign_item
):
    """A urlencoded or multipart body is read by the form parser before the view: it is signed as the canonical
    form text (the live fuzzing found a 500 here when the view asked for the raw body)."""
    fields = {
        "service_type": "item",
        "service_code": sign_item.code,
        "applicant_organisation": organisation.credit_code,
        "form_data": json.dumps({"sign_text": "表单招牌"}),
    }
    query = QueryDict(mutable=True)
    query.update(fields)
    signature = browser_key.sign(form_canonical(query, MultiValueDict()))
    response = client.post(
        "/api/v1/cases/",
        fields,  # multipart
        HTTP_TONGBAN_CERTIFICATE=signing_agent.serial,
        HTTP_TONGBAN_CERTIFICATE_SIGNATURE=signature,
    )
    assert response.status_code == 201, response.content
    [check] = case_signatures_checked(Case.objects.get())
    assert check.verified
    urlencoded = client.post(
        "/api/v1/cases/",
        "service_type=item&service_code=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_TONGBAN_CERTIFICATE=signing_agent.serial,
        HTTP_TONGBAN_CERTIFICATE_SIGNATURE="AAAA",
    )
    assert urlencoded.status_code in (400, 415), urlencoded.content
