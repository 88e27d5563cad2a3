"""A ticket about a case links it by number (and its service), an unknown number is a field error."""

import pytest
from django.core.exceptions import ValidationError

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
