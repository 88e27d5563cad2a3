"""The API's rate limits hold: the client address ignores X-Forwarded-For unless proxies are trusted, and the
counts are shared by every worker process (the default file cache: two processes count together)."""

import os
import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

DEPARTMENTS = "/api/v1/departments/"


@pytest.fixture
def anon_rate_3(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/minute"},
    }
    from rest_framework.throttling import AnonRateThrottle

    rates = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    yield
    AnonRateThrottle.THROTTLE_RATES = rates


def _statuses(client, count, **headers):
    return [client.get(DEPARTMENTS, headers=headers).status_code for _ in range(count)]


def test_a_new_x_forwarded_for_per_request_does_not_escape_the_anonymous_limit(city, anon_rate_3):
    client = Client()
    statuses = [
        client.get(DEPARTMENTS, headers={"x-forwarded-for": f"10.1.2.{n}"}).status_code for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    body = client.get(DEPARTMENTS).json()
    assert (body["status"], body["code"]) == (429, "throttled")


def test_behind_one_trusted_proxy_the_address_it_saw_is_the_client(city, anon_rate_3, settings):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api_settings.reload()
    try:
        client = Client()
        first = _statuses(client, 4, x_forwarded_for="198.51.100.1")
        # A spoofed leftmost value does not help: the proxy appends the address it saw.
        second = _statuses(client, 2, x_forwarded_for="6.6.6.6, 198.51.100.2")
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
        api_settings.reload()
    assert first == [200, 200, 200, 429]
    assert second == [200, 200]


COUNT = """
import django
django.setup()
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from rest_framework.throttling import AnonRateThrottle

class Three(AnonRateThrottle):
    rate = "3/minute"

request = RequestFactory().get("/api/v1/departments/", REMOTE_ADDR="192.0.2.5")
request.user = AnonymousUser()
print(" ".join(str(Three().allow_request(request, None)) for _ in range(2)))
"""


def test_two_worker_processes_share_the_counts_with_the_default_cache(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tongban.settings", "TONGBAN_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("TONGBAN_CACHE_URL", None)
    runs = [
        subprocess.run([sys.executable, "-c", COUNT], env=env, capture_output=True, text=True, check=False)
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr
    assert [run.stdout.strip() for run in runs] == ["True True", "True False"]
