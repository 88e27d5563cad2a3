"""The API's session authentication: DRF's, handing the view the signed-in user itself instead of the lazy proxies
Django's and django-otp's middleware wrap it in.

``request.user`` is a ``SimpleLazyObject`` (the session's user) inside another (django-otp's, which adds
``otp_device`` and ``is_verified``); each attribute read on it went through both proxies, some three hundred times
a list request. Authentication is unchanged (DRF's ``SessionAuthentication``: the session's active user, CSRF
enforced on unsafe methods); the object handed over is the very user the proxies stand for, with django-otp's
attributes set on it, and DRF puts it back on the Django request as it does for any authenticator.
"""

from django.utils.functional import LazyObject, empty
from drf_spectacular.authentication import SessionScheme as SpectacularSessionScheme
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication


def unwrapped(user):
    """The object behind ``user``'s lazy proxies (set up if they were not yet)."""
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user


class SessionAuthentication(DRFSessionAuthentication):
    def authenticate(self, request):
        found = super().authenticate(request)
        if found is None:
            return None
        user, auth = found
        return unwrapped(user), auth


class SessionScheme(SpectacularSessionScheme):
    """The OpenAPI security scheme of the session (``cookieAuth``), as drf-spectacular states DRF's."""

    target_class = "tongban.api.authentication.SessionAuthentication"
