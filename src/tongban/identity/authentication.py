"""Logging in and out: password, then a TOTP second factor for staff; throttled and audited.

The flow (views stay thin and call these):

1. ``login_password`` checks a user name or resident ID number and password through ``authenticate()``
   (django-axes counts failures per user name and address and locks out after ``AXES_FAILURE_LIMIT``).
   A citizen is logged in at once. A staff member is *not* logged in yet: the session only remembers who
   passed the password step (for ``PENDING_MAX_AGE`` seconds) until the second factor is given.
2. ``otp_verify`` (staff with a confirmed TOTP device) or ``otp_setup_confirm`` (first login: a new device
   is shown as a QR code and confirmed with its first code) checks the code. A wrong code is audited and
   counted by django-axes like a wrong password, so guessing codes locks the account out as well; only a
   complete login (password and code) resets the count.

Every outcome is audited: ``login.succeeded``, ``login.failed`` (with the user name tried, never the
password), ``login.locked_out``, ``login.address_limited`` (too many failures from one address across user names), ``otp.failed``, ``otp.device_confirmed``, ``logout``.
"""

import datetime as dt
import time
from dataclasses import dataclass

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, user_login_failed
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.core.audit import Actor, audit_record

from .selectors import actor_for, masked_login, needs_second_factor, user_get_by_login

PENDING_SESSION_KEY = "identity_pending_login"
PENDING_MAX_AGE = 300  # seconds between the password and the code
SETUP_DEVICE_NAME = "default"


@dataclass(frozen=True)
class LoginOutcome:
    """What happened at a login step. ``next_step`` is "done", "otp-verify", "otp-setup" or "" (failed)."""

    ok: bool
    next_step: str = ""
    locked_out: bool = False
    user: object = None
    error: str = ""  # "invalid", "locked", "throttled", "expired", "address_limited"


def _client(request):
    return {
        "ip": getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
    }


def _audit(request, *, actor: Actor, action: str, user=None, details=None):
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=action,
            subject_type="user" if user is not None else "",
            subject_id=str(user.pk) if user is not None else "",
            details={**_client(request), **(details or {})},
        )


def _anonymous(label):
    return Actor(kind="anonymous", id="", label=label or "anonymous")


# --- step 1: password -------------------------------------------------------------------------------


def login_cool_off() -> dt.timedelta:
    return get_cool_off(None) or dt.timedelta(hours=1)


def address_failures(ip: str | None) -> int:
    """Failed logins from one address, across every user name, within the cool-off (axes' failure log: one row
    a failure, in the database, so every worker process counts the same)."""
    if not ip:
        return 0
    return AccessFailureLog.objects.filter(
        ip_address=ip, attempt_time__gte=timezone.now() - login_cool_off()
    ).count()


def login_password(*, request, login: str, password: str) -> LoginOutcome:
    """Check a user name (or resident ID number) and password; log a citizen in, or start the second factor.

    An address with ``TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT`` failures across all user names within the cool-off
    (password spraying: a few guesses on each of many accounts) is refused before any password is checked."""
    login = (login or "").strip()
    ip = get_client_ip_address(request)
    failures = address_failures(ip)
    if failures >= settings.TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT:
        _audit(
            request,
            actor=_anonymous(masked_login(login)),
            action="login.address_limited",
            details={"username": masked_login(login), "address_failures": failures},
        )
        return LoginOutcome(ok=False, error="address_limited")
    known = user_get_by_login(login)
    username = known.get_username() if known is not None else login
    user = authenticate(request, username=username, password=password)
    if user is None:
        locked = bool(getattr(request, "axes_locked_out", False))
        details = {"username": masked_login(login)}
        if locked:
            details["failures"] = getattr(request, "axes_failures_since_start", None)
        _audit(
            request,
            actor=_anonymous(masked_login(login)),
            action="login.locked_out" if locked else "login.failed",
            user=known,
            details=details,
        )
        return LoginOutcome(ok=False, locked_out=locked, error="locked" if locked else "invalid")
    if not needs_second_factor(user):
        auth_login(request, user)
        _audit(
            request,
            actor=actor_for(user),
            action="login.succeeded",
            user=user,
            details={"factors": "password"},
        )
        return LoginOutcome(ok=True, next_step="done", user=user)
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {"user_id": user.pk, "backend": user.backend, "at": time.time()}
    has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    _audit(request, actor=actor_for(user), action="login.password_accepted", user=user)
    return LoginOutcome(ok=True, next_step="otp-verify" if has_device else "otp-setup", user=user)


