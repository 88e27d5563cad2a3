"""Writes of 法人一证通: organisation and agent certificates, revocation, sign-in checks, signed submissions,
expiry warnings.

The legal representative is checked against the business register (through ``exchange.services.lookup``: the
register's ``legal_representative_id`` must be the acting person's resident ID number, and the registration
active) before the organisation's certificate is issued and each time an agent's certificate is issued.
Revocation is at once: every sign-in and every signature reads the certificate's row (and its organisation
certificate's) and re-verifies the chain against the root in ``TONGBAN_ENTERPRISE_CA_DIR``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.exceptions import Conflict, DomainError
from tongban.identity.models import Organisation
from tongban.identity.reference import PLATFORM_DEPARTMENT_CODE
from tongban.identity.selectors import UserActor, person_for

from . import ca
from .models import SCOPES, CaseSignature, Certificate, CertificateRequest, CertificateUse, SignInChallenge
from .selectors import holder_name

CERT_PURPOSE = "法人一证通"  # written on the grant as it is (matched, not translated)
CERT_ACTOR = Actor(
    kind="system", id="enterprise-ca", label="enterprise-ca", department=PLATFORM_DEPARTMENT_CODE
)
REGISTER_READ = ("business-registration", ("legal_representative_id", "status", "name"))
CHALLENGE_SECONDS = 120
LOGIN_PREFIX = "tongban-certificate-login:"
EXPIRY_TEMPLATE = "enterprise-certificate-expiring"


class CertificateRefused(DomainError):
    """A certificate that may not be used now; ``code`` says why (revoked, expired, chain, signature, nonce,
    scope, holder, unknown)."""

    default_message = _("The certificate cannot be used.")
    default_code = "certificate_refused"


REFUSALS = {
    "unknown": _("No certificate of this platform has this serial number."),
    "revoked": _("This certificate has been revoked."),
    "expired": _("This certificate is not valid now (expired or not yet valid)."),
    "chain": _("This certificate does not chain to the platform's enterprise authority."),
    "signature": _("The signature does not match the certificate's key."),
    "nonce": _("The sign-in challenge is unknown, used already or expired; ask for a new one."),
    "scope": _("This certificate does not allow this use."),
    "holder": _("The certificate's holder no longer acts for the enterprise."),
    "key_missing": _("The organisation's key is missing from the authority's key directory."),
}


def _refuse(reason: str) -> CertificateRefused:
    return CertificateRefused(REFUSALS.get(reason, REFUSALS["chain"]), code=reason)


def enterprise_reads_grant(*, actor: Actor = SYSTEM) -> None:
    """The standing grant the certificate authority needs to check legal representatives (the demo seed and
    tests; a real city signs it with market regulation)."""
    from tongban.exchange.services import grant_ensure

    resource, fields = REGISTER_READ
    grant_ensure(
        actor=actor,
        department=PLATFORM_DEPARTMENT_CODE,
        resource=resource,
        fields=list(fields),
        purpose=CERT_PURPOSE,
    )


# --- the legal representative ----------------------------------------------------------------------------


def representative_verify(*, actor: UserActor, organisation: Organisation) -> None:
    """Raise PermissionDenied unless the business register names the acting person as the organisation's legal
    representative and the registration is active (one audited lookup, seen by the person in "who used my
    data")."""
    from tongban.exchange.services import GrantMissing, lookup

    person = person_for(actor.user)
    if person is None:
        raise PermissionDenied(_("Only the enterprise's legal representative may do this."))
    resource, fields = REGISTER_READ
    try:
        result = lookup(
            actor=CERT_ACTOR,
            department=PLATFORM_DEPARTMENT_CODE,
            resource_code=resource,
            subject_key=organisation.credit_code,
            fields=list(fields),
            purpose=CERT_PURPOSE,
        )
    except GrantMissing as exc:
        raise PermissionDenied(
            _("The business register cannot be checked now: %(why)s") % {"why": exc}
        ) from exc
    data = result.data if result.found else {}
    if data.get("legal_representative_id") != person.resident_id:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="permission.denied",
                subject_type="organisation",
                subject_id=str(organisation.pk),
                details={"permission": "enterprise.representative"},
            )
        raise PermissionDenied(
            _("The business register does not name you as the legal representative of %(name)s.")
            % {"name": organisation.name}
        )
    if data.get("status") != "active":
        raise PermissionDenied(
            _("The business register does not list %(name)s as active.") % {"name": organisation.name}
        )


