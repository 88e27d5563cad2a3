"""Events out: outbox events reach webhook subscribers as signed CloudEvents, with retries, dead letters, replay,
the failing flag, and the scopes of a client-bound subscriber."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from tongban.cases import services as case_services
from tongban.core.events import event_emit
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.identity.selectors import actor_for
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.integrations import services, signing
from tongban.integrations.models import WebhookDelivery, WebhookSubscriber
from tongban.integrations.tests.factories import admin_actor, make_client
from tongban.integrations.tests.receiver import Receiver
from tongban.workflow.tests.fixtures import newborn_files, newborn_form

pytestmark = pytest.mark.django_db


def _subscriber(url, **kwargs):
    return services.webhook_subscriber_create(
        actor=admin_actor(), name=kwargs.pop("name", "Receiver"), url=url, **kwargs
    )


def _emit(name="case.submitted", **payload):
    with transaction.atomic():
        return event_emit(
            name,
            {"case": "00000000-0000-0000-0000-000000000000", **payload},
            subject_type="case",
            subject_id="x",
        )


def _due_now():
    WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )


def test_an_event_reaches_the_subscriber_as_a_signed_cloudevent(city):
    with Receiver() as receiver:
        subscriber = _subscriber(receiver.url, event_types=["case.*"])
        receiver.secret = subscriber.secret
        event = _emit(number="TB1")
        _emit("grant.requested")  # not a type it asked for
        assert services.webhooks_relay() == 1
        assert services.webhooks_relay() == 0  # read again (the overlap): nothing twice
        assert services.webhooks_deliver() == 1
    [request] = receiver.requests
    assert request["signature"] == "valid"
    assert request["headers"]["content-type"].startswith("application/cloudevents+json")
    body = request["json"]
    assert body["specversion"] == "1.0"
    assert body["id"] == str(event.pk)
    assert body["type"] == "cn.tongban.case.submitted"
    assert body["subject"] == "case/x"
    assert body["data"]["number"] == "TB1"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.last_status_code == 204


def test_the_receivers_helper_notices_a_bad_signature(city):
    with Receiver(secret="not-the-subscribers-secret") as receiver:
        _subscriber(receiver.url)
        _emit()
        services.webhooks_relay()
        services.webhooks_deliver()
    [request] = receiver.requests
    assert request["signature"] == "signature does not match"
    secret = WebhookSubscriber.objects.get().secret
    header = request["headers"][signing.HEADER.lower()]
    signing.verify(secret, request["body"], header)  # the right secret verifies
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(secret, request["body"].replace(b"case", b"fake"), header)
    with pytest.raises(signing.SignatureError, match="too old"):
        signing.verify(secret, request["body"], header, now=int(header.split(",")[0][2:]) + 3600)


def test_events_from_before_the_subscriber_are_not_sent(city):
    _emit()
    with Receiver() as receiver:
        _subscriber(receiver.url)
        assert services.webhooks_relay() == 0


@override_settings(
    TONGBAN_WEBHOOK_MAX_ATTEMPTS=3, TONGBAN_WEBHOOK_ALERT_AFTER=3, TONGBAN_WEBHOOK_RETRY_SECONDS=30
)
def test_failures_back_off_then_die_flag_the_subscriber_and_a_replay_recovers(city):
    with Receiver() as receiver:
        receiver.status = 500
        subscriber = _subscriber(receiver.url)
        _emit()
        services.webhooks_relay()
        delays = []
        for _attempt in range(3):
            before = timezone.now()
            services.webhooks_deliver()
            delivery = WebhookDelivery.objects.get()
            if delivery.status == WebhookDelivery.Status.PENDING:
                delays.append(round((delivery.next_attempt_at - before).total_seconds()))
                _due_now()
        assert len(receiver.requests) == 3
        assert delays == [30, 60]  # exponential backoff
        assert delivery.status == WebhookDelivery.Status.DEAD and delivery.last_status_code == 500
        subscriber.refresh_from_db()
        assert subscriber.consecutive_failures == 3 and subscriber.failing_since is not None
        assert AuditEntry.objects.filter(action="webhook.failing", subject_id=str(subscriber.pk)).count() == 1
        assert OutboxEvent.objects.filter(name="webhook.failing").count() == 1

        receiver.status = 200
        call_command("webhooks", "replay", "--subscriber", subscriber.name)
        assert AuditEntry.objects.filter(action="webhook.replay").count() == 1
        services.webhooks_deliver()
    delivery.refresh_from_db()
    subscriber.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert len(receiver.requests) == 4
    assert receiver.requests[-1]["json"]["id"] == receiver.requests[0]["json"]["id"]  # same event id: dedupe
    assert subscriber.failing_since is None and subscriber.consecutive_failures == 0
    assert AuditEntry.objects.filter(action="webhook.recovered").exists()


def test_a_client_bound_subscriber_gets_only_what_its_scopes_and_departments_allow(parent, newborn, handlers):
    health, _secret = make_client("Health system", "health", scopes=["cases:read"])
    tax, _secret = make_client("Tax system", "tax", scopes=["cases:read"])
    no_scope, _secret = make_client("Lookup system", "health", scopes=["lookups:read"])
    with Receiver() as receiver:
        for client in (health, tax, no_scope):
            _subscriber(receiver.url, name=client.name, client=client, event_types=["case.*"])
        _subscriber(receiver.url, name="Platform bus")  # not tied to a client: everything
        with transaction.atomic():
            event_emit("grant.requested", {}, subject_type="sharing_grant", subject_id="g")
        case_services.case_submit(
            actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
        )
        services.webhooks_relay()
    by_subscriber = {}
    for delivery in WebhookDelivery.objects.select_related("subscriber", "event"):
        by_subscriber.setdefault(delivery.subscriber.name, set()).add(delivery.event.name)
    assert "case.submitted" in by_subscriber["Health system"]
    assert all(name.startswith("case.") for name in by_subscriber["Health system"])
    assert "Tax system" not in by_subscriber
    assert "Lookup system" not in by_subscriber
    assert {"grant.requested", "case.submitted"} <= by_subscriber["Platform bus"]


def test_the_admin_page_shows_deliveries_failures_and_replays(client, city):
    admin = admin_actor().user
    login_with_second_factor(client, admin)
    with Receiver() as receiver:
        receiver.status = 500
        subscriber = _subscriber(receiver.url, name="Failing receiver")
        _emit()
        services.webhooks_relay()
        with override_settings(TONGBAN_WEBHOOK_MAX_ATTEMPTS=1, TONGBAN_WEBHOOK_ALERT_AFTER=1):
            services.webhooks_deliver()
        page = client.get("/admin/integrations/webhooksubscriber/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "Failing receiver" in text
        response = client.post(
            "/admin/integrations/webhooksubscriber/",
            {"action": "replay_dead", "_selected_action": [str(subscriber.pk)]},
        )
        assert response.status_code == 302
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PENDING
    detail = client.get(f"/admin/integrations/webhooksubscriber/{subscriber.pk}/change/")
    assert detail.status_code == 200 and "case.submitted" in detail.content.decode()


def test_webhook_status_command_lists_each_subscriber(city, capsys):
    _subscriber("http://127.0.0.1:9/unused")
    call_command("webhooks", "status")
    assert "Receiver: 0 delivered, 0 pending, 0 dead" in capsys.readouterr().out


def test_event_types_must_be_a_list_of_names(city):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        _subscriber("http://127.0.0.1:9/x", event_types="case.*")


def test_the_workers_minute_task_relays_and_delivers(city):
    from tongban.integrations.tasks import relay_and_deliver_webhooks

    with Receiver() as receiver:
        _subscriber(receiver.url)
        _emit()
        relay_and_deliver_webhooks.call_local()
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


def test_an_administrator_registers_a_subscriber_choosing_event_families(client, city):
    login_with_second_factor(client, admin_actor().user)
    form = client.get("/admin/integrations/webhooksubscriber/add/").content.decode()
    assert 'type="checkbox" name="event_types" value="case.*"' in form
    response = client.post(
        "/admin/integrations/webhooksubscriber/add/",
        {
            "name": "District hall screen",
            "url": "https://hall.example.gov.cn/hooks",
            "event_types": ["case.*", "ticket.*"],
            "active": "on",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    made = WebhookSubscriber.objects.get(name="District hall screen")
    assert made.event_types == ["case.*", "ticket.*"] and made.secret
    assert AuditEntry.objects.filter(subject_id=str(made.pk)).exists()
