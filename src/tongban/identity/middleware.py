"""Who is asking, read in hand-written statements (``core.db.fast``).

- ``AuthenticationMiddleware``: Django's, with the session's user read in one hand-written statement when the
  session's backend loads users as ``ModelBackend`` does (every signed-in request reads its user; through the ORM's
  ``get(pk=…)`` the read cost more to build than to run). The rest is Django's ``auth.get_user``, line for line:
  the backend named in the session must still be configured, an inactive user is nobody, and the session's hash
  of the password is checked (a password changed elsewhere ends the session; a fallback secret cycles the key).
- ``OTPMiddleware``: django-otp's, with the session's device read in one statement. Every staff request loads
  the TOTP device its session was verified with (a device deleted or unconfirmed since ends the second factor at
  the next request: django-otp's own rule, kept).
"""

from functools import partial

from django.apps import apps
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.middleware import auser
from django.core.exceptions import ImproperlyConfigured
from django.db.models.manager import BaseManager
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.models import Device

from tongban.core.db import fast


def _loads_like_model_backend(backend) -> bool:
    cls, manager = type(backend), get_user_model()._default_manager
    return (
        isinstance(backend, ModelBackend)
        and cls.get_user is ModelBackend.get_user
        and cls.user_can_authenticate is ModelBackend.user_can_authenticate
        and type(manager).get_queryset is BaseManager.get_queryset
    )


def _backend_user(backend, user_id):
    """``backend.get_user(user_id)``; for ``ModelBackend`` (and subclasses that load users as it does) one
    hand-written statement: the user by primary key, None if absent or inactive (``user_can_authenticate``)."""
    if not _loads_like_model_backend(backend):
        return backend.get_user(user_id)
    model = get_user_model()
    user = fast.first(model, "t.id = %s", [fast.prep(model, model._meta.pk.name, user_id)])
    return user if user is not None and backend.user_can_authenticate(user) else None


def session_user(request):
    """``django.contrib.auth.get_user(request)`` with the user read by :func:`_backend_user`."""
    from django.contrib.auth.models import AnonymousUser

    user = None
    try:
        user_id = auth._get_user_session_key(request)
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        pass
    else:
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            backend = load_backend(backend_path)
            user = _backend_user(backend, user_id)
            # Verify the session
            if hasattr(user, "get_session_auth_hash"):
                session_hash = request.session.get(HASH_SESSION_KEY)
                if not session_hash:
                    session_hash_verified = False
                else:
                    session_auth_hash = user.get_session_auth_hash()
                    session_hash_verified = constant_time_compare(session_hash, session_auth_hash)
                if not session_hash_verified:
                    # If the current secret does not verify the session, try with the fallback secrets and stop
                    # when a matching one is found.
                    if session_hash and any(
                        constant_time_compare(session_hash, fallback_auth_hash)
                        for fallback_auth_hash in user.get_session_auth_fallback_hash()
                    ):
                        request.session.cycle_key()
                        request.session[HASH_SESSION_KEY] = session_auth_hash
                    else:
                        request.session.flush()
                        user = None
    return user or AnonymousUser()


def _cached_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = session_user(request)
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    def process_request(self, request):
        if not hasattr(request, "session"):
            raise ImproperlyConfigured(
                "The authentication middleware requires the session middleware before it in MIDDLEWARE."
            )
        request.user = SimpleLazyObject(lambda: _cached_user(request))
        request.auser = partial(auser, request)


class OTPMiddleware(DjangoOTPMiddleware):
    def _device_from_persistent_id(self, persistent_id: str):
        persistent_id = self._normalize_persistent_id(persistent_id)
        try:
            model_label, device_id = persistent_id.rsplit("/", 1)
            app_label, model_name = model_label.split(".")
            device_class = apps.get_model(app_label, model_name)
            pk = int(device_id)
        except (ValueError, LookupError):
            return None
        if not issubclass(device_class, Device):
            return None
        return fast.first(device_class, "t.id = %s", [pk])
