import pytest

from tongban.portal.tests.fixtures import citizen, city, staff_user  # noqa: F401


@pytest.fixture
def demo_catalog(city):  # noqa: F811
    """The demo catalogue (35 published items, 2 bundles)."""
    from tongban.demo.catalog import catalog_demo_ensure

    catalog_demo_ensure()
