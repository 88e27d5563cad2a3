import pytest


@pytest.fixture
def demo_catalog(city):
    """The demo catalogue (35 published items, 2 bundles)."""
    from tongban.demo.catalog import catalog_demo_ensure

    catalog_demo_ensure()
