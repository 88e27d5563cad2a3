"""``tongban demo``: migrate, seed an empty city once, then serve."""

import io

import pytest
from django.core.management import call_command

from tongban.identity.models import Person


@pytest.mark.django_db
def test_demo_without_serving_migrates_and_seeds_an_empty_city_once():
    out = io.StringIO()
    call_command("demo", "--no-serve", "--people", "30", stdout=out)
    seeded = Person.objects.count()
    assert seeded >= 30
    assert "Database migrated." in out.getvalue()

    again = io.StringIO()
    call_command("demo", "--no-serve", "--people", "30", stdout=again)
    assert Person.objects.count() == seeded, "a second run keeps the city it seeded"
