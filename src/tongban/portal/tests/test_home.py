"""The signed-in home: what the citizen must do now first, then their cases, licences and messages; the public
home says what the platform does today (nothing shipped is "coming soon")."""

import pytest

from tongban.identity.models import Person, User


@pytest.fixture
def city(demo_city, db):
    return demo_city


def test_the_public_home_promises_nothing_that_is_already_shipped(city, client):
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert "Coming next" not in html and "coming soon" not in html.lower()
    assert "Online requests and tracking of hotline tickets" in html
    assert "To do" not in html  # no personal home for the anonymous visitor


def _newborn_case(user, baby):
    from tongban.cases import services
    from tongban.catalog.selectors import bundle_get
    from tongban.demo.catalog import NEWBORN_BUNDLE
    from tongban.demo.sample import sample_form_data
    from tongban.identity.selectors import actor_for

    father = Person.objects.get(user=user)
    bundle = bundle_get(NEWBORN_BUNDLE)
    form = sample_form_data(bundle.form_schema, person=father)
    form.update(
        {
            "baby_name": baby,
            "father_resident_id": father.resident_id,
            "mother_resident_id": Person.objects.get(user__username="chen.jing").resident_id,
            "parents_married": True,
        }
    )
    form.pop("parents_relation", None)
    return services.case_submit(actor=actor_for(user), service=bundle, form_data=form, files={})


def test_a_citizen_home_lists_to_dos_first_then_cases_licences_and_messages(city, client):
    from tongban.cases import services
    from tongban.identity.selectors import actor_for
    from tongban.workflow.models import Task

    user = User.objects.get(username="li.ming")
    running = _newborn_case(user, "李乐乐")
    waiting = _newborn_case(user, "李安安")
    task = Task.objects.filter(case_id=waiting.pk, state__in=Task.OPEN_STATES).first()
    services.case_supplement_request(
        actor=actor_for(User.objects.get(username="handler.health")),
        task_id=task.pk,
        fields=[{"field": "birth_hospital", "reason": "与出生医学记录不一致"}],
    )
    client.force_login(user)
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    positions = [
        html.index(h) for h in ("To do", "Cases in progress", "Recent licences", "Messages", "My data")
    ]
    assert positions == sorted(positions)
    todo = html[positions[0] : positions[1]]
    assert f"/cases/{waiting.number}/supplement/" in todo and "time limit is paused" in todo
    # The deadline to answer: ten working days after the request, on the home and on the case's own pages.
    from tongban.core import calendar

    request = waiting.supplements.get()
    due = calendar.add_working_days(calendar.as_local_date(request.created_at), 10)
    assert request.due_on == due and f"Answer by {due:%Y-%m-%d}." in todo
    for page in (f"/cases/{waiting.number}/", f"/cases/{waiting.number}/supplement/"):
        assert f"Please answer by {due:%Y-%m-%d}." in client.get(page).content.decode(), page
    in_progress = html[positions[1] : positions[2]]
    assert running.number in in_progress and "Due by" in in_progress and "Next:" in in_progress


def test_an_enterprise_agent_gets_a_home_too(city, client):
    client.force_login(User.objects.get(username="zhang.wei"))
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert "To do" in html and "Cases in progress" in html


def test_the_enterprise_offer_opens_its_prefilled_form_not_a_search(city, client):
    """The business register's new enterprise gets the social-insurance account offer: the message's button opens
    the offer's form, filled in from the business register, and one confirmation submits the case."""
    from tongban.cases.models import Case
    from tongban.messaging.models import Message
    from tongban.proactive.models import Offer

    agent = User.objects.get(username="zhang.wei")
    message = Message.objects.get(template_code="enterprise-social-insurance")
    offer = Offer.objects.get(message_id=message.pk)
    organisation = offer.organisation
    assert message.link == f"/offers/{offer.pk}/" and "/services/" not in message.link
    assert offer.service == "employer-social-insurance-registration"

    client.force_login(agent)
    client.cookies["django_language"] = "en"
    html = client.get(message.link).content.decode()
    assert organisation.name in html and organisation.credit_code in html  # filled in for the agent
    assert "Confirm and submit" in html
    answers = {  # what the business register does not hold: the agent types it on the offer's page
        "business_address": "上海市浦东新区张江路88号",
        "applicant_phone": "13812345678",
        "bank_name": "中国工商银行",
        "bank_account": "6222021001122334455",
    }
    response = client.post(f"/offers/{offer.pk}/accept/", answers)
    assert response.status_code == 302
    case = Case.objects.get(pk=Offer.objects.get(pk=offer.pk).case_id)
    assert case.applicant_organisation == organisation
    assert case.form_data["credit_code"] == organisation.credit_code
