"""Login, second factor and logout pages. Thin: they parse input, call ``authentication``, and render."""

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from . import authentication
from .forms import LoginForm, TokenForm
from .selectors import is_staff_user, needs_second_factor

INVALID_LOGIN = _("The user name (or resident ID number) or the password is not right. Please try again.")
LOCKED_OUT = _("Too many failed attempts. The account is locked for a while; try again later.")
WRONG_CODE = _("That code is not right, or it has expired. Enter the code your app shows now.")
THROTTLED = _("Too many wrong codes in a row: wait a few seconds, then enter the code your app shows now.")
ADDRESS_LIMITED = _(
    "Too many failed sign-ins from your network address. Wait %(minutes)s minutes, then try again; if you have "
    "forgotten your password, ask a service centre to reset it."
)
EXPIRED = _("Your sign-in has expired. Please sign in again.")


def _next_url(request):
    value = request.POST.get("next") or request.GET.get("next") or ""
    if value and url_has_allowed_host_and_scheme(
        value, {request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _home_for(user):
    if is_staff_user(user):
        try:
            return reverse("workbench:home")
        except NoReverseMatch:
            pass
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name, next_url):
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    """Step 1: user name or resident ID number, and password."""
    next_url = _next_url(request)
    if request.user.is_authenticated and request.method == "GET":
        if needs_second_factor(request.user) and not request.user.is_verified():
            return redirect(_with_next("identity:otp-verify", next_url))
        return redirect(next_url or _home_for(request.user))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = authentication.login_password(
            request=request, login=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if outcome.ok and outcome.next_step == "done":
            return redirect(next_url or _home_for(outcome.user))
        if outcome.ok:
            return redirect(_with_next(f"identity:{outcome.next_step}", next_url))
        if outcome.error == "address_limited":
            minutes = max(1, round(authentication.login_cool_off().total_seconds() / 60))
            form.add_error(None, ADDRESS_LIMITED % {"minutes": minutes})
        else:
            form.add_error(None, LOCKED_OUT if outcome.locked_out else INVALID_LOGIN)
    context = {"form": form, "next": next_url, "oidc_enabled": settings.TONGBAN_OIDC_ENABLED}
    return render(request, "identity/login.html", context)


def _code_error(outcome):
    return {"locked": LOCKED_OUT, "throttled": THROTTLED}.get(outcome.error, WRONG_CODE)


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def otp_verify_view(request):
    """Step 2 for staff with a device: the current code of their authenticator app."""
    next_url = _next_url(request)
    user, pending = authentication.otp_subject(request)
    if user is None:
        messages.info(request, EXPIRED)
        return redirect(_with_next("identity:login", next_url))
    if not authentication.has_confirmed_device(user):
        return redirect(_with_next("identity:otp-setup", next_url))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = authentication.otp_verify(
            request=request, user=user, pending=pending, token=form.cleaned_data["token"]
        )
        if outcome.ok:
            return redirect(next_url or _home_for(user))
        form.add_error("token", _code_error(outcome))
    return render(request, "identity/otp_verify.html", {"form": form, "next": next_url, "subject": user})


def _grouped(secret):
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def otp_setup_view(request):
    """Step 2 at a staff member's first login: scan a QR code (or type the secret) and confirm with a code."""
    next_url = _next_url(request)
    user, pending = authentication.otp_subject(request)
    if user is None:
        messages.info(request, EXPIRED)
        return redirect(_with_next("identity:login", next_url))
    if authentication.has_confirmed_device(user):
        # A device can be added only while there is none: otherwise a password alone could replace the code.
        return redirect(_with_next("identity:otp-verify", next_url))
    device = authentication.otp_setup_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = authentication.otp_setup_confirm(
            request=request, user=user, pending=pending, token=form.cleaned_data["token"]
        )
        if outcome.ok:
            messages.success(request, _("Your authenticator app is set up. Use it at every sign-in."))
            return redirect(next_url or _home_for(user))
        form.add_error("token", _code_error(outcome))
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, title=str(_("QR code")))
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    context = {"form": form, "next": next_url, "qr_svg": qr_svg, "secret": _grouped(secret), "subject": user}
    return render(request, "identity/otp_setup.html", context)


@csrf_protect
@never_cache
def logout_view(request):
    """Sign out on POST; a GET shows a button (a link alone must not sign anyone out)."""
    if request.method == "POST":
        authentication.logout_user(request=request)
        messages.success(request, _("You have signed out."))
        return redirect(resolve_url("portal:home"))
    return render(request, "identity/logout.html")
