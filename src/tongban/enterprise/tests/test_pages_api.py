"""The certificate sign-in over HTTP (page and API, mutual TLS behind a proxy), a signed submission verified on the
staff's case page, and who may enter an enterprise space."""

import json

import pytest
from django.urls import reverse

from tongban.cases.models import Case
from tongban.core.audit import SYSTEM
from tongban.enterprise.models import CaseSignature
from tongban.enterprise.selectors import case_signatures_checked
from tongban.identity import services as identity
from tongban.identity.selectors import department_get
from tongban.identity.tests.fixtures import login_with_second_factor

from .conftest import BrowserKey, issue_agent_certificate

pytestmark = pytest.mark.django_db


def _challenge(client):
    return client.post(reverse("enterprise:challenge")).json()


def _sign_in(client, key, **extra):
    challenge = _challenge(client)
    body = {
        "public_key": key.spki,
        "nonce": challenge["nonce"],
        "signature": key.sign(challenge["prefix"] + challenge["nonce"]),
    }
    body.update(extra)
    return client.post(
        reverse("enterprise:sign-in-submit"), json.dumps(body), content_type="application/json"
    ), body


def test_the_browser_key_signs_the_agent_in_and_a_replay_is_refused(
    client, citizen, organisation, agent, browser_key
):
    issue_agent_certificate(representative=citizen, organisation=organisation, agent=agent, key=browser_key)
    response, body = _sign_in(client, browser_key)
    assert response.status_code == 200, response.content
    assert int(client.session["_auth_user_id"]) == agent.pk
    space = client.get(reverse("enterprise:space", args=[organisation.credit_code]))
    assert space.status_code == 200
    client.logout()
    replay = client.post(
        reverse("enterprise:sign-in-submit"), json.dumps(body), content_type="application/json"
    )
    assert (replay.status_code, replay.json()["code"]) == (403, "nonce")
    assert "_auth_user_id" not in client.session


def test_another_key_is_refused_and_nobody_is_signed_in(client, citizen, organisation, agent, browser_key):
    issue_agent_certificate(representative=citizen, organisation=organisation, agent=agent, key=browser_key)
    challenge = _challenge(client)
    body = {
        "public_key": browser_key.spki,
        "nonce": challenge["nonce"],
        "signature": BrowserKey().sign(challenge["prefix"] + challenge["nonce"]),
    }
    response = client.post(
        reverse("enterprise:sign-in-submit"), json.dumps(body), content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "signature")
    assert "_auth_user_id" not in client.session


