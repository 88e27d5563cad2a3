"""The session's user, read by ``identity.middleware.AuthenticationMiddleware`` in one hand-written statement, with
Django's rules kept: an inactive user is nobody, a changed password ends other sessions, a fallback secret keeps
the session and cycles its key, a backend no longer configured ends it."""

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from tongban.identity.tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db
ME = "/api/v1/me/"


def _signed_in():
    user = CitizenFactory()
    client = Client()
    client.force_login(user)
    return user, client


def test_the_user_is_read_in_one_hand_written_statement():
    user, client = _signed_in()
    client.get(ME)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME)
    assert response.status_code == 200 and response.json()["username"] == user.username
    reads = [q["sql"] for q in queries if 'FROM "identity_user"' in q["sql"]]
    assert len(reads) == 1 and '"identity_user" t WHERE t.id = ' in reads[0]


def test_an_inactive_user_is_signed_out():
    user, client = _signed_in()
    assert client.get(ME).status_code == 200
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(ME).status_code == 403


def test_a_password_changed_elsewhere_ends_the_session():
    user, client = _signed_in()
    assert client.get(ME).status_code == 200
    user.set_password("another-secret-1")
    user.save()
    assert client.get(ME).status_code == 403
    assert not client.session.get("_auth_user_id")  # flushed


def test_a_session_signed_with_a_fallback_secret_stays_and_gets_a_new_key():
    _user, client = _signed_in()
    old_key = client.session.session_key
    with override_settings(SECRET_KEY="a-new-secret-" + "x" * 40, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert client.get(ME).status_code == 200
        assert client.session.session_key != old_key


def test_a_backend_no_longer_configured_signs_out():
    _user, client = _signed_in()
    session = client.session
    session[BACKEND_SESSION_KEY] = "tongban.identity.tests.nowhere.Backend"
    session.save()
    assert client.get(ME).status_code == 403


def test_the_api_hands_its_views_the_user_itself_and_still_enforces_csrf_on_writes():
    from tongban.identity.models import User

    user = CitizenFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.get(ME)
    assert response.status_code == 200
    # api.authentication.SessionAuthentication: not the middleware's lazy proxies, the user they stand for.
    assert type(response.wsgi_request.user) is User and response.wsgi_request.user.pk == user.pk
    refused = client.post("/api/v1/cases/", {}, content_type="application/json")  # no CSRF token
    assert refused.status_code == 403 and "CSRF" in refused.content.decode()
