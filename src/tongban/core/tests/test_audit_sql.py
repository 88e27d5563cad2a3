"""The migration-facing SQL of the audit chain must hash what ``core.audit`` hashes."""

from tongban.core import audit, audit_sql


def test_the_sql_function_hashes_the_same_text_fields_in_the_same_order():
    # audit_sql keeps its own copy because migrations import it and must not import models.
    assert audit_sql.TEXT_COLUMNS == audit.HASHED_TEXT_FIELDS
