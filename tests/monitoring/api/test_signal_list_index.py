"""The API's newest-first signal list is read from an index, not a sort of every signal."""

from __future__ import annotations

import pytest
from django.db import connection

from monitoring.api.selectors import signal_queryset

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan")
def test_the_newest_first_page_walks_the_time_index():
    page = signal_queryset()[:50]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        # With a handful of rows the planner rightly prefers a scan; take it away to see whether an
        # index can deliver this order at all (without one the plan is a Sort over every signal).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "signal_newest_idx" in plan
    assert "Sort" not in plan.split("signal_newest_idx")[0]
