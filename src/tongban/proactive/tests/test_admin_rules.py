"""A rule saved in the admin goes through the services' checks: a bad one is a form error, not a 500."""

from tongban.identity.tests.factories import UserFactory, login_verified
from tongban.proactive.models import ProactiveRule
from tongban.proactive.tests.fixtures import messaging_templates, school_item  # noqa: F401

URL = "/admin/proactive/proactiverule/add/"


def _form(**overrides):
    data = {
        "code": "school-offer",
        "name_zh": "入园提醒",
        "name_en": "Kindergarten",
        "description": "",
        "trigger": "birth_registered",
        "condition": "",
        "action": "offer",
        "topic": "education",
        "template": "kindergarten-offer",
        "service": "no-such-service",
        "once_per_subject": "on",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_a_rule_for_an_unknown_service_is_a_form_error(client, city, messaging_templates, school_item):  # noqa: F811
    login_verified(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.post(URL, _form())
    assert response.status_code == 200 and "no-such-service" in response.content.decode()
    assert not ProactiveRule.objects.exists()
    response = client.post(URL, _form(service=school_item.code))
    assert response.status_code == 302 and ProactiveRule.objects.get().service == school_item.code