def _use(certificate, purpose, accepted, reason="", case_number="", address=""):
    CertificateUse.objects.create(
        certificate=certificate,
        purpose=purpose,
        accepted=accepted,
        reason=reason,
        case_number=case_number,
        address=(address or "")[:64],
    )


def _cert_audit(actor, action, certificate, **details):
    audit_record(
        actor=actor,
        action=action,
        subject_type="organisation",
        subject_id=str(certificate.organisation_id),
        details={"certificate": certificate.serial, "kind": certificate.kind, **details},
    )


def _save(
    cert_obj, *, organisation, kind, parent=None, holder=None, scopes=(), issued_by=None
) -> Certificate:
    certificate = Certificate(
        organisation=organisation,
        kind=kind,
        parent=parent,
        holder=holder,
        serial=format(cert_obj.serial_number, "x"),
        subject=cert_obj.subject.rfc4514_string()[:300],
        pem=ca.pem(cert_obj),
        key_sha256=ca.key_sha256(ca.cert_public_key(cert_obj)),
        scopes=list(scopes),
        not_before=cert_obj.not_valid_before_utc,
        not_after=cert_obj.not_valid_after_utc,
        issued_by=issued_by,
    )
    certificate.full_clean()
    certificate.save(force_insert=True)
    return certificate


def organisation_certificate_current(organisation) -> Certificate | None:
    now = timezone.now()
    return (
        Certificate.objects.filter(
            organisation=organisation,
            kind=Certificate.Kind.ORGANISATION,
            revoked_at__isnull=True,
            not_after__gt=now,
        )
        .order_by("-not_after")
        .first()
    )


@transaction.atomic
def organisation_certificate_issue(*, actor: UserActor, organisation: Organisation) -> Certificate:
    """The legal representative obtains the organisation's certificate (法人一证通), and becomes one of its agents
    (so the enterprise space and the agents' tools are theirs). Refused while a valid one exists."""
    from tongban.identity.services import organisation_agent_add

    representative_verify(actor=actor, organisation=organisation)
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    if organisation_certificate_current(organisation) is not None:
        raise Conflict(_("The organisation holds a valid certificate; revoke it first to replace it."))
    years = settings.TONGBAN_ENTERPRISE_CERT_YEARS
    cert_obj, _serial = ca.organisation_certificate_make(
        credit_code=organisation.credit_code,
        name=organisation.name,
        not_after=timezone.now() + dt.timedelta(days=365 * years),
    )
    certificate = _save(
        cert_obj, organisation=organisation, kind=Certificate.Kind.ORGANISATION, issued_by=actor.user
    )
    if not organisation.agents.filter(pk=actor.user.pk).exists():
        organisation_agent_add(actor=actor, organisation=organisation, user=actor.user)
    _cert_audit(actor, "enterprise.certificate.issued", certificate)
    return certificate


# --- agents' certificates --------------------------------------------------------------------------------


def challenge_create() -> SignInChallenge:
    """A fresh one-time nonce (for a sign-in, or to prove possession of a key when requesting a certificate)."""
    return SignInChallenge.objects.create(
        nonce=secrets.token_urlsafe(32),
        expires_at=timezone.now() + dt.timedelta(seconds=CHALLENGE_SECONDS),
    )


