"""Reads of 法人一证通 and the enterprise space: who may see an enterprise's space, its certificates and uses,
the revocation lists, and a case's signatures verified now."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.identity.models import Organisation
from tongban.identity.selectors import person_for

from . import ca
from .models import CaseSignature, Certificate, CertificateRequest, CertificateUse

REPRESENTATIVE = "representative"
AGENT = "agent"


def holder_name(user) -> str:
    """A certificate holder's name: family name first for Chinese names (赵敏), else "First Last", else the login
    name (the portal's ``display_name`` filter, for code that is not a template)."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if first or last:
        if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()
    person = person_for(user)
    return person.name if person is not None else user.get_username()


def space_role(user, organisation: Organisation) -> str | None:
    """``representative`` for the legal representative, ``agent`` for another agent, None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    person = person_for(user)
    if person is not None and organisation.legal_representative_id == person.pk:
        return REPRESENTATIVE
    if organisation.agents.filter(pk=user.pk).exists():
        return AGENT
    return None


def space_organisations(user) -> list[Organisation]:
    """The organisations whose space the user may enter (as representative or agent)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    person = person_for(user)
    query = Organisation.objects.filter(agents=user)
    if person is not None:
        query = query | Organisation.objects.filter(legal_representative=person)
    return list(query.distinct().order_by("name"))


def space_organisation_get(user, credit_code: str) -> tuple[Organisation | None, str | None]:
    organisation = Organisation.objects.filter(credit_code=(credit_code or "").upper()[:18]).first()
    if organisation is None:
        return None, None
    role = space_role(user, organisation)
    return (organisation, role) if role else (None, None)


def certificate_list_for(user, organisation: Organisation):
    """The representative sees all the enterprise's certificates; an agent only their own."""
    role = space_role(user, organisation)
    query = Certificate.objects.filter(organisation=organisation).select_related("holder", "parent")
    if role == REPRESENTATIVE:
        return query
    if role == AGENT:
        return query.filter(holder=user)
    return Certificate.objects.none()


def certificate_get_for(user, pk) -> Certificate | None:
    certificate = Certificate.objects.select_related("organisation", "holder", "parent").filter(pk=pk).first()
    if certificate is None:
        return None
    return (
        certificate if certificate_list_for(user, certificate.organisation).filter(pk=pk).exists() else None
    )


def request_list_for(user, organisation: Organisation):
    """Pending certificate requests: all of them for the representative, an agent's own otherwise."""
    role = space_role(user, organisation)
    query = CertificateRequest.objects.filter(
        organisation=organisation, decided_at__isnull=True
    ).select_related("agent")
    if role == REPRESENTATIVE:
        return query
    if role == AGENT:
        return query.filter(agent=user)
    return CertificateRequest.objects.none()


def request_get_for_representative(user, pk) -> CertificateRequest | None:
    request = CertificateRequest.objects.select_related("organisation", "agent").filter(pk=pk).first()
    if request is None or space_role(user, request.organisation) != REPRESENTATIVE:
        return None
    return request


def certificate_uses_for(user, organisation: Organisation, *, limit: int = 50):
    """Who used the enterprise's certificates (the representative: all; an agent: their own)."""
    certificates = certificate_list_for(user, organisation)
    return (
        CertificateUse.objects.filter(certificate__in=certificates)
        .select_related("certificate", "certificate__holder")
        .order_by("-at", "-id")[:limit]
    )


def certificates_usable_by(user):
    """The agent's own certificates that are not revoked and not expired (for the sign-in and signing pages)."""
    now = timezone.now()
    return Certificate.objects.filter(
        holder=user, kind=Certificate.Kind.AGENT, revoked_at__isnull=True, not_after__gt=now
    ).select_related("organisation")


def signing_certificates_for(user, organisation) -> list[dict]:
    """The certificates ``user`` may sign ``organisation``'s submissions with now: serial and public key (base64
    SPKI), so the page can find the matching key kept in the browser."""
    usable = certificates_usable_by(user).filter(organisation=organisation)
    return [{"serial": c.serial, "spki": ca.spki_b64(c.pem)} for c in usable if "sign" in (c.scopes or [])]


def signed_case_ids(case_ids) -> set:
    """Which of these cases carry an agent's signature."""
    return set(CaseSignature.objects.filter(case_id__in=list(case_ids)).values_list("case_id", flat=True))


def crl_for(organisation: Organisation | None) -> bytes:
    """The DER CRL of an organisation's certificate (its agents' revoked certificates), signed with its key; with
    no organisation, the root's CRL (revoked organisation certificates)."""
    if organisation is None:
        key, cert = ca.root()
        revoked = Certificate.objects.filter(kind=Certificate.Kind.ORGANISATION, revoked_at__isnull=False)
        return ca.crl_make(
            issuer_cert=cert, issuer_key=key, revoked=list(revoked.values_list("serial", "revoked_at"))
        )
    parent = (
        Certificate.objects.filter(organisation=organisation, kind=Certificate.Kind.ORGANISATION)
        .order_by("-not_after")
        .first()
    )
    if parent is None:
        return b""
    revoked = Certificate.objects.filter(parent=parent, revoked_at__isnull=False)
    return ca.crl_make(
        issuer_cert=ca.load(parent.pem),
        issuer_key=ca.org_key(parent.serial),
        revoked=list(revoked.values_list("serial", "revoked_at")),
    )


@dataclass
class SignatureCheck:
    signature: CaseSignature
    verified: bool
    reason: str
    signer: str
    serial: str
    matches_case: bool


CHECK_REASONS = {
    "": _("The signature verifies and the submission is unchanged."),
    "changed": _("The submission has changed since it was signed."),
    "signature": _("The signature does not match the certificate's key."),
    "chain": _("The certificate does not chain to the platform's enterprise authority."),
}


def case_signatures_checked(case) -> list[SignatureCheck]:
    """A case's signatures, each verified now: the signature over the stored text with the certificate's key, the
    certificate's chain to the root (revocation after signing does not undo a signature made while valid; it is
    shown), and whether the stored text is still the case's submission."""
    from .services import submission_payload

    current = hashlib.sha256(submission_payload(case).encode()).hexdigest()
    checks = []
    for record in CaseSignature.objects.filter(case_id=case.pk).select_related(
        "certificate", "certificate__parent", "certificate__holder"
    ):
        certificate = record.certificate
        reason = ""
        try:
            ca.chain_verify(certificate.pem, certificate.parent.pem, at=record.created_at)
            ca.signature_verify(certificate.pem, record.payload.encode(), base64.b64decode(record.signature))
        except ca.CertificateInvalid as exc:
            reason = exc.reason if exc.reason in CHECK_REASONS else "chain"
        signed_case = record.case_sha256 or record.payload_sha256
        if not reason and signed_case != current:
            reason = "changed"
        holder = certificate.holder
        checks.append(
            SignatureCheck(
                signature=record,
                verified=not reason,
                reason=str(CHECK_REASONS[reason]),
                signer=holder_name(holder),
                serial=certificate.serial,
                matches_case=signed_case == current,
            )
        )
    return checks


def space_contents(user, organisation: Organisation, *, limit: int = 20) -> dict:
    """What the enterprise space shows, each list through its owner's selector for this user (so an agent sees
    what an agent may), narrowed to the organisation: cases, licences, policies (offers and notices), messages,
    and the certificates, requests, uses and agents (the representative: all; an agent: their own)."""
    from tongban.cases.selectors import case_list_for_applicant
    from tongban.licences.selectors import licence_list_for_holder
    from tongban.messaging.selectors import message_list_for_user
    from tongban.proactive.selectors import policy_offers_for_user, policy_why

    role = space_role(user, organisation)
    policy_offers = list(policy_offers_for_user(user).filter(organisation=organisation)[:limit])
    for offer in policy_offers:
        offer.why = policy_why(offer)
    certificates = list(certificate_list_for(user, organisation))
    return {
        "cases": list(case_list_for_applicant(user).filter(applicant_organisation=organisation)[:limit]),
        "licences": list(licence_list_for_holder(user).filter(holder_organisation=organisation)[:limit]),
        "policy_offers": policy_offers,
        "inbox": list(message_list_for_user(user).filter(organisation=organisation)[:limit]),
        "certificates": certificates,
        # the representative obtains the organisation's certificate once; again only when none is in force
        "organisation_certificate_in_force": any(
            c.kind == Certificate.Kind.ORGANISATION and c.revoked_at is None and c.not_after > timezone.now()
            for c in certificates
        ),
        "requests": list(request_list_for(user, organisation)),
        "uses": list(certificate_uses_for(user, organisation)),
        "agents": list(organisation.agents.order_by("username")) if role == REPRESENTATIVE else [],
    }
