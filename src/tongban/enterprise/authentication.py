"""Signing an agent in with a certificate: a signed challenge (WebCrypto or an imported key file), or mutual
TLS behind a trusted proxy. Like ``identity.authentication``, the one place here that takes the request: it
creates the session. The checks themselves are ``services.certificate_login_check`` / ``certificate_tls_check``.
"""

from __future__ import annotations

from urllib.parse import unquote

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.db import transaction

from tongban.core.audit import audit_record
from tongban.identity.selectors import actor_for, needs_second_factor

from . import services

SESSION_KEY = "enterprise_certificate"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _address(request) -> str:
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "")


def _complete(request, certificate, factor: str):
    user = certificate.holder
    if needs_second_factor(user):
        # Staff sign in with their password and TOTP; a certificate is an enterprise agent's credential.
        raise services.CertificateRefused(services.REFUSALS["holder"], code="holder")
    auth_login(request, user, backend=BACKEND)
    request.session[SESSION_KEY] = certificate.serial
    with transaction.atomic():
        audit_record(
            actor=actor_for(user),
            action="login.succeeded",
            subject_type="user",
            subject_id=str(user.pk),
            details={
                "factors": factor,
                "certificate": certificate.serial,
                "organisation": certificate.organisation.credit_code,
                "ip": _address(request),
            },
        )
    return user


def certificate_login(*, request, nonce: str, signature: str, serial: str = "", public_key: str = ""):
    """Log the certificate's holder in when the signed challenge verifies; ``CertificateRefused`` otherwise."""
    certificate = services.certificate_login_check(
        serial=serial, public_key=public_key, nonce=nonce, signature=signature, address=_address(request)
    )
    return _complete(request, certificate, "certificate")


def tls_header_enabled() -> bool:
    return bool(settings.TONGBAN_CLIENT_CERT_HEADER)


def tls_login(*, request):
    """Mutual TLS behind a proxy: trusted only from ``TONGBAN_CLIENT_CERT_TRUSTED_PROXIES`` (the connection's own
    address, never a forwarded one), the proxy having verified the client's certificate and forwarded it
    URL-encoded (nginx ``$ssl_client_escaped_cert``) in ``TONGBAN_CLIENT_CERT_HEADER``."""
    header = settings.TONGBAN_CLIENT_CERT_HEADER
    peer = request.META.get("REMOTE_ADDR", "")
    if not header or peer not in settings.TONGBAN_CLIENT_CERT_TRUSTED_PROXIES:
        raise services.CertificateRefused(services.REFUSALS["chain"], code="untrusted_proxy")
    meta_key = "HTTP_" + header.upper().replace("-", "_")
    pem_text = unquote(request.META.get(meta_key, ""))
    if "BEGIN CERTIFICATE" not in pem_text:
        raise services.CertificateRefused(services.REFUSALS["unknown"], code="unknown")
    certificate = services.certificate_tls_check(pem_text=pem_text, address=_address(request))
    return _complete(request, certificate, "tls-certificate")
