"""The idempotency check at each submission reads the constraint's index, not the submitter's whole history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongban.cases import services
from tongban.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_idempotency_key_is_looked_up_in_its_partial_index():
    """A clerk submits thousands of cases a day: asking "did this clerk already send this key?" by the submitter's
    index read them all at each submission (26 % of a simulated Shanghai day's time, growing with the day)."""
    if connection.vendor != "sqlite":
        pytest.skip(
            "needs SQLite: the plan is SQLite's (PostgreSQL's own planner proves the index's condition)"
        )
    user = UserFactory()
    with CaptureQueriesContext(connection) as captured:
        assert services._submitted_before(user, "key-1", "fingerprint") is None
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        plan = " ".join(str(row) for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
    assert "cases_case_idempotent_submit" in plan, plan
