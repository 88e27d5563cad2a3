"""The whole OpenAPI schema builds and validates with no warning (every app's endpoints together)."""

import io

from django.core.management import call_command


def test_the_whole_schema_validates_without_warnings(db):
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "openapi" in out.getvalue()
