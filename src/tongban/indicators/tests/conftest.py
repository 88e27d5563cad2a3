import pytest

from tongban.indicators import sums


@pytest.fixture(autouse=True)
def _fresh_sums():
    """Each test starts without the slabs another test's rolled-back rows left in this process."""
    sums.clear()
    yield
    sums.clear()
