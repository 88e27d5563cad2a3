"""A web thread keeps its SQLite connection between requests (``TONGBAN_DB_CONN_MAX_AGE``, 60 s by default, as on
PostgreSQL): what Django does at the end of every request (``close_old_connections``) leaves it open, unless the
setting is 0. Opening one per request was about 40 % of a list request's CPU through gunicorn."""

import os
import subprocess
import sys

import pytest

PROBE = (
    "import django; django.setup()\n"
    "from django.db import close_old_connections, connection\n"
    "connection.ensure_connection(); first = connection.connection\n"
    "close_old_connections()  # the end of a request (request_finished)\n"
    "print(connection.vendor, connection.settings_dict['CONN_MAX_AGE'],"
    " 'kept' if connection.connection is first else 'closed')\n"
)


def _probe(tmp_path, **env):
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_VAR_DIR": str(tmp_path),
        **env,
    }
    environ.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.sqlite_scratch
def test_a_sqlite_connection_outlives_the_request(tmp_path):
    assert _probe(tmp_path) == ["sqlite", "60", "kept"]


@pytest.mark.sqlite_scratch
def test_a_conn_max_age_of_0_closes_it_at_each_request(tmp_path):
    assert _probe(tmp_path, TONGBAN_DB_CONN_MAX_AGE="0") == ["sqlite", "0", "closed"]
