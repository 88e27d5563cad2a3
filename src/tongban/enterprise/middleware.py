"""A session opened with a certificate lasts only while the certificate may sign in: revoked, expired, or its
holder no longer an agent, and the next request is signed out (one indexed query, only for such sessions)."""

from django.contrib.auth import logout

from .authentication import SESSION_KEY


class CertificateSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        serial = session.get(SESSION_KEY) if session is not None else None
        if serial and request.user.is_authenticated:
            from .services import CertificateRefused, certificate_find, certificate_session_check

            try:
                certificate_session_check(certificate_find(serial), holder=request.user)
            except CertificateRefused:
                logout(request)
        return self.get_response(request)
