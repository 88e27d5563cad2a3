"""``TONGBAN_CACHE_URL``: Redis shares rate-limit counts and sessions between processes; anything else is refused."""

import os
import subprocess
import sys

import pytest

PROBE = "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE)"


def _settings(value):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tongban.settings", "TONGBAN_CACHE_URL": value}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PROBE}"],
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "django.core.cache.backends.locmem.LocMemCache django.contrib.sessions.backends.db"),
        (
            "redis://127.0.0.1:6379/1",
            "django.core.cache.backends.redis.RedisCache django.contrib.sessions.backends.cached_db",
        ),
    ],
)
def test_the_cache_and_sessions_follow_the_setting(value, expected):
    result = _settings(value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_an_unknown_cache_url_is_refused():
    result = _settings("memcached://127.0.0.1")
    assert result.returncode != 0 and "TONGBAN_CACHE_URL must start with redis://" in result.stderr
