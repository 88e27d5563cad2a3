"""``tongban simulate`` refuses a database without a city and bad arguments, before it writes anything."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.cases.models import Case


@pytest.mark.django_db
def test_simulate_refuses_a_database_without_a_city():
    with pytest.raises(CommandError, match="seed a demo city"):
        call_command("simulate", "--scale", "test", "--quiet")
    assert not Case.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [(["--days", "0"], "--days"), (["--applicants", "0"], "--applicants"), (["--cases", "-1"], "--cases")],
)
def test_simulate_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate", "--quiet", *args)
