"""The worker's hourly refresh reads a day's records by their time: each through an index on that time, so that
its cost follows the day's volume and not the history's (a year of Shanghai is ~65 million cases)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongban.indicators.compute import day_compute

from .test_indicators import D

# The tables that grow with the city. A day's read of any of them must start from an index range.
HISTORY_TABLES = (
    "cases_case",
    "evaluation_rating",
    "supervision_warning",
    "supervision_rectification",
    "hotline_ticket",
    "hotline_ticketstep",
    "proactive_offer",
)


@pytest.mark.django_db
def test_a_days_recomputation_reads_no_history_table_whole():
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: the plan is read with EXPLAIN QUERY PLAN")
    with CaptureQueriesContext(connection) as captured:
        day_compute(D)
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    read = set()
    scans = []
    with connection.cursor() as cursor:
        for sql in selects:
            plan = [row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()]
            for line in plan:
                for table in HISTORY_TABLES:
                    if re.search(rf"\b{table}\b", line):
                        read.add(table)
                        if re.match(rf"SCAN {table}\b", line):  # with or without USING (an index read whole)
                            scans.append((line, sql[:160]))
    assert scans == []
    assert read == set(HISTORY_TABLES), read  # each was read, by an index
