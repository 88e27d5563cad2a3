"""法人一证通 with SM2 (the option): an agent whose key is an SM2 key (a USB key's) requests a certificate with an
SM2-signed challenge, gets an agent certificate for the SM2 key under the platform's chain, signs in and signs a
submission through the API with SM2 and SM3; revocation refuses it at once; another SM2 key's signature fails."""

import base64
import json

import pytest
from cryptography import x509

from tongban.cases.models import Case
from tongban.enterprise import ca, services
from tongban.enterprise.selectors import case_signatures_checked
from tongban.identity.selectors import actor_for
from tongban.licences import crypto

pytestmark = pytest.mark.django_db


class Sm2Key:
    def __init__(self):
        self.pair = crypto.generate(crypto.SM2)

    @property
    def public(self) -> str:
        return self.pair.public  # 04 || x || y (hex), as USB keys export it

    def sign(self, data: bytes | str) -> str:
        data = data.encode() if isinstance(data, str) else data
        return base64.b64encode(
            crypto.sign(crypto.SM2, self.pair.private, data, public=self.pair.public)
        ).decode()


@pytest.fixture
def sm2_certificate(citizen, organisation, agent):
    """The agent asks through the API (their USB key's public key, the challenge signed with SM2); the
    representative issues it."""
    from django.test import Client

    from tongban.enterprise.models import CertificateRequest

    key = Sm2Key()
    services.organisation_certificate_issue(actor=actor_for(citizen), organisation=organisation)
    api = Client()
    api.force_login(agent)
    nonce = api.post("/api/v1/enterprise/challenges/").json()["nonce"]
    asked = api.post(
        f"/api/v1/enterprise/organisations/{organisation.credit_code}/certificate-requests/",
        {"public_key": key.public, "nonce": nonce, "signature": key.sign(services.LOGIN_PREFIX + nonce)},
        content_type="application/json",
    )
    assert asked.status_code == 201, asked.content
    certificate = services.agent_certificate_issue(
        actor=actor_for(citizen),
        certificate_request=CertificateRequest.objects.get(agent=agent),
        scopes=["login", "sign"],
        valid_days=30,
    )
    return key, certificate


def _sign_in(client, serial, key):
    nonce = client.post("/api/v1/enterprise/challenges/").json()["nonce"]
    return client.post(
        "/api/v1/enterprise/sign-in/",
        {"serial": serial, "nonce": nonce, "signature": key.sign(services.LOGIN_PREFIX + nonce)},
        content_type="application/json",
    )


def test_an_sm2_key_gets_a_certificate_under_the_platforms_chain(sm2_certificate, organisation):
    key, certificate = sm2_certificate
    assert ca.key_algorithm(certificate.pem) == "SM2"
    ca.chain_verify(certificate.pem, certificate.parent.pem)  # the organisation's P-256 signature holds
    loaded = x509.load_pem_x509_certificate(certificate.pem.encode())
    assert "1.2.156.10197.1.301" not in str(
        loaded.signature_algorithm_oid
    )  # signed by the P-256 organisation
    assert ca.cert_public_key(loaded).hex() == key.public
    assert base64.b64decode(ca.spki_b64(certificate.pem)) == ca.SM2_SPKI_PREFIX + bytes.fromhex(key.public)


def test_an_sm2_agent_signs_in_and_signs_a_submission_and_revocation_stops_it(
    client, citizen, organisation, agent, sm2_certificate, sign_item
):
    key, certificate = sm2_certificate
    assert _sign_in(client, certificate.serial, Sm2Key()).status_code == 403  # another SM2 key
    response = _sign_in(client, certificate.serial, key)
    assert response.status_code == 200 and response.json()["username"] == agent.get_username()

    body = json.dumps(
        {
            "service_type": "item",
            "service_code": sign_item.code,
            "applicant_organisation": organisation.credit_code,
            "form_data": {"sign_text": "国密招牌"},
        },
        ensure_ascii=False,
    )
    submitted = client.post(
        "/api/v1/cases/",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="sm2-1",
        HTTP_TONGBAN_CERTIFICATE=certificate.serial,
        HTTP_TONGBAN_CERTIFICATE_SIGNATURE=key.sign(body),
    )
    assert submitted.status_code == 201, submitted.content
    [check] = case_signatures_checked(Case.objects.get())
    assert check.verified and check.serial == certificate.serial

    services.certificate_revoke(actor=actor_for(citizen), certificate=certificate, reason="UKey lost")
    client.logout()
    refused = _sign_in(client, certificate.serial, key)
    assert refused.status_code == 403 and refused.json()["code"] == "revoked"


def test_a_key_on_a_curve_nobody_knows_is_a_field_error_not_a_server_error(client, organisation, agent):
    unknown_curve = (
        bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822e034200") + b"\x04" + bytes(64)
    )
    client.force_login(agent)
    nonce = client.post("/api/v1/enterprise/challenges/").json()["nonce"]
    asked = client.post(
        f"/api/v1/enterprise/organisations/{organisation.credit_code}/certificate-requests/",
        {"public_key": base64.b64encode(unknown_curve).decode(), "nonce": nonce, "signature": "AAAA"},
        content_type="application/json",
    )
    assert asked.status_code == 400 and "public_key" in asked.json()["errors"], asked.content
    signed_in = client.post(
        "/api/v1/enterprise/sign-in/",
        {"public_key": base64.b64encode(unknown_curve).decode(), "nonce": nonce, "signature": "AAAA"},
        content_type="application/json",
    )
    assert signed_in.status_code in (400, 403), signed_in.content
