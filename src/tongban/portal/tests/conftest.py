"""The demo city, seeded for the portal tests that walk its journeys (the home and the English pages, one module)."""

import pytest
from django.db import transaction


class RolledBack(Exception):
    pass


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker):
    """A small demo city (10 synthetic people) once for each module that asks for it, rolled back at its end;
    each test's own writes roll back with ``db``."""
    from tongban.demo.services import demo_city_seed

    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                demo_city_seed(people=10, organisations=1)
                yield
                raise RolledBack
        except RolledBack:
            pass
