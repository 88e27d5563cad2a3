"""``TONGBAN_CACHE_URL``: rate-limit counts are shared by every process by default (files on SQLite, the database's
cache table on PostgreSQL), Redis shares counts and sessions, "local" keeps them per process; anything else is
refused."""

import os
import subprocess
import sys

import pytest

PROBE = "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE)"


def _settings(value, database_url=None):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tongban.settings", "TONGBAN_CACHE_URL": value}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PROBE}"],
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "django.core.cache.backends.filebased.FileBasedCache tongban.core.sessions"),
        ("file", "django.core.cache.backends.filebased.FileBasedCache tongban.core.sessions"),
        ("db", "django.core.cache.backends.db.DatabaseCache tongban.core.sessions"),
        ("local", "django.core.cache.backends.locmem.LocMemCache tongban.core.sessions"),
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


def test_on_postgresql_the_default_cache_is_the_database_table():
    result = _settings("", database_url="postgres://postgres@127.0.0.1:5432/unused")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split()[0] == "django.core.cache.backends.db.DatabaseCache"


def test_an_unknown_cache_url_is_refused():
    result = _settings("memcached://127.0.0.1")
    assert result.returncode != 0 and "TONGBAN_CACHE_URL must be file, db, local" in result.stderr
