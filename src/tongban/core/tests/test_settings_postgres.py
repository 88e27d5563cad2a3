"""PostgreSQL: parameters bound by the server and statements prepared on their second use by default
(``TONGBAN_PG_PREPARE_THRESHOLD``; empty: Django's client-side binding, for poolers that cannot keep prepared
statements)."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from tongban.conftest import POSTGRES_SKIP_REASON

PROBE = (
    "from django.conf import settings as s; import json; print(json.dumps(s.DATABASES['default']['OPTIONS']))"
)


def _options(threshold=None):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "DATABASE_URL": "postgres://tongban@db.example:5432/tongban",
    }
    env.pop("TONGBAN_PG_PREPARE_THRESHOLD", None)
    if threshold is not None:
        env["TONGBAN_PG_PREPARE_THRESHOLD"] = threshold
    probe = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PROBE}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(probe.stdout)


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (None, {"server_side_binding": True, "prepare_threshold": 2}),
        ("5", {"server_side_binding": True, "prepare_threshold": 5}),
        ("", {}),
    ],
)
def test_postgresql_binds_on_the_server_and_prepares_unless_told_not_to(threshold, expected):
    assert _options(threshold) == expected


@pytest.mark.django_db
def test_a_postgresql_connection_prepares_a_statement_used_twice():
    if connection.vendor != "postgresql":
        pytest.skip(POSTGRES_SKIP_REASON)
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT count(*) FROM identity_person WHERE sex = %s", ["F"])
            cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["SELECT count(*) FROM identity_person WHERE sex = $1%"],
        )
        assert cursor.fetchone()[0] == 1
