"""A ticket about a case links it by number (and its service), an unknown number is a field error."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from tongban.cases import services as cases
from tongban.hotline import services
from tongban.hotline.models import Ticket
from tongban.hotline.tests.test_loop_more import people, routing  # noqa: F401
from tongban.identity.selectors import actor_for
from tongban.workflow.tests.fixtures import newborn_files, newborn_form


def test_a_complaint_about_a_case_links_it(routing, people, parent, newborn, handlers):  # noqa: F811
    case = cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    ticket = services.ticket_create(
        actor=actor_for(people["operator"]),
        channel="phone",
        ticket_type="complaint",
        text="出生一件事提交三天了还没有人处理",
        district_code="310101",
        case_number=f" {case.number} ",
    )
    assert ticket.case_number == case.number and ticket.service_code == newborn.code
    with pytest.raises(ValidationError) as error:
        services.ticket_create(
            actor=actor_for(people["operator"]),
            channel="phone",
            ticket_type="complaint",
            text="我的办件一直没有结果",
            case_number="NO-SUCH-CASE",
        )
    assert list(error.value.message_dict) == ["case_number"]
    assert Ticket.objects.count() == 1


def _citizen_ticket(client, case_number):
    return client.post(
        "/api/v1/my/tickets/",
        {
            "channel": "app",
            "ticket_type": "complaint",
            "text": "我的办件一直没有结果",
            "case_number": case_number,
        },
        format="json",
    )


def test_a_citizen_links_only_their_own_case_and_learns_nothing_of_others(
    routing,  # noqa: F811
    parent,
    citizen,
    newborn,
    handlers,
):
    """Someone else's case number and a number no case has get the same field error, naming no service."""
    case = cases.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    owner = APIClient(headers={"accept-language": "en"})
    owner.force_login(parent)
    response = _citizen_ticket(owner, case.number)
    assert response.status_code == 201, response.content
    assert response.json()["case_number"] == case.number

    stranger = APIClient(headers={"accept-language": "en"})
    stranger.force_login(citizen)
    others = _citizen_ticket(stranger, case.number)
    unknown = _citizen_ticket(stranger, "TB" + "9" * 14)
    assert others.status_code == unknown.status_code == 400
    message = others.json()["errors"]["case_number"][0]
    assert message == unknown.json()["errors"]["case_number"][0].replace("TB" + "9" * 14, case.number)
    assert newborn.code not in others.content.decode()
    assert Ticket.objects.count() == 1
