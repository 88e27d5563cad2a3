"""Password spraying: a few wrong passwords on each of many accounts from one address is refused after the
per-address limit, with a clear message, audited; another address is not affected, nor is X-Forwarded-For
believed when no proxy is trusted."""

import pytest
from django.urls import reverse
from django.utils.translation import override

from tongban.core.models import AuditEntry

from .factories import PASSWORD, CitizenFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("identity:login")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with override("en"):
        yield


def _try(client, username, password, address="203.0.113.7", **headers):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, headers=headers
    )


def test_four_wrong_passwords_on_each_of_25_accounts_are_refused_after_the_address_limit(client, settings):
    settings.TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT = 20
    accounts = CitizenFactory.create_batch(25)
    refused = 0
    for account in accounts:
        for attempt in range(4):
            response = _try(client, account.username, f"guess-{attempt}")
            assert response.status_code == 200
            if "Too many failed sign-ins from your network address" in response.content.decode():
                refused += 1
    assert refused == 100 - 20
    assert AuditEntry.objects.filter(action="login.failed").count() == 20
    assert AuditEntry.objects.filter(action="login.address_limited").count() == 80
    # Even the right password is refused from that address until the cool-off ends ...
    response = _try(client, accounts[0].username, PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    # ... while the account's owner signs in from elsewhere.
    response = _try(client, accounts[0].username, PASSWORD, address="198.51.100.9")
    assert response.status_code == 302


def test_a_new_x_forwarded_for_per_request_does_not_escape_the_limit_without_a_trusted_proxy(
    client, settings
):
    settings.TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT = 5
    accounts = CitizenFactory.create_batch(8)
    for number, account in enumerate(accounts):
        _try(client, account.username, "wrong", x_forwarded_for=f"10.0.0.{number}")
    assert AuditEntry.objects.filter(action="login.failed").count() == 5
    assert AuditEntry.objects.filter(action="login.address_limited").count() == 3
