"""A case's, a ticket's or a subject's audit entries are read through their partial indexes, not the whole log."""

import pytest
from django.db import connection

from tongban.core.selectors import audit_entry_list

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"case_id": "c1"}, "core_audit_case_idx"),
        ({"ticket_id": "t1"}, "core_audit_ticket_idx"),
        ({"subject": ("case", "c1")}, "core_audit_subject_idx"),
    ],
)
def test_an_audit_trail_is_read_through_its_partial_index(filters, index):
    if connection.vendor != "sqlite":
        pytest.skip(
            "needs SQLite: the plan is SQLite's (PostgreSQL's planner proves the condition from the value)"
        )
    entries = audit_entry_list(limit=None, **filters)
    sql, params = entries[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        plan = " ".join(str(row) for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())
    assert index in plan, plan
    assert list(entries) == []  # and the query runs
