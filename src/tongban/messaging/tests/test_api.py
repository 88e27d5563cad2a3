"""REST endpoints: my inbox, marking read, my notification preferences."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tongban.identity.selectors import person_for
from tongban.identity.tests.factories import CitizenFactory, OrganisationFactory
from tongban.messaging import selectors
from tongban.messaging.models import Message

from .factories import send_newborn

pytestmark = pytest.mark.django_db


def _url(name, *args):
    return reverse(f"api:messaging-api:{name}", args=args)


@pytest.fixture
def api():
    return APIClient(headers={"accept-language": "en"})


def test_the_inbox_lists_only_my_messages(api, citizen, templates):
    mine = send_newborn(person_for(citizen))
    send_newborn(person_for(CitizenFactory()))
    company = send_newborn(organisation=OrganisationFactory(agents=[citizen]))
    api.force_authenticate(citizen)
    answer = api.get(_url("inbox")).json()
    assert [item["id"] for item in answer["results"]] == [str(company.pk), str(mine.pk)]
    assert answer["results"][1]["subject"] == mine.subject and answer["results"][1]["read"] is False
    assert answer["results"][0]["recipient_type"] == "organisation"


def test_the_inbox_needs_a_login(api):
    assert api.get(_url("inbox")).status_code in {401, 403}


def test_marking_read_works_for_my_message_only(api, citizen, templates):
    mine = send_newborn(person_for(citizen))
    theirs = send_newborn(person_for(CitizenFactory()))
    api.force_authenticate(citizen)
    response = api.post(_url("inbox-read", mine.pk))
    assert response.status_code == 200 and response.json()["read"] is True
    assert api.post(_url("inbox-read", theirs.pk)).status_code == 404
    assert Message.objects.get(pk=theirs.pk).read_at is None
    assert api.get(_url("inbox") + "?unread=1").json()["count"] == 0


def test_preferences_read_and_change(api, citizen, templates):
    api.force_authenticate(citizen)
    answer = api.get(_url("notification-preferences")).json()
    assert answer["organisation"] is None
    case_inbox = next(p for p in answer["preferences"] if (p["topic"], p["channel"]) == ("case", "inbox"))
    assert case_inbox == {"topic": "case", "channel": "inbox", "enabled": True, "locked": True}
    response = api.put(
        _url("notification-preferences"),
        {"preferences": [{"topic": "elderly", "channel": "sms", "enabled": False}]},
        format="json",
    )
    assert response.status_code == 200
    assert not selectors.topic_allowed(person_for(citizen), "elderly", "sms")
    refused = api.put(
        _url("notification-preferences"),
        {"preferences": [{"topic": "case", "channel": "inbox", "enabled": False}]},
        format="json",
    )
    assert refused.status_code == 400 and "enabled" in refused.json()["errors"]


def test_organisation_preferences_only_for_its_agents(api, citizen, templates):
    mine = OrganisationFactory(agents=[citizen])
    other = OrganisationFactory()
    api.force_authenticate(citizen)
    assert api.get(_url("notification-preferences") + f"?organisation={mine.pk}").status_code == 200
    assert api.get(_url("notification-preferences") + f"?organisation={other.pk}").status_code == 404
    response = api.put(
        _url("notification-preferences"),
        {
            "organisation": str(other.pk),
            "preferences": [{"topic": "enterprise", "channel": "sms", "enabled": False}],
        },
        format="json",
    )
    assert response.status_code == 404
    assert selectors.topic_allowed(other, "enterprise", "sms")


def test_the_endpoints_are_in_the_openapi_schema(api, citizen):
    api.force_authenticate(citizen)
    schema = api.get(reverse("api:schema")).content.decode()
    assert "/api/v1/inbox/" in schema and "/api/v1/notification-preferences/" in schema
