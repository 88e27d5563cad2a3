"""A bounded Schemathesis run against a live server: gunicorn (two worker processes) started by the test on a free
127.0.0.1 port, on this test run's database, answering generated requests for every operation of the schema it
serves, as an anonymous caller, a citizen, a department's handler and a city administrator (both signed in with
the second factor, TOTP); zero server errors and zero answers that contradict the schema (status, content type,
body).

It runs once, in CI's SQLite pass (the PostgreSQL pass skips it: the API's answers do not depend on the backend,
and the run is the longest of the suite); about a minute. The figures of a run are in docs/operations.md.
"""

import contextlib
import os
import secrets
import time
from pathlib import Path

import pytest
import requests
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tongban.api.tests.live import gunicorn
from tongban.conftest import using_postgres
from tongban.core.audit import SYSTEM
from tongban.hotline.routing import model_current
from tongban.identity import services
from tongban.identity.selectors import department_get
from tongban.identity.tests.fixtures import login_with_second_factor

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 4  # per operation and caller: about 1,000 requests in all
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NO_LIMIT = "1000000/minute"  # the limits would answer 429 (documented) to most of the run


@pytest.fixture
def live_api(transactional_db, tmp_path):
    # The routing model is trained here if this run has none yet (the server loads it from the same var/); one
    # server process of two threads: the model and the word segmenter load once.
    model_current()
    with gunicorn(
        tmp_path,
        workers=1,
        threads=2,
        TONGBAN_API_ANON_RATE=NO_LIMIT,
        TONGBAN_API_USER_RATE=NO_LIMIT,
        TONGBAN_API_TICKET_RATE=NO_LIMIT,
    ) as running:
        yield running


def _cpu_seconds(pid) -> float:
    """CPU seconds gunicorn (its master and its workers) used so far, from /proc, for the figures."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for process in [pid, *children]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _session(client):
    token = secrets.token_hex(16)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": token}, {"X-CSRFToken": token}


def _runner(operation, base, who, cookies, headers, failures, statuses):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        # The session replaces the cookie the schema's cookieAuth makes Schemathesis generate.
        response = case.call(
            base_url=base, headers={**headers, "Accept-Language": "en"}, cookies=cookies or None, timeout=120
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:  # collect every failure, not only the first
            failures.append(f"{who} {case.method} {case.formatted_path}: {str(exc)[:1500]}")

    return run


def test_generated_requests_to_a_live_server_get_no_server_error_and_answers_that_match_the_schema(
    live_api, citizen, staff_user
):
    if using_postgres():
        pytest.skip("runs once, in the SQLite pass: the API's answers do not depend on the backend")
    base, server = live_api
    citizen_client = Client()
    citizen_client.force_login(citizen)
    admin = services.user_create(
        actor=SYSTEM, username="city.admin", password="x-pass-2026", check_password=False
    )
    services.staff_create(
        actor=SYSTEM,
        user=admin,
        department=department_get("big-data-center"),
        roles=["platform_admin", "hotline_operator", "dispatcher", "supervisor"],
    )
    callers = {
        "anonymous": ({}, {}),
        "citizen": _session(citizen_client),
        "staff": _session(login_with_second_factor(Client(), staff_user)),
        "admin": _session(login_with_second_factor(Client(), admin)),
    }
    admin_cookies, admin_headers = callers["admin"]
    warm = requests.post(  # the routing model's first load, before the clock (tongban.warmup is off)
        f"{base}/api/v1/hotline/classify/",
        json={"texts": ["路灯坏了"]},
        cookies=admin_cookies,
        headers=admin_headers,
        timeout=120,
    )
    assert warm.status_code == 200, server.log_path.read_text()[-5000:]
    schema = schemathesis.openapi.from_url(f"{base}/api/schema/?format=json")
    failures = []
    statuses = {}
    operations = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for who, (cookies, headers) in callers.items():
            with contextlib.suppress(Unsatisfiable):
                _runner(operation, base, who, cookies, headers, failures, statuses)()
    cpu = _cpu_seconds(server.pid)
    print(
        f"{operations} operations, {sum(statuses.values())} requests in {time.monotonic() - started:.0f} s",
        f"(server CPU {cpu:.0f} s, this process {time.process_time():.0f} s);",
        "statuses:",
        sorted(statuses.items()),
    )
    assert operations > 60
    assert sum(statuses.values()) > 500
    assert any(200 <= status < 300 for status in statuses)  # signed-in callers get past the policy too
    assert server.poll() is None, server.log_path.read_text()[-3000:]
    assert not failures, "\n".join(failures[:20])
    assert "Traceback" not in server.log_path.read_text()
