"""Delivery: a failing gateway is retried with backoff, then reported failed; no message is lost."""

import datetime as dt
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tongban.core.models import AuditEntry
from tongban.identity.selectors import person_for
from tongban.messaging import selectors, services
from tongban.messaging.gateways import GatewayError, HttpSmsGateway, SmtpGateway
from tongban.messaging.models import Delivery

from .factories import send_newborn

pytestmark = pytest.mark.django_db


class FailingGateway:
    calls = 0

    def send(self, delivery):
        FailingGateway.calls += 1
        raise GatewayError("provider down")


def test_a_failing_gateway_is_retried_with_backoff_then_reported_failed(citizen, templates, settings):
    settings.TONGBAN_SMS_GATEWAY = "tongban.messaging.tests.test_delivery.FailingGateway"
    FailingGateway.calls = 0
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    delivery = message.deliveries.get()
    now = timezone.now() + dt.timedelta(seconds=1)
    for attempt, wait in enumerate((1, 5, 15, 60), start=1):
        assert services.deliveries_run(now=now) == {"sent": 0, "failed": 1}
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("queued", attempt)
        assert delivery.next_attempt_at == now + dt.timedelta(minutes=wait)
        assert delivery.last_error == "provider down"
        # Not due before the backoff has passed.
        assert services.deliveries_run(now=now + dt.timedelta(minutes=wait) - dt.timedelta(seconds=1)) == {
            "sent": 0,
            "failed": 0,
        }
        now += dt.timedelta(minutes=wait)
    assert services.deliveries_run(now=now) == {"sent": 0, "failed": 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 5, None)
    assert FailingGateway.calls == 5
    assert services.deliveries_run(now=now + dt.timedelta(days=1)) == {"sent": 0, "failed": 0}
    assert AuditEntry.objects.filter(action="message.delivery_failed", subject_id=str(delivery.pk)).exists()
    assert list(selectors.delivery_list_failed()) == [delivery]
    # Nothing is lost: the message is still in the inbox.
    assert list(selectors.message_list_for_user(citizen)) == [message]
    out = io.StringIO()
    call_command("messages", "failed", stdout=out)
    assert str(delivery.pk) in out.getvalue() and "provider down" in out.getvalue()
    assert "138****5678" in out.getvalue() and "13812345678" not in out.getvalue()
    # An operator sends it again once the provider is back.
    settings.TONGBAN_SMS_GATEWAY = "file"
    call_command("messages", "retry-failed", stdout=io.StringIO())
    assert services.deliveries_run() == {"sent": 1, "failed": 0}
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"


class _Recorder(BaseHTTPRequestHandler):
    requests: list = []
    status = 200
    answer = b'{"id": "sms-123"}'

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        type(self).requests.append((self.path, dict(self.headers), self.rfile.read(length)))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_server(settings):
    _Recorder.requests = []
    _Recorder.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TONGBAN_SMS_GATEWAY = "http"
    settings.TONGBAN_SMS_URL = f"http://127.0.0.1:{server.server_port}/v1/sms"
    settings.TONGBAN_SMS_API_KEY = "key-123"
    settings.TONGBAN_SMS_SIGN = "上海通办"
    settings.TONGBAN_SMS_TIMEOUT = 5
    yield _Recorder
    server.shutdown()
    server.server_close()


def test_the_http_sms_gateway_posts_the_documented_json(citizen, templates, sms_server):
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    assert services.deliveries_run() == {"sent": 1, "failed": 0}
    delivery = message.deliveries.get()
    assert delivery.provider_id == "sms-123"
    path, headers, body = sms_server.requests[0]
    assert path == "/v1/sms"
    assert headers["X-Api-Key"] == "key-123"
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {
        "to": "13812345678",
        "text": message.body,
        "sign": "上海通办",
        "template": "newborn-offer",
    }


def test_the_http_sms_gateway_raises_on_an_error_status(citizen, templates, sms_server):
    sms_server.status = 503
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    with pytest.raises(GatewayError, match="503"):
        HttpSmsGateway().send(message.deliveries.get())


def test_the_http_sms_gateway_raises_when_unreachable(citizen, templates, settings):
    import socket

    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.TONGBAN_SMS_URL = f"http://127.0.0.1:{port}/sms"
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    with pytest.raises(GatewayError, match="unreachable"):
        HttpSmsGateway().send(message.deliveries.get())


def test_the_smtp_gateway_sends_both_languages(citizen, templates, settings):
    settings.TONGBAN_EMAIL_GATEWAY = "smtp"
    citizen.email = "li.ming@example.cn"
    citizen.save()
    message = send_newborn(person_for(citizen), channels=("inbox", "email"))
    assert services.deliveries_run() == {"sent": 1, "failed": 0}
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["li.ming@example.cn"] and email.subject == message.subject
    assert message.body in email.body and message.body_en in email.body
    assert message.deliveries.get().provider_id


def test_a_smtp_failure_is_a_gateway_error(citizen, templates, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 1  # nobody listens
    settings.EMAIL_TIMEOUT = 2
    citizen.email = "li.ming@example.cn"
    citizen.save()
    message = send_newborn(person_for(citizen), channels=("inbox", "email"))
    with pytest.raises(GatewayError):
        SmtpGateway().send(message.deliveries.get())


def test_with_the_worker_running_a_message_goes_out_right_after_commit(
    citizen, templates, outbox, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    finally:
        HUEY.immediate = False
    assert message.deliveries.get().status == "sent"
    assert "newborn-offer" in outbox.read_text(encoding="utf-8")