def test_the_api_signs_in_by_serial(client, citizen, organisation, agent, browser_key):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    challenge = client.post("/api/v1/enterprise/challenges/").json()
    response = client.post(
        "/api/v1/enterprise/sign-in/",
        {
            "serial": cert.serial,
            "nonce": challenge["nonce"],
            "signature": browser_key.sign_challenge(challenge["nonce"]),
        },
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["username"] == "agent.zhao"
    bad = client.post("/api/v1/enterprise/sign-in/", {"nonce": "x" * 100}, content_type="application/json")
    assert bad.status_code == 400


def test_mutual_tls_header_is_trusted_only_from_the_configured_proxy(
    client, settings, citizen, organisation, agent, browser_key
):
    from urllib.parse import quote

    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    settings.TONGBAN_CLIENT_CERT_HEADER = "X-SSL-Client-Cert"
    settings.TONGBAN_CLIENT_CERT_TRUSTED_PROXIES = ["10.0.0.5"]
    header = {"HTTP_X_SSL_CLIENT_CERT": quote(cert.pem)}
    untrusted = client.get(reverse("enterprise:sign-in-tls"), REMOTE_ADDR="203.0.113.9", **header)
    assert untrusted.status_code == 403 and "_auth_user_id" not in client.session
    trusted = client.get(reverse("enterprise:sign-in-tls"), REMOTE_ADDR="10.0.0.5", **header)
    assert trusted.status_code == 302 and int(client.session["_auth_user_id"]) == agent.pk


def test_a_signed_submission_is_kept_and_verified_on_the_staff_case_page(
    client, citizen, organisation, agent, browser_key, org_case
):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    client.force_login(agent)
    url = f"/api/v1/enterprise/cases/{org_case.number}/signatures/"
    payload = client.get(url).json()["payload"]
    assert json.loads(payload)["form"] == {"sign_text": "测试精密"}
    forged = client.post(
        url, {"serial": cert.serial, "signature": BrowserKey().sign(payload)}, content_type="application/json"
    )
    assert forged.status_code == 403
    signed = client.post(
        url, {"serial": cert.serial, "signature": browser_key.sign(payload)}, content_type="application/json"
    )
    assert signed.status_code == 201, signed.content
    assert CaseSignature.objects.filter(case_id=org_case.pk).count() == 1
    [check] = case_signatures_checked(org_case)
    assert check.verified and check.signer == "赵敏"

    handler = identity.user_create(
        actor=SYSTEM, username="mr.handler", password="x-pass-2026", check_password=False
    )
    identity.staff_create(
        actor=SYSTEM, user=handler, department=department_get("market-regulation"), roles=["dept_handler"]
    )
    staff = login_with_second_factor(client, handler)
    page = staff.get(reverse("workbench:case", args=[org_case.number]))
    assert page.status_code == 200
    assert "已验证" in page.content.decode() or "verified" in page.content.decode()

    Case.objects.filter(pk=org_case.pk).update(form_data={"sign_text": "改过"})
    org_case.refresh_from_db()
    [check] = case_signatures_checked(org_case)
    assert not check.verified and not check.matches_case


def test_an_outsider_cannot_enter_the_space_and_an_agent_sees_only_their_own_certificates(
    client, citizen, organisation, agent, browser_key
):
    issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=citizen, key=BrowserKey()
    )
    mine = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    outsider = identity.user_create(
        actor=SYSTEM, username="outsider", password="x-pass-2026", check_password=False
    )
    client.force_login(outsider)
    assert client.get(reverse("enterprise:space", args=[organisation.credit_code])).status_code == 404
    assert (
        client.get(f"/api/v1/enterprise/organisations/{organisation.credit_code}/certificates/").status_code
        == 404
    )
    assert client.get(reverse("enterprise:certificate-download", args=[mine.pk])).status_code == 404
    client.force_login(agent)
    listed = client.get(f"/api/v1/enterprise/organisations/{organisation.credit_code}/certificates/").json()
    assert [c["serial"] for c in listed] == [mine.serial]
    # An agent cannot obtain the organisation's certificate nor revoke the representative's.
    refused = client.post(f"/api/v1/enterprise/organisations/{organisation.credit_code}/certificate/")
    assert refused.status_code == 403
    client.force_login(citizen)
    listed = client.get(f"/api/v1/enterprise/organisations/{organisation.credit_code}/certificates/").json()
    assert len(listed) == 3  # the organisation's and both agents'
    for language in ("zh-hans", "en"):
        client.cookies["django_language"] = language
        page = client.get(reverse("enterprise:space", args=[organisation.credit_code]))
        assert page.status_code == 200
        assert mine.serial[:12] in page.content.decode()


def test_the_crl_and_the_root_certificate_are_public(client, citizen, organisation, agent, browser_key):
    issue_agent_certificate(representative=citizen, organisation=organisation, agent=agent, key=browser_key)
    assert (
        client.get(reverse("enterprise:crl", args=[organisation.credit_code]))["Content-Type"]
        == "application/pkix-crl"
    )
    assert client.get(reverse("enterprise:crl-root")).status_code == 200
    assert b"BEGIN CERTIFICATE" in client.get(reverse("enterprise:ca-certificate")).content


def test_revoking_a_certificate_ends_the_sessions_it_opened(
    client, citizen, organisation, agent, browser_key
):
    from tongban.enterprise.services import certificate_revoke
    from tongban.identity.selectors import actor_for

    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    response, _body = _sign_in(client, browser_key)
    assert response.status_code == 200
    space = reverse("enterprise:space", args=[organisation.credit_code])
    assert client.get(space).status_code == 200
    certificate_revoke(actor=actor_for(citizen), certificate=cert, reason="lost laptop")
    assert client.get(space).status_code == 302  # signed out: to the sign-in page
    assert "_auth_user_id" not in client.session


def test_the_representative_is_offered_the_organisation_certificate_only_while_none_is_in_force(
    client, citizen, organisation
):
    client.force_login(citizen)
    space = reverse("enterprise:space", args=[organisation.credit_code])
    obtain = reverse("enterprise:organisation-certificate", args=[organisation.credit_code])
    assert obtain in client.get(space).content.decode()
    assert client.post(obtain).status_code == 302
    assert organisation.certificates.filter(kind="organisation", revoked_at__isnull=True).count() == 1
    assert obtain not in client.get(space).content.decode()
