import pytest

from tongban.proactive.tests.fixtures import designer, messaging_templates, school_item  # noqa: F401


@pytest.fixture(autouse=True)
def proactive_reads_granted(request):
    """Proactive services read the birth and household registers through the data hub: grant them, as the demo
    seed does (a test that needs the refusal revokes them)."""
    if "db" not in request.fixturenames and request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("city")
    from tongban.exchange.services import data_resources_sync
    from tongban.proactive.services import registry_reads_grant

    data_resources_sync()
    registry_reads_grant()
