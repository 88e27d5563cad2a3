"""Federated sign-in against a real OpenID Connect provider (django-oauth-toolkit) that the tests start in a
process of its own on 127.0.0.1: redirect, the provider's login, the callback with the code, the session."""

import datetime as dt
import json
import os
import select
import subprocess
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from django.conf import settings
from django.test import override_settings

from tongban.core.audit import SYSTEM
from tongban.core.ids import make_resident_id
from tongban.core.models import AuditEntry
from tongban.identity import services as identity_services
from tongban.identity.models import User

# Every test here uses the database, so pytest-django keeps them together and the provider starts once.
pytestmark = pytest.mark.django_db

REGISTERED = make_resident_id("310104", dt.date(1985, 3, 2), 7)
STRANGER = make_resident_id("310115", dt.date(1992, 8, 9), 31)
CLIENT_ID, CLIENT_SECRET = "tongban", "tongban-rp-secret"
USERS = [
    {"username": "resident", "password": "pw-resident", "resident_id": REGISTERED, "verified": True},
    {"username": "stranger", "password": "pw-stranger", "resident_id": STRANGER, "verified": True},
    {"username": "unverified", "password": "pw-unverified", "resident_id": REGISTERED, "verified": False},
    {"username": "anonymous", "password": "pw-anonymous", "verified": True},
]


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """The identity provider's issuer URL, served by a second process until the module's tests are done."""
    setup = {
        "users": USERS,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://testserver/accounts/oidc/callback/",
    }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tongban.integrations.tests.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(tmp_path_factory.mktemp("oidc") / "provider.sqlite3"),
        "OIDC_PROVIDER_SETUP": json.dumps(setup),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tongban.integrations.tests.oidc_provider.serve"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _w, _x = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            pytest.fail(f"the test identity provider did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}/o"
    finally:
        process.kill()  # a test server with a scratch database: nothing to shut down cleanly
        process.wait(timeout=10)


@pytest.fixture
def oidc(provider):
    with override_settings(
        TONGBAN_OIDC_ENABLED=True,
        OIDC_RP_CLIENT_ID=CLIENT_ID,
        OIDC_RP_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_OP_AUTHORIZATION_ENDPOINT=f"{provider}/authorize/",
        OIDC_OP_TOKEN_ENDPOINT=f"{provider}/token/",
        OIDC_OP_USER_ENDPOINT=f"{provider}/userinfo/",
        OIDC_OP_JWKS_ENDPOINT=f"{provider}/.well-known/jwks.json",
        AUTHENTICATION_BACKENDS=[
            *settings.AUTHENTICATION_BACKENDS,
            "tongban.integrations.oidc.ResidentOIDCBackend",
        ],
    ):
        yield provider


@pytest.fixture
def person(city):
    """A resident in the population register who has never signed in (no account yet)."""
    return identity_services.person_create(actor=SYSTEM, resident_id=REGISTERED, name="周敏")


def sign_in(client, issuer, username, password):
    """The browser's journey: our redirect, the provider's login form, its redirect back, our callback."""
    browser = requests.Session()
    start = client.get("/accounts/oidc/authenticate/")
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(f"{issuer}/authorize/")
    assert parse_qs(urlparse(authorize).query)["code_challenge_method"] == ["S256"]
    to_login = browser.get(authorize, allow_redirects=False)
    assert to_login.status_code == 302
    login_url = urljoin(authorize, to_login.headers["Location"])
    back = browser.post(login_url, data={"username": username, "password": password}, allow_redirects=False)
    assert back.status_code == 302
    with_code = browser.get(urljoin(login_url, back.headers["Location"]), allow_redirects=False)
    assert with_code.status_code == 302
    callback = with_code.headers["Location"]
    assert callback.startswith("http://testserver/accounts/oidc/callback/?")
    return client.get(callback.removeprefix("http://testserver"))


def test_a_registered_resident_signs_in_and_gets_an_account_the_first_time(client, oidc, person):
    response = sign_in(client, oidc, "resident", "pw-resident")
    assert response.status_code == 302 and "refused" not in response["Location"]
    person.refresh_from_db()
    assert person.user_id is not None
    assert client.session["_auth_user_id"] == str(person.user_id)
    assert client.get("/api/v1/me/").json()["kind"] == "citizen"
    assert AuditEntry.objects.filter(action="oidc.account_created", subject_id=str(person.pk)).count() == 1
    # The second time, the same account.
    client.logout()
    sign_in(client, oidc, "resident", "pw-resident")
    assert client.session["_auth_user_id"] == str(person.user_id)
    assert User.objects.filter(person=person).count() == 1
    assert AuditEntry.objects.filter(action="oidc.signed_in").count() == 2


def test_a_resident_not_in_the_population_register_is_refused_clearly(client, oidc, person):
    users = User.objects.count()
    response = sign_in(client, oidc, "stranger", "pw-stranger")
    assert response.status_code == 302 and response["Location"] == "/accounts/oidc/refused/"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert "No person with your resident ID number is in the city" in page.content.decode()
    assert "_auth_user_id" not in client.session
    assert User.objects.count() == users
    assert AuditEntry.objects.filter(action="oidc.refused", details__contains="not_registered").exists()


@pytest.mark.parametrize(
    ("username", "reason"), [("unverified", "not_verified"), ("anonymous", "no_resident_id")]
)
def test_an_unverified_or_missing_resident_id_is_refused(client, oidc, person, username, reason):
    response = sign_in(client, oidc, username, f"pw-{username}")
    assert response["Location"] == "/accounts/oidc/refused/"
    assert client.session["tongban_oidc_refusal"] == reason
    assert client.get("/accounts/oidc/refused/").status_code == 403
    person.refresh_from_db()
    assert person.user_id is None


def test_federated_sign_in_is_off_unless_configured(client, city):
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    assert "oidc" not in client.get("/accounts/login/").content.decode()


def test_the_login_page_offers_it_when_configured(client, oidc):
    assert "/accounts/oidc/authenticate/" in client.get("/accounts/login/").content.decode()