# --- step 2: second factor --------------------------------------------------------------------------


def otp_subject(request):
    """The user who is to give a code now: one who passed the password step, or a logged-in staff member
    whose session has not been verified yet. Returns ``(user, pending)`` or ``(None, False)``."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if pending:
        if time.time() - pending.get("at", 0) <= PENDING_MAX_AGE:
            user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
            if user is not None:
                return user, True
        request.session.pop(PENDING_SESSION_KEY, None)
    user = request.user
    if user.is_authenticated and needs_second_factor(user) and not user.is_verified():
        return user, False
    return None, False


def has_confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def otp_setup_device(user):
    """The unconfirmed TOTP device being set up for ``user`` (kept across reloads so the QR code stays)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=SETUP_DEVICE_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, confirmed=False, name=SETUP_DEVICE_NAME)
    return device


def _credentials(user):
    return {"username": user.get_username()}


def _is_locked(request, user):
    return AxesProxyHandler.is_locked(request, _credentials(user))


def _lock_out(request, user):
    """Drop the half-done login and let AxesMiddleware answer with the lockout page."""
    request.session.pop(PENDING_SESSION_KEY, None)
    request.axes_locked_out = True
    request.axes_credentials = _credentials(user)
    if request.user.is_authenticated:
        auth_logout(request)


def _check_code(*, request, user, pending, devices, token, confirm=False):
    if _is_locked(request, user):
        _audit(request, actor=actor_for(user), action="login.locked_out", user=user, details={"step": "otp"})
        _lock_out(request, user)
        return LoginOutcome(ok=False, locked_out=True, error="locked")
    token = (token or "").strip().replace(" ", "")
    throttled = False
    for device in devices:
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            throttled = True
            continue
        if device.verify_token(token):
            if confirm:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                _audit(request, actor=actor_for(user), action="otp.device_confirmed", user=user)
            return _complete(request=request, user=user, pending=pending, device=device)
    if throttled and not token:
        return LoginOutcome(ok=False, error="throttled")
    _audit(
        request,
        actor=actor_for(user),
        action="otp.failed",
        user=user,
        details={"throttled": throttled},
    )
    # Count the wrong code with django-axes as a failed login of this user name (its handler reads the request).
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    if getattr(request, "axes_locked_out", False):
        _audit(
            request,
            actor=actor_for(user),
            action="login.locked_out",
            user=user,
            details={"step": "otp", "failures": getattr(request, "axes_failures_since_start", None)},
        )
        _lock_out(request, user)
        return LoginOutcome(ok=False, locked_out=True, error="locked")
    return LoginOutcome(ok=False, error="throttled" if throttled else "invalid")


def _complete(*, request, user, pending, device):
    if pending:
        backend = request.session[PENDING_SESSION_KEY]["backend"]
        request.session.pop(PENDING_SESSION_KEY, None)
        auth_login(request, user, backend=backend)
    django_otp.login(request, device)
    _audit(
        request,
        actor=actor_for(user),
        action="login.succeeded",
        user=user,
        details={"factors": "password+totp"},
    )
    return LoginOutcome(ok=True, next_step="done", user=user)


def otp_verify(*, request, user, pending, token: str) -> LoginOutcome:
    """Check a code from one of the user's confirmed TOTP devices; complete the login when it is right."""
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    return _check_code(request=request, user=user, pending=pending, devices=devices, token=token)


def otp_setup_confirm(*, request, user, pending, token: str) -> LoginOutcome:
    """Confirm the device being set up with its first code; it then is the user's second factor."""
    device = otp_setup_device(user)
    return _check_code(
        request=request, user=user, pending=pending, devices=[device], token=token, confirm=True
    )


# --- logout -----------------------------------------------------------------------------------------


def logout_user(*, request) -> None:
    """Log out (and forget a half-done login)."""
    user = request.user
    request.session.pop(PENDING_SESSION_KEY, None)
    if user.is_authenticated:
        _audit(request, actor=actor_for(user), action="logout", user=user)
    auth_logout(request)
