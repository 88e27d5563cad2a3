import pytest


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


@pytest.fixture
def licence_types(city):
    """The birth medical certificate as a licence type carrying the small newborn form's fields."""
    from tongban.core.audit import SYSTEM
    from tongban.licences.reference import PERSONAL, SENSITIVE, f
    from tongban.licences.services import licence_type_ensure

    licence_type_ensure(
        actor=SYSTEM,
        code="birth-medical-certificate",
        name_zh="出生医学证明",
        name_en="Birth medical certificate",
        number_prefix="BMC",
        department_code="health",
        fields=[
            f("baby_name", "新生儿姓名", "Name of the newborn", PERSONAL, required=True),
            f("birth_date", "出生日期", "Date of birth", PERSONAL, required=True),
            f("mother_resident_id", "母亲公民身份号码", "Mother's resident ID", SENSITIVE, required=True),
        ],
    )
