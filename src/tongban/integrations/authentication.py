"""API clients authenticate with an OAuth 2 bearer token from the client-credentials grant (django-oauth-toolkit).

A request with ``Authorization: Bearer <token>`` gets the client's service account as ``request.user`` and its
typed actor (``identity.selectors.ClientActor``: the token's scopes and the client's limits) as the request's
actor, so ``actor_from_request`` hands services the client. A token that is unknown, expired or revoked, or one
of an inactive client, is a 401 with ``WWW-Authenticate: Bearer``.
"""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed

from .models import ApiClient
from .services import client_actor


class ClientTokenAuthentication(OAuth2Authentication):
    www_authenticate_realm = "tongban"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("bearer "):
            return None
        result = super().authenticate(request)
        if result is None:
            raise AuthenticationFailed(_("The access token is unknown, expired or revoked."))
        _user, token = result
        client = (
            ApiClient.objects.select_related("user", "department")
            .filter(application_id=token.application_id)
            .first()
        )
        if client is None or not client.active or not client.user.is_active:
            raise AuthenticationFailed(_("This API client is not active."))
        actor = client_actor(client, scopes=token.scope.split(), path=f"{request.method} {request.path}")
        request._tongban_actor = actor
        request._tongban_client = client
        return client.user, token
