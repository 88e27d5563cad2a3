"""Inbox counts in the menus: a handler sees how many open tasks wait in "My inbox", a citizen how many messages
are unread in "My messages"; each is one COUNT a request, however often the page asks."""

import re

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tongban.cases import services as cases
from tongban.core.events import event_deliver
from tongban.identity.selectors import actor_for
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.tests.fixtures import newborn_files, newborn_form

pytestmark = pytest.mark.django_db

INBOX_BADGE = re.compile(r'data-testid="inbox-count">(\d+)<')
UNREAD_BADGE = re.compile(r'class="badge text-bg-danger">(\d+)<span class="visually-hidden"> unread')


@pytest.fixture(autouse=True)
def _in_english(client):
    client.cookies["django_language"] = "en"


def _submit(parent, newborn):
    return cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )


def test_the_workbench_menu_counts_the_open_tasks_of_my_inbox(client, parent, newborn, handlers):
    login_with_second_factor(client, handlers["health"])
    assert not INBOX_BADGE.search(client.get(reverse("workbench:home")).content.decode())  # nothing waits
    _submit(parent, newborn)
    _submit(parent, newborn)
    page = client.get(reverse("workbench:cases")).content.decode()
    assert INBOX_BADGE.search(page).group(1) == "2"
    login_with_second_factor(client, handlers["hrss"])  # another department's inbox is empty
    assert not INBOX_BADGE.search(client.get(reverse("workbench:home")).content.decode())


def test_the_portal_menu_counts_my_unread_messages_and_opening_one_lowers_it(
    client, parent, newborn, handlers
):
    case = _submit(parent, newborn)
    cases.case_withdraw(actor=actor_for(parent), case=case, reason="不再需要")
    event_deliver()
    client.force_login(parent)
    page = client.get(reverse("cases:list")).content.decode()
    assert UNREAD_BADGE.search(page).group(1) == "2"
    inbox = client.get(reverse("messaging:inbox")).content.decode()
    assert UNREAD_BADGE.search(inbox).group(1) == "2" and "2 unread messages" in inbox
    first = re.search(r'href="(/inbox/[0-9a-f-]+/)"', inbox).group(1)
    client.get(first)
    assert UNREAD_BADGE.search(client.get(reverse("cases:list")).content.decode()).group(1) == "1"


def test_each_menu_count_is_one_query_a_request(parent, newborn, handlers):
    _submit(parent, newborn)
    request = RequestFactory().get("/")
    request.user = handlers["health"]
    workbench = Template("{% load workbench_tags %}{% workbench_access as a %}{{ a.inbox_count }}")
    assert workbench.render(Context({"request": request})) == "1"
    with CaptureQueriesContext(connection) as queries:
        assert workbench.render(Context({"request": request})) == "1"
    assert len(queries) == 0
    request = RequestFactory().get("/")
    request.user = parent
    portal = Template("{% load messaging %}{% unread_count as n %}{{ n }}")
    event_deliver()
    assert portal.render(Context({"request": request})) == "1"
    with CaptureQueriesContext(connection) as queries:
        assert portal.render(Context({"request": request})) == "1"
    assert len(queries) == 0
