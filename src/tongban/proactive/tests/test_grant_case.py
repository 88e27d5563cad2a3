"""免申即享: a benefit granted without application is a real completed case, which the person may decline."""

import pytest

from tongban.cases.models import Case
from tongban.conftest import demo_city_fixture
from tongban.identity.models import User
from tongban.identity.selectors import actor_for
from tongban.proactive.models import Offer
from tongban.proactive.services import offer_decline

demo_city = demo_city_fixture(people=60, organisations=4)


@pytest.fixture(autouse=True)
def proactive_reads_granted():
    """The demo seed signs the data hub's grants itself (this module's city is the demo's, not the test city)."""


@pytest.fixture
def demo(demo_city, db):
    return demo_city


def test_the_elderly_allowance_is_a_completed_case_in_her_cases(demo):
    offer = Offer.objects.get(person__user__username="wang.xiuying", status=Offer.Status.GRANTED)
    case = Case.objects.get(pk=offer.case_id)
    assert (case.status, case.channel) == (Case.Status.COMPLETED, Case.Channel.PROACTIVE)
    assert case.applicant_person.user.username == "wang.xiuying"
    assert case.timeline.filter(kind="granted").exists()
    assert case.result


def test_declining_the_grant_withdraws_its_case(demo):
    offer = Offer.objects.get(person__user__username="wang.xiuying", status=Offer.Status.GRANTED)
    offer_decline(
        actor=actor_for(User.objects.get(username="wang.xiuying")), offer=offer, reason="已在外地领取"
    )
    case = Case.objects.get(pk=offer.case_id)
    assert case.status == Case.Status.WITHDRAWN
    assert case.withdrawal_reason == "已在外地领取"


def test_her_granted_case_shows_on_her_pages_and_in_the_api(demo, client):
    offer = Offer.objects.get(person__user__username="wang.xiuying", status=Offer.Status.GRANTED)
    case = Case.objects.get(pk=offer.case_id)
    client.force_login(User.objects.get(username="wang.xiuying"))
    assert case.number in client.get("/cases/").content.decode()
    assert client.get(f"/cases/{case.number}/").status_code == 200
    assert client.get(f"/cases/{case.number}/receipt.pdf").status_code == 200
    assert client.get(f"/api/v1/cases/{case.number}/").status_code == 200
