"""Database faults under load, against a live server (gunicorn, two worker processes, on this run's PostgreSQL test
database): every session of the server is cut (``pg_terminate_backend``, from a second connection) while citizens
submit applications. The requests caught by the cut fail cleanly (an answer in the API's error shape, never an
HTML page or a dropped connection), nothing is half-written (each case has its materials, its timeline and its
tasks), a retry with the same Idempotency-Key makes each case exactly once, and the next requests succeed: the
workers' persistent connections (``CONN_MAX_AGE``) are replaced thanks to ``CONN_HEALTH_CHECKS``.
The figures of a run are in docs/operations.md.
"""

import base64
import threading
import time

import psycopg
import pytest
import requests
from django.db import connection
from django.test import Client

from tongban.api.tests.live import gunicorn
from tongban.cases.models import Case, CaseMaterial, CaseStep
from tongban.core.tests.test_worker import worker_database_url
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import newborn_form

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

APP = "tongban-faults"  # the server's application_name, so the cut spares this test's own sessions
THREADS = 4
LOAD_SECONDS = 4.0
CUTS_AT = (1.0, 2.5)  # seconds into the load


def _body(n):
    return {
        "service_type": "bundle",
        "service_code": "newborn",
        "form_data": newborn_form(baby_name="李" + chr(0x4E00 + n)),
        "materials": {
            "parents-marriage-certificate": {
                "filename": "marriage.pdf",
                "content_type": "application/pdf",
                "content": base64.b64encode(b"%PDF-1.4\n% marriage\n").decode(),
            }
        },
    }


def _cut(dsn):
    """Terminate every session of the server; return how many."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()",
            [APP],
        ).fetchall()
    return len(rows)


def _clean_error(response):
    """An error answer in the API's shape (JSON with status, code, detail, errors)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return False
    body = response.json()
    return {"status", "code", "detail", "errors"} <= set(body) and body["status"] == response.status_code


def test_cutting_the_servers_database_sessions_mid_load_fails_requests_cleanly_and_the_next_ones_succeed(
    tmp_path, parent, newborn, handlers
):
    url = f"{worker_database_url()}?application_name={APP}"
    dsn = worker_database_url()
    client = Client()
    client.force_login(parent)
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": "t" * 32}
    headers = {"X-CSRFToken": "t" * 32, "Accept-Language": "en"}
    answers = []  # (key, status, clean, seconds into the load)
    lock = threading.Lock()
    counter = iter(range(1_000_000))

    with gunicorn(tmp_path, workers=2, database_url=url, TONGBAN_DB_CONN_MAX_AGE="60") as (base, server):
        session = requests.Session()
        warm = session.post(  # each worker opens its persistent connection before the load
            f"{base}/api/v1/cases/", json=_body(999), cookies=cookies, headers=headers, timeout=60
        )
        assert warm.status_code == 201, warm.content[:500]
        start = time.monotonic()

        def load():
            with requests.Session() as mine:
                while time.monotonic() - start < LOAD_SECONDS:
                    with lock:
                        n = next(counter)
                    key = f"fault-{n}"
                    try:
                        response = mine.post(
                            f"{base}/api/v1/cases/",
                            json=_body(n),
                            cookies=cookies,
                            headers={**headers, "Idempotency-Key": key},
                            timeout=60,
                        )
                        outcome = (
                            response.status_code,
                            response.status_code == 201 or _clean_error(response),
                        )
                    except requests.ConnectionError:
                        outcome = (0, False)
                    with lock:
                        answers.append((n, *outcome, time.monotonic() - start))

        threads = [threading.Thread(target=load) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        terminated = []
        for at in CUTS_AT:
            time.sleep(max(0.0, at - (time.monotonic() - start)))
            terminated.append(_cut(dsn))
        for thread in threads:
            thread.join(timeout=120)

        # Afterwards: every failed request is retried with its key and body (exactly once in the end), then
        # fresh requests, enough to reach both workers, all succeed.
        failed = [(n, status) for n, status, _clean, _at in answers if status != 201]
        retried = {
            n: session.post(
                f"{base}/api/v1/cases/",
                json=_body(n),
                cookies=cookies,
                headers={**headers, "Idempotency-Key": f"fault-{n}"},
                timeout=60,
            ).status_code
            for n, _status in failed
        }
        after = [
            session.post(
                f"{base}/api/v1/cases/",
                json=_body(2000 + i),
                cookies=cookies,
                headers={**headers, "Idempotency-Key": f"after-{i}"},
                timeout=60,
            ).status_code
            for i in range(6)
        ]
        log = server.log_path.read_text()

    statuses = sorted({status for _n, status, _clean, _at in answers})
    print(
        f"faults: {len(answers)} requests in {LOAD_SECONDS} s by {THREADS} threads; sessions cut {terminated}; "
        f"statuses {statuses}; failed {len(failed)} ({sorted(set(retried.values()))} on retry); after {after}"
    )
    assert sum(terminated) >= 2, "the cut found no session of the server"
    assert all(clean for _n, _status, clean, _at in answers), [a for a in answers if not a[2]]
    assert not [status for _n, status, _c, _at in answers if 500 <= status < 600 and status != 503], statuses
    assert set(retried.values()) <= {200, 201}, retried
    assert after == [201] * 6, after
    # Exactly once: one case per key, and each one whole.
    keys = [f"fault-{n}" for n, *_rest in answers] + [f"after-{i}" for i in range(6)]
    cases = Case.objects.filter(idempotency_key__in=keys)
    assert cases.count() == len(keys)
    for case in cases:
        assert CaseMaterial.objects.filter(case=case).count() == 1, case.number
        assert CaseStep.objects.filter(case=case).exists(), case.number
        assert Task.objects.filter(case_id=case.pk).exists(), case.number
    assert "Internal Server Error" not in log  # each cut request was a 503, logged as a warning
    # A cut can land between requests only (faster requests: every answer 201): then nothing is logged.
    if 503 in statuses:
        assert "database unavailable" in log
    connection.close()
