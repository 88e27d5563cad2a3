"""Federated sign-in (统一身份认证) with OpenID Connect against the city's identity provider (mozilla-django-oidc).

Off unless ``TONGBAN_OIDC_ISSUER`` is set (docs/integration.md). The provider's verified resident ID claim names
the person (``services.resident_sign_in``); a refusal is shown on its own page with the reason.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from tongban.identity.selectors import actor_for

from .services import SignInRefused, oidc_signed_in, resident_sign_in

REFUSAL_SESSION_KEY = "tongban_oidc_refusal"
REFUSALS = {
    "no_resident_id": _(
        "The identity provider did not give your resident ID number, so we cannot tell who you are."
    ),
    "not_verified": _(
        "The identity provider has not verified your resident ID number yet. Complete the verification there "
        "(real-name authentication), then sign in again."
    ),
    "invalid": _("The resident ID number the identity provider gave is not valid."),
    "not_registered": _(
        "No person with your resident ID number is in the city's population register, so no account can be "
        "opened for you here. Ask at any service centre (政务服务中心)."
    ),
    "inactive": _("Your account here is disabled. Ask at any service centre."),
}
DEFAULT_REFUSAL = _(
    "Sign-in with the identity provider did not succeed (cancelled, or the answer was not valid)."
)


def _require_enabled():
    if not settings.TONGBAN_OIDC_ENABLED:
        raise Http404


class ResidentOIDCBackend(OIDCAuthenticationBackend):
    """Maps the provider's verified resident ID claim to the person and their account; never matches by e-mail."""

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        subject = str(claims.get("sub", ""))
        try:
            user = resident_sign_in(
                resident_id=claims.get(settings.TONGBAN_OIDC_RESIDENT_ID_CLAIM),
                verified=claims.get(settings.TONGBAN_OIDC_VERIFIED_CLAIM),
                subject=subject,
            )
        except SignInRefused as refusal:
            self.request.session[REFUSAL_SESSION_KEY] = refusal.code
            return None
        self.request.session.pop(REFUSAL_SESSION_KEY, None)
        self.request._tongban_oidc_subject = subject
        return user


class ResidentAuthenticateView(OIDCAuthenticationRequestView):
    def get(self, request):
        _require_enabled()
        return super().get(request)


class ResidentCallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        _require_enabled()
        return super().get(request)

    def login_success(self):
        response = super().login_success()
        oidc_signed_in(actor=actor_for(self.user), subject=getattr(self.request, "_tongban_oidc_subject", ""))
        return response


def refused(request):
    """Why a federated sign-in was refused (the reason the backend left in the session), with the way on."""
    code = request.session.pop(REFUSAL_SESSION_KEY, "")
    return render(
        request,
        "integrations/oidc_refused.html",
        {"reason": REFUSALS.get(code, DEFAULT_REFUSAL), "code": code},
        status=403 if code else 400,
    )
