"""Sending: the inbox row, deliveries per channel, de-duplication, opt-outs, quiet hours, the daily cap."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from tongban.core.audit import SYSTEM
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.identity.selectors import actor_for, person_for
from tongban.identity.tests.factories import CitizenFactory, OrganisationFactory
from tongban.messaging import selectors, services
from tongban.messaging.models import Delivery, Message, MessageTemplate, NotificationPreference

from .factories import NEWBORN_CONTEXT, send_case, send_newborn

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_message_lands_in_the_inbox_rendered_in_both_languages_with_queued_deliveries(citizen, templates):
    citizen.email = "li.ming@example.cn"
    citizen.save()
    person = person_for(citizen)
    message = send_newborn(person, channels=("inbox", "sms", "email"))
    assert message.subject == "新生儿出生一件事已为您预填"
    assert "李小宝" in message.body and "/offers/1/" in message.body
    assert "李小宝" in message.body_en and message.subject_en.startswith("Your newborn bundle")
    assert message.link == "/offers/1/"
    assert message.context == NEWBORN_CONTEXT
    assert list(selectors.message_list_for_user(citizen)) == [message]
    deliveries = {d.channel: d for d in message.deliveries.all()}
    assert deliveries["sms"].status == "queued" and deliveries["sms"].address == "13812345678"
    assert deliveries["email"].status == "queued" and deliveries["email"].address == "li.ming@example.cn"
    assert AuditEntry.objects.filter(action="message.sent", subject_id=str(message.pk)).exists()
    event = OutboxEvent.objects.get(name="message.sent")
    assert event.payload["message"] == str(message.pk) and event.payload["deliveries"]["sms"] == "queued"


def test_queued_deliveries_go_out_through_the_file_gateway(citizen, templates, outbox):
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    assert services.deliveries_run() == {"sent": 1, "failed": 0}
    delivery = message.deliveries.get()
    assert delivery.status == "sent" and delivery.sent_at and delivery.provider_id.startswith("file-")
    line = json.loads(outbox.read_text(encoding="utf-8").splitlines()[0])
    assert line["to"] == "13812345678" and line["template"] == "newborn-offer"
    assert "李小宝" in line["text"] and line["id"] == delivery.provider_id


def test_sending_enqueues_the_delivery_task_on_commit(
    citizen, templates, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("tongban.messaging.tasks.deliver_message", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    assert queued == [str(message.pk)]


def test_the_same_dedupe_key_never_sends_twice(citizen, templates):
    person = person_for(citizen)
    first = send_newborn(person, channels=("inbox", "sms"), dedupe_key="rule-1:birth-42")
    again = send_newborn(person, channels=("inbox", "sms"), dedupe_key="rule-1:birth-42")
    assert again.pk == first.pk
    assert Message.objects.count() == 1 and Delivery.objects.count() == 1
    other = send_newborn(person, dedupe_key="rule-1:birth-43")
    assert other.pk != first.pk


def test_the_database_refuses_a_duplicate_dedupe_key(citizen, templates):
    message = send_newborn(person_for(citizen), dedupe_key="k")
    duplicate = Message(
        person=message.person, topic="newborn", template_code="x", subject="s", body="b", dedupe_key="k"
    )
    with pytest.raises(IntegrityError):
        duplicate.save()


def test_an_organisation_message_reaches_its_agents(citizen, templates):
    organisation = OrganisationFactory(agents=[citizen])
    stranger = CitizenFactory()
    message = send_newborn(organisation=organisation)
    assert list(selectors.message_list_for_user(citizen)) == [message]
    assert list(selectors.message_list_for_user(stranger)) == []


def test_an_opted_out_channel_is_skipped_with_the_reason(citizen, templates):
    services.preference_set(actor=actor_for(citizen), topic="newborn", channel="sms", enabled=False)
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    delivery = message.deliveries.get()
    assert (delivery.status, delivery.reason) == ("skipped", "opted out")
    assert message.in_inbox
    assert services.deliveries_run() == {"sent": 0, "failed": 0}


def test_an_opted_out_inbox_hides_proactive_messages_but_keeps_the_row(citizen, templates):
    person = person_for(citizen)
    services.preference_set(actor=actor_for(citizen), topic="newborn", channel="inbox", enabled=False)
    assert not selectors.topic_allowed(person, "newborn")
    message = send_newborn(person)
    assert Message.objects.filter(pk=message.pk, in_inbox=False).exists()
    assert list(selectors.message_list_for_user(citizen)) == []


def test_the_case_inbox_cannot_be_switched_off(citizen, templates):
    person = person_for(citizen)
    with pytest.raises(ValidationError):
        services.preference_set(actor=actor_for(citizen), topic="case", channel="inbox", enabled=False)
    with pytest.raises(IntegrityError):
        NotificationPreference.objects.create(person=person, topic="case", channel="inbox", enabled=False)


def test_case_messages_stay_in_the_inbox_even_if_a_stale_preference_says_off(citizen, templates):
    message = send_case(person_for(citizen), channels=("inbox", "sms"))
    assert message.in_inbox
    services.preference_set(actor=actor_for(citizen), topic="case", channel="sms", enabled=False)
    assert selectors.topic_allowed(person_for(citizen), "case", "inbox")
    assert send_case(person_for(citizen), channels=("inbox", "sms")).deliveries.get().reason == "opted out"


def test_a_channel_without_an_address_is_skipped(citizen, templates):
    message = send_newborn(person_for(citizen), channels=("inbox", "email"))  # the user has no e-mail address
    assert (message.deliveries.get().status, message.deliveries.get().reason) == ("skipped", "no address")


def test_sms_beyond_the_daily_cap_is_skipped_but_the_inbox_has_every_message(citizen, templates, settings):
    settings.TONGBAN_SMS_DAILY_CAP = 2
    person = person_for(citizen)
    sent = [send_newborn(person, channels=("inbox", "sms")) for _ in range(3)]
    statuses = [(m.deliveries.get().status, m.deliveries.get().reason) for m in sent]
    assert statuses == [("queued", ""), ("queued", ""), ("skipped", "daily cap")]
    assert selectors.message_list_for_user(citizen).count() == 3


def test_quiet_hours_end():
    at = dt.datetime(2026, 3, 2, 23, 30, tzinfo=SHANGHAI)
    assert services.quiet_hours_end(at) is None  # no quiet hours configured in tests


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        (dt.datetime(2026, 3, 2, 23, 30), dt.datetime(2026, 3, 3, 8, 0)),
        (dt.datetime(2026, 3, 3, 6, 0), dt.datetime(2026, 3, 3, 8, 0)),
        (dt.datetime(2026, 3, 3, 8, 0), None),
        (dt.datetime(2026, 3, 3, 21, 59), None),
    ],
)
def test_quiet_hours_over_midnight(settings, clock, expected):
    settings.TONGBAN_SMS_QUIET_HOURS = "22:00-08:00"
    end = services.quiet_hours_end(clock.replace(tzinfo=SHANGHAI))
    assert end == (expected.replace(tzinfo=SHANGHAI) if expected else None)


def test_an_sms_sent_in_quiet_hours_waits_for_their_end(citizen, templates, settings, monkeypatch):
    settings.TONGBAN_SMS_QUIET_HOURS = "22:00-08:00"
    late = dt.datetime(2026, 3, 2, 23, 15, tzinfo=SHANGHAI)
    monkeypatch.setattr(services.timezone, "now", lambda: late)
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    delivery = message.deliveries.get()
    morning = dt.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)
    assert delivery.status == "queued" and delivery.next_attempt_at == morning
    assert services.deliveries_run(now=late + dt.timedelta(hours=2)) == {"sent": 0, "failed": 0}
    assert services.deliveries_run(now=morning) == {"sent": 1, "failed": 0}


def test_a_due_sms_met_by_quiet_hours_is_postponed_without_using_an_attempt(citizen, templates, settings):
    message = send_newborn(person_for(citizen), channels=("inbox", "sms", "email"))
    settings.TONGBAN_SMS_QUIET_HOURS = "22:00-08:00"
    night = dt.datetime(2030, 3, 2, 23, 0, tzinfo=SHANGHAI)
    assert services.deliveries_run(now=night) == {
        "sent": 0,
        "failed": 0,
    }  # the e-mail was skipped: no address
    delivery = message.deliveries.get(channel="sms")
    assert delivery.attempts == 0
    assert delivery.next_attempt_at == dt.datetime(2030, 3, 3, 8, 0, tzinfo=SHANGHAI)


def test_an_unknown_template_topic_or_missing_placeholder_is_refused(citizen, templates):
    person = person_for(citizen)
    with pytest.raises(ValidationError, match="nope"):
        services.message_send(actor=SYSTEM, person=person, topic="newborn", template="nope", context={})
    with pytest.raises(ValidationError):
        services.message_send(
            actor=SYSTEM, person=person, topic="weather", template="newborn-offer", context={}
        )
    with pytest.raises(ValidationError, match="baby_name"):
        services.message_send(
            actor=SYSTEM,
            person=person,
            topic="newborn",
            template="newborn-offer",
            context={"name": "x", "link": "/"},
        )
    with pytest.raises(ValidationError):
        services.message_send(
            actor=SYSTEM, topic="newborn", template="newborn-offer", context=NEWBORN_CONTEXT
        )
    assert Message.objects.count() == 0


def test_a_template_with_an_unknown_placeholder_fails_naming_it():
    template = MessageTemplate(
        code="t",
        topic="newborn",
        subject_zh="{name}",
        body_zh="{nmae} 您好",
        subject_en="s",
        body_en="{name}",
    )
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    assert "body_zh" in caught.value.message_dict
    assert "{nmae}" in caught.value.message_dict["body_zh"][0]


@pytest.mark.parametrize("text", ["{name.__class__}", "{name[0]}", "{0}", "{name!r}", "{name:>10}", "{name"])
def test_a_template_may_only_use_plain_placeholders(text):
    template = MessageTemplate(
        code="t", topic="newborn", subject_zh="s", body_zh=text, subject_en="s", body_en="b"
    )
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    assert "body_zh" in caught.value.message_dict


def test_the_demo_templates_are_valid_and_idempotent(templates):
    from tongban.messaging.case_messages import CASE_TEMPLATES
    from tongban.messaging.demo import DEMO_TEMPLATES, message_templates_demo_ensure

    before = AuditEntry.objects.filter(action__startswith="message_template.").count()
    assert message_templates_demo_ensure() == len(DEMO_TEMPLATES) + len(CASE_TEMPLATES)
    assert AuditEntry.objects.filter(action__startswith="message_template.").count() == before
    assert MessageTemplate.objects.count() == 10 + 14


def test_reading_a_message_marks_it_once_and_only_for_its_owner(citizen, templates):
    from django.core.exceptions import PermissionDenied

    message = send_newborn(person_for(citizen))
    with pytest.raises(PermissionDenied):
        services.message_read(actor=actor_for(CitizenFactory()), message=message)
    services.message_read(actor=actor_for(citizen), message=message)
    first = Message.objects.get(pk=message.pk).read_at
    services.message_read(actor=actor_for(citizen), message=message)
    assert first is not None and Message.objects.get(pk=message.pk).read_at == first
    assert AuditEntry.objects.filter(action="message.read").count() == 1


def test_the_daily_sms_count_reads_the_recipients_last_day_through_their_index(citizen, templates):
    """Every message with an SMS counts the recipient's SMS of the day: by the recipient's index (their last day's
    messages), not by every queued or sent delivery of the city (the plan SQLite chose before, a read that grew
    with the whole history). Yesterday's SMS do not count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = person_for(citizen)
    send_newborn(person, channels=("inbox", "sms"), dedupe_key="yesterday")
    Delivery.objects.filter(message__person=person).update(
        created_at=dt.datetime(2026, 1, 1, tzinfo=SHANGHAI)
    )
    Message.objects.filter(person=person).update(created_at=dt.datetime(2026, 1, 1, tzinfo=SHANGHAI))
    now = dt.datetime(2026, 1, 2, 10, tzinfo=SHANGHAI)
    assert services._sms_today(person, now, limit=5) == 0
    send_newborn(person, channels=("inbox", "sms"), dedupe_key="today")
    Delivery.objects.filter(message__dedupe_key="today").update(created_at=now)
    Message.objects.filter(dedupe_key="today").update(created_at=now)
    with CaptureQueriesContext(connection) as captured:
        assert services._sms_today(person, now, limit=5) == 1
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            sql = captured.captured_queries[-1]["sql"]
            plan = " ".join(str(row) for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
        assert "messaging_msg_person_idx" in plan, plan


def test_a_dedupe_key_is_looked_up_by_the_recipients_dedupe_index(citizen, templates):
    """A message with a dedupe key first looks for the recipient's message with that key: through the partial
    unique index on (recipient, dedupe key), not by reading every message of the recipient (SQLite ignores a
    partial index unless the query repeats its condition: a read that grew with the recipient's history)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = person_for(citizen)
    first = send_newborn(person, dedupe_key="rule-1:birth-42")
    send_newborn(person, dedupe_key="rule-1:birth-43")
    with CaptureQueriesContext(connection) as captured:
        assert services._existing(person, "rule-1:birth-42") == first
    assert services._existing(person, "rule-1:birth-44") is None
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            sql = captured.captured_queries[-1]["sql"]
            plan = " ".join(str(row) for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
        assert "messaging_message_person_dedupe" in plan, plan


def test_the_daily_sms_count_stops_at_the_cap_from_the_start_of_the_day(citizen, templates, settings):
    """The count asks whether the cap is reached: it reads the recipient's day from its start and stops at the cap,
    so a recipient past the cap (every later SMS skipped) is not read whole again at each new message. The cap's
    decisions are those of a full count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    settings.TONGBAN_SMS_DAILY_CAP = 3
    person = person_for(citizen)
    for n in range(6):
        send_newborn(person, channels=("inbox", "sms"), dedupe_key=f"k{n}")
    sms = Delivery.objects.filter(message__person=person, channel="sms").order_by("message__created_at")
    assert [d.status for d in sms] == ["queued"] * 3 + ["skipped"] * 3
    now = timezone.now()
    assert services._sms_today(person, now, limit=3) == 3
    assert services._sms_today(person, now, limit=2) == 2
    assert services._sms_today(person, now, limit=10) == 3
    with CaptureQueriesContext(connection) as captured:
        services._sms_today(person, now, limit=3)
    sql = captured.captured_queries[-1]["sql"]
    assert "ORDER BY m.created_at LIMIT 3" in sql
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            plan = " ".join(str(row) for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
        assert "messaging_msg_person_idx" in plan, plan
