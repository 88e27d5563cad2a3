"""Back office: templates validated on save; deliveries read-only, filterable, masked; failed ones resent."""

import pytest
from django.urls import reverse

from tongban.identity.selectors import person_for
from tongban.identity.tests.factories import UserFactory, login_verified
from tongban.messaging.models import Delivery, MessageTemplate

from .factories import send_newborn

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, city):
    login_verified(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_a_template_with_an_unknown_placeholder_is_refused_in_the_admin(admin_client, templates):
    template = MessageTemplate.objects.get(code="licence-expiry")
    url = reverse("admin:messaging_messagetemplate_change", args=[template.pk])
    data = {
        "code": template.code,
        "topic": template.topic,
        "subject_zh": template.subject_zh,
        "body_zh": "{name}您好，{licnse}快到期了",
        "subject_en": template.subject_en,
        "body_en": template.body_en,
        "active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "{licnse}" in response.content.decode()
    data["body_zh"] = "{name}您好，{licence}快到期了"
    assert admin_client.post(url, data).status_code == 302
    assert MessageTemplate.objects.get(pk=template.pk).body_zh == "{name}您好，{licence}快到期了"


def test_deliveries_are_listed_masked_and_filtered_by_status(admin_client, citizen, templates):
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    Delivery.objects.filter(message=message).update(status="failed", attempts=5)
    page = admin_client.get(reverse("admin:messaging_delivery_changelist") + "?status__exact=failed")
    html = page.content.decode()
    assert page.status_code == 200 and "138****5678" in html and "13812345678" not in html
    detail = admin_client.get(reverse("admin:messaging_delivery_change", args=[message.deliveries.get().pk]))
    assert "13812345678" not in detail.content.decode()
    assert admin_client.get(reverse("admin:messaging_message_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:messaging_message_change", args=[message.pk])).status_code == 200


def test_failed_deliveries_can_be_sent_again_from_the_admin(admin_client, citizen, templates):
    message = send_newborn(person_for(citizen), channels=("inbox", "sms"))
    delivery = message.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=5)
    admin_client.post(
        reverse("admin:messaging_delivery_changelist"),
        {"action": "send_again", "_selected_action": [str(delivery.pk)]},
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 0)
