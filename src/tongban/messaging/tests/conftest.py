import pytest

from tongban.cases.tests.fixtures import handlers, newborn, parent  # noqa: F401
from tongban.portal.tests.fixtures import citizen, city, staff_user  # noqa: F401


@pytest.fixture(autouse=True)
def outbox(tmp_path, settings):
    """Each test writes the file gateway's messages to a file of its own; no quiet hours unless a test sets
    them (the suite must not depend on the time of day it runs)."""
    settings.TONGBAN_MESSAGE_OUTBOX = tmp_path / "outbox-messages.jsonl"
    settings.TONGBAN_SMS_GATEWAY = "file"
    settings.TONGBAN_EMAIL_GATEWAY = "file"
    settings.TONGBAN_SMS_QUIET_HOURS = ""
    settings.TONGBAN_SMS_DAILY_CAP = 5
    return settings.TONGBAN_MESSAGE_OUTBOX


@pytest.fixture
def templates(db):
    from tongban.messaging.demo import message_templates_demo_ensure

    message_templates_demo_ensure()
