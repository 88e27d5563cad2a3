"""The demo city, seeded for the portal tests that walk its journeys (the home and the English pages, one module)."""

from tongban.conftest import demo_city_fixture

# A small demo city (10 synthetic people) once for each module that asks for it, rolled back at its end; each
# test's own writes roll back with ``db``.
demo_city = demo_city_fixture(people=10, organisations=1)
