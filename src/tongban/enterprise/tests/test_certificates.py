"""法人一证通: the CA issues, revokes and expires; a signed challenge signs an agent in; refusals."""

import datetime as dt

import pytest
from cryptography import x509
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tongban.core.exceptions import Conflict
from tongban.enterprise import ca, services
from tongban.enterprise.models import Certificate, CertificateUse
from tongban.exchange.models import DataUse
from tongban.identity.selectors import actor_for

from .conftest import BrowserKey, issue_agent_certificate

pytestmark = pytest.mark.django_db


def test_legal_representative_obtains_the_organisation_certificate_chained_to_the_root(
    citizen, organisation, ca_dir
):
    cert = services.organisation_certificate_issue(actor=actor_for(citizen), organisation=organisation)
    parsed = ca.load(cert.pem)
    parsed.verify_directly_issued_by(ca.root()[1])
    assert parsed.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert organisation.credit_code in cert.subject
    # The keys are files outside the database, private to the process's user.
    assert (ca_dir / "root.key.pem").stat().st_mode & 0o077 == 0
    assert (ca_dir / f"org-{cert.serial}.key.pem").exists()
    assert "PRIVATE" not in cert.pem
    # The representative was checked against the register: a data use the person can see.
    assert DataUse.objects.filter(resource_code="business-registration", person__user=citizen).exists()
    assert organisation.agents.filter(pk=citizen.pk).exists()
    with pytest.raises(Conflict):
        services.organisation_certificate_issue(actor=actor_for(citizen), organisation=organisation)


def test_someone_the_register_does_not_name_cannot_obtain_the_certificate(agent, organisation):
    with pytest.raises(PermissionDenied):
        services.organisation_certificate_issue(actor=actor_for(agent), organisation=organisation)
    assert not Certificate.objects.exists()


def test_agent_certificate_carries_scopes_and_expiry_and_chains_through_the_organisation(
    citizen, organisation, agent, browser_key
):
    cert = issue_agent_certificate(
        representative=citizen,
        organisation=organisation,
        agent=agent,
        key=browser_key,
        scopes=["login"],
        days=30,
    )
    assert cert.scopes == ["login"]
    assert cert.not_after <= timezone.now() + dt.timedelta(days=30, minutes=1)
    ca.chain_verify(cert.pem, cert.parent.pem)
    assert ca.load(cert.pem).public_key().public_numbers() == browser_key.key.public_key().public_numbers()


def test_a_request_needs_proof_of_the_key(organisation, agent, browser_key):
    nonce = services.challenge_create().nonce
    with pytest.raises(ValidationError):
        services.certificate_request(
            actor=actor_for(agent),
            organisation=organisation,
            public_key=browser_key.spki,
            nonce=nonce,
            signature=BrowserKey().sign_challenge(nonce),
        )


def _login(cert, key, nonce=None):
    nonce = nonce or services.challenge_create().nonce
    return services.certificate_login_check(
        serial=cert.serial, nonce=nonce, signature=key.sign_challenge(nonce)
    )


def test_signed_challenge_signs_in_and_is_recorded(citizen, organisation, agent, browser_key):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    assert _login(cert, browser_key).holder == agent
    assert CertificateUse.objects.filter(certificate=cert, purpose="login", accepted=True).count() == 1


def test_a_replayed_nonce_is_refused(citizen, organisation, agent, browser_key):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    nonce = services.challenge_create().nonce
    _login(cert, browser_key, nonce)
    with pytest.raises(services.CertificateRefused) as refused:
        _login(cert, browser_key, nonce)
    assert refused.value.code == "nonce"


def test_a_wrong_key_is_refused(citizen, organisation, agent, browser_key):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    with pytest.raises(services.CertificateRefused) as refused:
        _login(cert, BrowserKey())
    assert refused.value.code == "signature"
    assert CertificateUse.objects.filter(certificate=cert, accepted=False, reason="signature").exists()


def test_revocation_takes_effect_at_once_and_reaches_the_crl(citizen, organisation, agent, browser_key):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    services.certificate_revoke(actor=actor_for(citizen), certificate=cert, reason="left the company")
    with pytest.raises(services.CertificateRefused) as refused:
        _login(cert, browser_key)
    assert refused.value.code == "revoked"
    from tongban.enterprise.selectors import crl_for

    crl = x509.load_der_x509_crl(crl_for(organisation))
    assert crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16)) is not None
    assert crl.is_signature_valid(ca.load(cert.parent.pem).public_key())


def test_revoking_the_organisation_certificate_revokes_its_agents(citizen, organisation, agent, browser_key):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    services.certificate_revoke(actor=actor_for(citizen), certificate=cert.parent, reason="key compromised")
    cert.refresh_from_db()
    assert cert.revoked


def test_an_agent_cannot_revoke_someone_elses_certificate(citizen, organisation, agent, browser_key):
    own = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=citizen, key=BrowserKey()
    )
    with pytest.raises(PermissionDenied):
        services.certificate_revoke(actor=actor_for(agent), certificate=own, reason="no")


def test_an_expired_certificate_is_refused(citizen, organisation, agent, browser_key):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key, days=1
    )
    later = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(services.CertificateRefused) as refused:
        services.certificate_usable(cert, scope="login", at=later)
    assert refused.value.code == "expired"


def test_a_certificate_not_signed_by_the_authority_is_refused(
    citizen, organisation, agent, browser_key, settings, tmp_path
):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    settings.TONGBAN_ENTERPRISE_CA_DIR = tmp_path / "another-root"  # a database restored under another CA
    with pytest.raises(services.CertificateRefused) as refused:
        _login(cert, browser_key)
    assert refused.value.code == "chain"


def test_a_certificate_without_the_scope_is_refused(citizen, organisation, agent, browser_key):
    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key, scopes=["sign"]
    )
    with pytest.raises(services.CertificateRefused) as refused:
        _login(cert, browser_key)
    assert refused.value.code == "scope"


def test_an_agent_removed_from_the_enterprise_cannot_sign_in(citizen, organisation, agent, browser_key):
    from tongban.core.audit import SYSTEM
    from tongban.identity.services import organisation_agent_remove

    cert = issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key
    )
    organisation_agent_remove(actor=SYSTEM, organisation=organisation, user=agent)
    with pytest.raises(services.CertificateRefused) as refused:
        _login(cert, browser_key)
    assert refused.value.code == "holder"


def test_expiry_warnings_reach_the_enterprise_inbox_once(citizen, organisation, agent, browser_key):
    from tongban.messaging.models import Message

    issue_agent_certificate(
        representative=citizen, organisation=organisation, agent=agent, key=browser_key, days=10
    )
    assert services.certificates_expiry_warn() == 1
    services.certificates_expiry_warn()
    messages = Message.objects.filter(organisation=organisation, topic="enterprise")
    assert messages.count() == 1
    assert "赵敏的证书" in messages.get().body


def test_the_deployment_check_warns_of_ca_keys_beside_the_database(settings, tmp_path):
    from tongban.enterprise.checks import check_ca_dir

    settings.TONGBAN_ENTERPRISE_CA_DIR = settings.VAR_DIR / "keys" / "enterprise-ca"
    assert [w.id for w in check_ca_dir(None)] == ["tongban.W020"]
    settings.TONGBAN_ENTERPRISE_CA_DIR = tmp_path / "etc" / "enterprise-ca"
    assert check_ca_dir(None) == []