def challenge_consume(nonce: str) -> bool:
    """Use the nonce once: True the first time within its life, False when unknown, used or expired."""
    if not nonce or len(nonce) > 64:
        return False
    now = timezone.now()
    return (
        SignInChallenge.objects.filter(nonce=nonce, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
        == 1
    )


def _signature_bytes(signature: str) -> bytes:
    try:
        return base64.b64decode((signature or "").strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError({"signature": _("The signature is not valid base64.")}) from exc


def _possession_check(public_key, nonce: str, signature: str) -> None:
    if not challenge_consume(nonce):
        raise ValidationError({"nonce": REFUSALS["nonce"]})
    try:
        ca.key_signature_verify(public_key, (LOGIN_PREFIX + nonce).encode(), _signature_bytes(signature))
    except ca.CertificateInvalid as exc:
        raise ValidationError({"signature": REFUSALS["signature"]}) from exc


@transaction.atomic
def certificate_request(
    *, actor: UserActor, organisation: Organisation, public_key: str, nonce: str, signature: str
) -> CertificateRequest:
    """An agent asks for a certificate for a key they hold (made in the browser or imported from a file),
    proving it by signing a fresh challenge. The legal representative decides."""
    if not organisation.agents.filter(pk=actor.user.pk).exists():
        raise PermissionDenied(_("You do not act for this enterprise."))
    try:
        key = ca.public_key_load(public_key)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValidationError(
            {"public_key": _("Give an ECDSA P-256 or SM2 public key (PEM or base64 SPKI).")}
        ) from exc
    _possession_check(key, nonce, signature)
    pem = ca.spki_pem(key)
    item = CertificateRequest.objects.create(organisation=organisation, agent=actor.user, public_key=pem)
    audit_record(
        actor=actor,
        action="enterprise.certificate.requested",
        subject_type="organisation",
        subject_id=str(organisation.pk),
        details={"request": str(item.pk)},
    )
    return item


def _scopes(scopes) -> list[str]:
    scopes = list(dict.fromkeys(scopes or []))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValidationError(
            {"scopes": _("Choose one or more of: %(scopes)s.") % {"scopes": ", ".join(SCOPES)}}
        )
    return scopes


@transaction.atomic
def agent_certificate_issue(
    *, actor: UserActor, certificate_request: CertificateRequest, scopes, valid_days: int
) -> Certificate:
    """The legal representative issues an agent's certificate for a pending request, with scopes and expiry
    (at most the organisation certificate's end)."""
    organisation = certificate_request.organisation
    representative_verify(actor=actor, organisation=organisation)
    scopes = _scopes(scopes)
    if not isinstance(valid_days, int) or not 1 <= valid_days <= 3 * 365:
        raise ValidationError({"valid_days": _("Between 1 and 1,095 days.")})
    locked = CertificateRequest.objects.select_for_update().get(pk=certificate_request.pk)
    if locked.decided_at is not None:
        raise Conflict(_("This request has been decided already."))
    if not organisation.agents.filter(pk=locked.agent_id).exists():
        raise ValidationError({"agent": REFUSALS["holder"]})
    parent = organisation_certificate_current(organisation)
    if parent is None:
        raise Conflict(_("Obtain the organisation's certificate first."))
    agent = locked.agent
    cert_obj = ca.agent_certificate_make(
        org_cert=ca.load(parent.pem),
        org_serial_hex=parent.serial,
        public_key=ca.public_key_load(locked.public_key),
        agent_name=holder_name(agent),
        username=agent.get_username(),
        not_after=timezone.now() + dt.timedelta(days=valid_days),
    )
    certificate = _save(
        cert_obj,
        organisation=organisation,
        kind=Certificate.Kind.AGENT,
        parent=parent,
        holder=agent,
        scopes=scopes,
        issued_by=actor.user,
    )
    locked.decided_at = timezone.now()
    locked.certificate = certificate
    locked.save(update_fields=["decided_at", "certificate", "updated_at"])
    _cert_audit(
        actor, "enterprise.certificate.issued", certificate, agent=agent.get_username(), scopes=scopes
    )
    return certificate


@transaction.atomic
def certificate_request_refuse(
    *, actor: UserActor, certificate_request: CertificateRequest, reason: str = ""
) -> None:
    representative_verify(actor=actor, organisation=certificate_request.organisation)
    updated = CertificateRequest.objects.filter(pk=certificate_request.pk, decided_at__isnull=True).update(
        decided_at=timezone.now(), refusal_reason=(reason or "")[:200]
    )
    if not updated:
        raise Conflict(_("This request has been decided already."))
    audit_record(
        actor=actor,
        action="enterprise.certificate.request_refused",
        subject_type="organisation",
        subject_id=str(certificate_request.organisation_id),
        details={"request": str(certificate_request.pk)},
    )


@transaction.atomic
def certificate_revoke(*, actor: UserActor, certificate: Certificate, reason: str) -> Certificate:
    """Revoke at once (the legal representative; an agent their own certificate). Revoking the organisation's
    certificate revokes every agent certificate under it."""
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise ValidationError({"reason": _("Say why the certificate is revoked.")})
    own = certificate.kind == Certificate.Kind.AGENT and certificate.holder_id == actor.user.pk
    if not own:
        representative_verify(actor=actor, organisation=certificate.organisation)
    now = timezone.now()
    updated = Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(
        revoked_at=now, revocation_reason=reason, updated_at=now
    )
    if not updated:
        raise Conflict(_("This certificate is revoked already."))
    children = 0
    if certificate.kind == Certificate.Kind.ORGANISATION:
        children = Certificate.objects.filter(parent=certificate, revoked_at__isnull=True).update(
            revoked_at=now, revocation_reason=reason, updated_at=now
        )
    certificate.refresh_from_db()
    _cert_audit(actor, "enterprise.certificate.revoked", certificate, reason=reason, agents_revoked=children)
    return certificate


# --- using a certificate -----------------------------------------------------------------------------------


def certificate_usable(certificate: Certificate | None, *, scope: str, at: dt.datetime | None = None) -> None:
    """Raise ``CertificateRefused`` unless the agent certificate may be used for ``scope`` now: not revoked (nor
    its organisation's), within its validity, its chain verified against the root, its holder still an agent."""
    if certificate is None or certificate.kind != Certificate.Kind.AGENT:
        raise _refuse("unknown")
    at = at or timezone.now()
    parent = certificate.parent
    if certificate.revoked_at is not None or parent.revoked_at is not None:
        raise _refuse("revoked")
    if not (certificate.not_before <= at <= certificate.not_after) or at > parent.not_after:
        raise _refuse("expired")
    try:
        ca.chain_verify(certificate.pem, parent.pem, at=at)
    except ca.CertificateInvalid as exc:
        raise _refuse(exc.reason) from exc
    if scope not in (certificate.scopes or []):
        raise _refuse("scope")
    holder = certificate.holder
    if not holder.is_active or not certificate.organisation.agents.filter(pk=holder.pk).exists():
        raise _refuse("holder")


def certificate_session_check(certificate: Certificate | None, *, holder) -> None:
    """Raise ``CertificateRefused`` when a session opened with ``certificate`` must end: the certificate (or its
    organisation's) revoked or expired, or its holder no longer the signed-in ``holder`` (a User) or an agent. No chain check here (done
    at sign-in): this runs on every request of such a session."""
    now = timezone.now()
    if certificate is None or certificate.holder_id != holder.pk:
        raise _refuse("unknown")
    if certificate.revoked_at is not None or certificate.parent.revoked_at is not None:
        raise _refuse("revoked")
    if now > certificate.not_after or now > certificate.parent.not_after:
        raise _refuse("expired")
    if not certificate.organisation.agents.filter(pk=holder.pk).exists():
        raise _refuse("holder")


def certificate_find(serial: str) -> Certificate | None:
    serial = (serial or "").strip().lower()
    if not serial or len(serial) > 40:
        return None
    return (
        Certificate.objects.select_related("parent", "holder", "organisation").filter(serial=serial).first()
    )


def certificate_find_by_key(public_key: str) -> Certificate | None:
    """The agent certificate of a public key (base64 SPKI or PEM): the newest usable one, else the newest (so a
    refusal can say "revoked" or "expired")."""
    try:
        digest = ca.key_sha256(ca.public_key_load(public_key))
    except (ValueError, TypeError, binascii.Error):
        return None
    query = Certificate.objects.select_related("parent", "holder", "organisation").filter(
        key_sha256=digest, kind=Certificate.Kind.AGENT
    )
    usable = (
        query.filter(revoked_at__isnull=True, not_after__gt=timezone.now()).order_by("-not_after").first()
    )
    return usable or query.order_by("-created_at").first()


def certificate_login_check(
    *, nonce: str, signature: str, serial: str = "", public_key: str = "", address: str = ""
):
    """Check a signed sign-in challenge for the certificate named by ``serial`` (or found by the browser key's
    ``public_key``); return the certificate whose holder may be logged in. Every attempt on a known certificate
    is recorded as a use; a refusal raises ``CertificateRefused`` (audited)."""
    certificate = certificate_find(serial) if serial else certificate_find_by_key(public_key)
    serial = certificate.serial if certificate is not None else serial
    try:
        if certificate is None:
            raise _refuse("unknown")
        if not challenge_consume(nonce):
            raise _refuse("nonce")
        certificate_usable(certificate, scope="login")
        try:
            ca.signature_verify(certificate.pem, (LOGIN_PREFIX + nonce).encode(), _signature_bytes(signature))
        except ValidationError as exc:
            raise _refuse("signature") from exc
        except ca.CertificateInvalid as exc:
            raise _refuse(exc.reason) from exc
    except CertificateRefused as refusal:
        with transaction.atomic():
            if certificate is not None:
                _use(certificate, CertificateUse.Purpose.LOGIN, False, refusal.code, address=address)
            audit_record(
                actor=Actor(kind="anonymous", id="", label=f"certificate {(serial or '')[:40]}"),
                action="enterprise.certificate.login_refused",
                subject_type="organisation" if certificate else "",
                subject_id=str(certificate.organisation_id) if certificate else "",
                details={"certificate": (serial or "")[:40], "reason": refusal.code, "ip": address},
            )
        raise
    with transaction.atomic():
        _use(certificate, CertificateUse.Purpose.LOGIN, True, address=address)
    return certificate


def certificate_tls_check(*, pem_text: str, address: str = "") -> Certificate:
    """The mutual-TLS path: a proxy verified the client's certificate and forwards it; it must be exactly one of
    ours (same serial and same bytes) and usable for sign-in now."""
    try:
        presented = ca.load(pem_text)
    except ValueError as exc:
        raise _refuse("unknown") from exc
    certificate = certificate_find(format(presented.serial_number, "x"))
    if certificate is None or ca.load(certificate.pem) != presented:
        raise _refuse("unknown")
    try:
        certificate_usable(certificate, scope="login")
    except CertificateRefused as refusal:
        with transaction.atomic():
            _use(certificate, CertificateUse.Purpose.LOGIN, False, refusal.code, address=address)
        raise
    with transaction.atomic():
        _use(certificate, CertificateUse.Purpose.LOGIN, True, reason="tls", address=address)
    return certificate


# --- signed submissions ------------------------------------------------------------------------------------


def submission_payload(case) -> str:
    """The canonical JSON of a case's submission: what an agent signs and staff verify (sorted keys, no spaces,
    UTF-8). Materials by their SHA-256, so a swapped file breaks the signature."""
    from tongban.cases.selectors import case_materials

    body = {
        "v": 1,
        "case": case.number,
        "service": case.bundle.code if case.bundle_id else (case.item.code if case.item_id else ""),
        "applicant": case.applicant_organisation.credit_code if case.applicant_organisation_id else "",
        "form": case.form_data,
        "materials": [
            {"item": m.item_code, "code": m.code, "sha256": m.sha256} for m in case_materials(case)
        ],
        "submitted_at": case.submitted_at.isoformat() if case.submitted_at else "",
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _signature_check(
    *,
    actor: UserActor,
    organisation_id,
    serial: str,
    payload: str,
    signature: str,
    case_number="",
    address="",
) -> Certificate:
    """The acting agent's certificate for ``serial``, if it may sign for ``organisation_id`` now and ``signature``
    verifies over ``payload``; else ``PermissionDenied`` (not theirs, not the organisation's) or
    ``CertificateRefused`` (recorded as a refused use)."""
    certificate = certificate_find(serial)
    if certificate is None or certificate.holder_id != actor.user.pk:
        raise PermissionDenied(_("Sign with a certificate of your own."))
    if organisation_id != certificate.organisation_id:
        raise PermissionDenied(_("The certificate is not of the enterprise that applied."))
    try:
        certificate_usable(certificate, scope="sign")
        ca.signature_verify(certificate.pem, payload.encode(), _signature_bytes(signature))
    except (CertificateRefused, ca.CertificateInvalid, ValidationError) as exc:
        code = getattr(exc, "reason", None) or getattr(exc, "code", None) or "signature"
        code = code if code in REFUSALS else "signature"
        with transaction.atomic():
            _use(
                certificate,
                CertificateUse.Purpose.SIGN,
                False,
                code,
                case_number=case_number,
                address=address,
            )
        raise _refuse(code) from exc
    return certificate


def _signature_keep(
    *, actor, case, certificate, kind, payload: str, signature: str, address=""
) -> CaseSignature:
    payload_sha256 = hashlib.sha256(payload.encode()).hexdigest()
    record = CaseSignature.objects.create(
        case_id=case.pk,
        case_number=case.number,
        certificate=certificate,
        kind=kind,
        payload=payload,
        payload_sha256=payload_sha256,
        case_sha256=(
            payload_sha256
            if kind == CaseSignature.Kind.CASE
            else hashlib.sha256(submission_payload(case).encode()).hexdigest()
        ),
        signature=signature.strip(),
    )
    _use(certificate, CertificateUse.Purpose.SIGN, True, case_number=case.number, address=address)
    audit_record(
        actor=actor,
        action="case.signed",
        subject_type="case",
        subject_id=str(case.pk),
        case_id=str(case.pk),
        details={"certificate": certificate.serial, "sha256": payload_sha256, "kind": kind},
    )
    return record


def case_signature_add(
    *, actor: UserActor, case, serial: str, signature: str, address: str = ""
) -> CaseSignature:
    """Keep an agent's signature over the case's submission with the case: the certificate must be the acting
    agent's, usable for signing now, of the case's applicant organisation, and the signature must verify over
    the submission's canonical JSON as it stands. A refused signature is recorded as a refused use."""
    payload = submission_payload(case)
    certificate = _signature_check(
        actor=actor,
        organisation_id=case.applicant_organisation_id,
        serial=serial,
        payload=payload,
        signature=signature,
        case_number=case.number,
        address=address,
    )
    with transaction.atomic():
        return _signature_keep(
            actor=actor,
            case=case,
            certificate=certificate,
            kind=CaseSignature.Kind.CASE,
            payload=payload,
            signature=signature,
            address=address,
        )


def submission_signature_prepare(
    *, actor: UserActor, organisation, payload: str, serial: str, signature: str, address: str = ""
):
    """Check a signature made with a submission (``cases/signing.py``) before its case is written, and return the
    keeper ``case_submit`` calls with the new case in the transaction that writes it. Refusals are
    ``ValidationError`` on ``signature`` (the form shows it; nothing is written) and recorded as refused uses."""
    if organisation is None:
        raise ValidationError({"signature": _("Only an application made for an enterprise is signed.")})
    try:
        certificate = _signature_check(
            actor=actor,
            organisation_id=organisation.pk,
            serial=serial,
            payload=payload,
            signature=signature,
            address=address,
        )
    except (CertificateRefused, PermissionDenied) as exc:
        raise ValidationError({"signature": [str(exc)]}) from exc

    def keep(case) -> None:
        _signature_keep(
            actor=actor,
            case=case,
            certificate=certificate,
            kind=CaseSignature.Kind.SUBMISSION,
            payload=payload,
            signature=signature,
            address=address,
        )

    return keep


# --- expiry warnings ----------------------------------------------------------------------------------------


def certificates_expiry_warn(*, actor: Actor = SYSTEM, now: dt.datetime | None = None) -> int:
    """Tell each enterprise, in its inbox, of its certificates that expire within
    ``TONGBAN_ENTERPRISE_CERT_WARNING_DAYS`` (once a certificate: the message's de-duplication key). Returns how
    many certificates were warned of."""
    from tongban.messaging.services import message_send, message_template_ensure

    now = now or timezone.now()
    message_template_ensure(
        actor=actor,
        code=EXPIRY_TEMPLATE,
        topic="enterprise",
        subject_zh="法人一证通证书即将到期",
        body_zh="{name}：{holder}的证书将于{expires}到期，请及时更换：{link}",
        subject_en="An enterprise certificate expires soon",
        body_en="{name}: the certificate of {holder} expires on {expires}; replace it in time: {link}",
    )
    horizon = now + dt.timedelta(days=settings.TONGBAN_ENTERPRISE_CERT_WARNING_DAYS)
    expiring = Certificate.objects.filter(
        revoked_at__isnull=True, not_after__gt=now, not_after__lte=horizon
    ).select_related("organisation", "holder")
    count = 0
    for certificate in expiring:
        holder = holder_name(certificate.holder) if certificate.holder_id else certificate.organisation.name
        with transaction.atomic():
            message_send(
                actor=actor,
                organisation=certificate.organisation,
                topic="enterprise",
                template=EXPIRY_TEMPLATE,
                context={
                    "name": certificate.organisation.name,
                    "holder": holder,
                    "expires": timezone.localtime(certificate.not_after).date().isoformat(),
                    "link": reverse("enterprise:space", args=[certificate.organisation.credit_code]),
                },
                dedupe_key=f"certificate-expiry:{certificate.serial}",
            )
        count += 1
    return count
