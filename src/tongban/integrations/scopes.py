"""The scopes of API clients: a resource and an action (``cases:read``), listed once in settings.OAUTH2_PROVIDER."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes


def scope_names() -> list[str]:
    return list(settings.OAUTH2_PROVIDER["SCOPES"])


# What each scope allows, in the reader's language (settings.OAUTH2_PROVIDER keeps the English text the OAuth
# provider publishes).
SCOPE_LABELS = {
    "cases:read": _("Read cases of the client's departments and service items"),
    "cases:write": _("Accept or refuse cases for the client's departments"),
    "lookups:read": _("Look up registry data under the client department's sharing grants"),
    "tickets:read": _("Receive 12345 ticket events of the client's departments"),
    "tickets:write": _("File 12345 tickets"),
    "licences:read": _("Receive e-licence events"),
}


def scope_choices() -> list[tuple[str, str]]:
    return [
        (code, f"{code}: {SCOPE_LABELS.get(code, text)}")
        for code, text in settings.OAUTH2_PROVIDER["SCOPES"].items()
    ]


class ClientScopes(BaseScopes):
    """django-oauth-toolkit's scopes backend: a client may ask for the scopes of its admin entry, no others; a
    token request without ``scope`` gets all of them. An inactive client gets none."""

    def _allowed(self, application) -> list[str]:
        client = getattr(application, "tongban_client", None) if application is not None else None
        if client is None or not client.active:
            return []
        known = set(scope_names())
        return [scope for scope in client.scopes if scope in known]

    def get_all_scopes(self):
        return dict(settings.OAUTH2_PROVIDER["SCOPES"])

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return self._allowed(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self._allowed(application)


class ClientValidator(OAuth2Validator):
    """django-oauth-toolkit's validator, refusing a token to a client that is deactivated (or has no entry)."""

    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        client = getattr(request.client, "tongban_client", None)
        return client is not None and client.active
