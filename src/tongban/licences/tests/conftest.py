import pytest

from tongban.licences import keys


@pytest.fixture(autouse=True)
def key_dir(tmp_path, settings):
    """Each test keeps its private keys in a folder of its own."""
    settings.TONGBAN_LICENCE_KEY_DIR = tmp_path / "licence-keys"
    keys.storage_set(None)
    from tongban.licences import services

    services._private_cache.clear()
    yield settings.TONGBAN_LICENCE_KEY_DIR
    services._private_cache.clear()
