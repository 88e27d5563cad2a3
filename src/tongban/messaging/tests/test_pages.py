"""Portal pages: my inbox, one message, notification settings; only my own messages."""

import re

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from tongban.identity.selectors import person_for
from tongban.identity.tests.factories import CitizenFactory, OrganisationFactory
from tongban.messaging import selectors
from tongban.messaging.models import Message, NotificationPreference

from .factories import send_case, send_newborn

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(headers={"accept-language": "zh-hans"})


def test_the_inbox_shows_my_messages_newest_first_with_unread_bold(client, citizen, templates):
    older = send_newborn(person_for(citizen))
    newer = send_case(person_for(citizen))
    theirs = send_newborn(person_for(CitizenFactory()))
    organisation = OrganisationFactory(agents=[citizen], name="示范科技有限公司")
    company = send_newborn(organisation=organisation)
    Message.objects.filter(pk=older.pk).update(read_at=older.created_at)
    client.force_login(citizen)
    page = client.get(reverse("messaging:inbox")).content.decode()
    assert page.index(str(company.pk)) < page.index(str(newer.pk)) < page.index(str(older.pk))
    assert str(theirs.pk) not in page
    assert "示范科技有限公司" in page
    assert f'href="{newer.get_absolute_url()}" class="fw-bold"' in page
    assert f'href="{older.get_absolute_url()}" class=""' in page
    assert re.search(r'id="tb-unread">\D*2\D', page)


def test_the_inbox_needs_a_login(client):
    response = client.get(reverse("messaging:inbox"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_opening_a_message_marks_it_read_and_others_messages_are_not_found(client, citizen, templates):
    mine = send_newborn(person_for(citizen))
    theirs = send_newborn(person_for(CitizenFactory()))
    client.force_login(citizen)
    page = client.get(mine.get_absolute_url()).content.decode()
    assert "李小宝" in page and 'href="/offers/1/"' in page
    # The button to the linked page says "查看" (view), not the workbench's "办理" (handle) for a task.
    assert re.search(r'href="/offers/1/">\s*查看\s*</a>', page)
    assert Message.objects.get(pk=mine.pk).read_at is not None
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert Message.objects.get(pk=theirs.pk).read_at is None


def test_the_settings_page_saves_topics_and_channels_and_locks_the_case_inbox(client, citizen, templates):
    client.force_login(citizen)
    page = client.get(reverse("messaging:settings")).content.decode()
    assert 'value="case:inbox" id="pref-person-case-inbox" checked disabled' in page
    # Everything on except newborn SMS; the case inbox is not posted (its box is disabled).
    checked = [
        f"{topic}:{channel}"
        for topic in selectors.TOPICS
        for channel in ("inbox", "sms", "email")
        if (topic, channel) not in {("newborn", "sms"), ("case", "inbox")}
    ]
    response = client.post(reverse("messaging:settings"), {"owner": "person", "on": checked})
    assert response.status_code == 302
    person = person_for(citizen)
    assert not selectors.topic_allowed(person, "newborn", "sms")
    assert selectors.topic_allowed(person, "case", "inbox")
    assert NotificationPreference.objects.filter(person=person).count() == 1
    page = client.get(reverse("messaging:settings")).content.decode()
    assert 'value="newborn:sms" id="pref-person-newborn-sms">' in page


def test_settings_of_an_organisation_i_do_not_act_for_are_refused(client, citizen, templates):
    other = OrganisationFactory()
    client.force_login(citizen)
    response = client.post(reverse("messaging:settings"), {"owner": str(other.pk), "on": []})
    assert response.status_code == 404
    assert not NotificationPreference.objects.exists()


def test_the_unread_count_tag(citizen, templates):
    send_newborn(person_for(citizen))
    send_newborn(person_for(citizen))
    request = RequestFactory().get("/")
    request.user = citizen
    rendered = Template("{% load messaging %}{% unread_count as n %}[{{ n }}]").render(
        Context({"request": request})
    )
    assert rendered == "[2]"
    request.user = CitizenFactory()
    assert (
        Template("{% load messaging %}{% unread_count as n %}[{{ n }}]").render(Context({"request": request}))
        == "[0]"
    )
