"""Offers: accept with one confirmation (a case with the prefilled data), decline, grants; pages and API."""

import datetime

import pytest
from django.urls import reverse

from tongban.cases.models import Case
from tongban.core.audit import SYSTEM
from tongban.core.events import event_deliver
from tongban.core.models import AuditEntry
from tongban.exchange.registry_services import birth_record_create
from tongban.identity.models import Person
from tongban.identity.selectors import actor_for
from tongban.proactive.models import LifeEvent, Offer
from tongban.proactive.services import milestones_sweep, offer_accept, offer_decline
from tongban.proactive.tests.fixtures import SCHOOL_ITEM, person, rule

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 8)


@pytest.fixture
def offer(parent, school_item, messaging_templates):
    """An offer of the test item to 陈静 after her baby's birth: name and birth date filled in, address not."""
    rule(
        "school",
        trigger="birth_registered",
        action="offer",
        topic="education",
        template="kindergarten-offer",
        service=SCHOOL_ITEM,
    )
    birth_record_create(
        actor=SYSTEM,
        baby_name="李小明",
        baby_sex="M",
        birth_date=datetime.date(2026, 1, 10),
        weight_g=3300,
        hospital="上海市第一妇婴保健院",
        mother=Person.objects.get(user=parent),
    )
    event_deliver()
    return Offer.objects.get()


def test_accepting_an_offer_submits_a_case_with_the_prefilled_data(offer, parent):
    assert offer.prefilled == {"baby_name": "李小明", "birth_date": "2026-01-10"}

    accepted = offer_accept(
        actor=actor_for(parent), offer=offer, form_data={"residence_address": "黄浦区福州路1号"}
    )

    case = Case.objects.get(pk=accepted.case_id)
    assert accepted.status == "accepted" and accepted.decided_at is not None
    assert case.form_data == {
        "baby_name": "李小明",
        "birth_date": "2026-01-10",
        "residence_address": "黄浦区福州路1号",
    }
    assert case.applicant_person == offer.person
    assert AuditEntry.objects.filter(action="proactive.offer.accepted", subject_id=str(offer.pk)).exists()
    # Confirming twice makes one case.
    assert offer_accept(actor=actor_for(parent), offer=Offer.objects.get(pk=offer.pk)).case_id == case.pk
    assert Case.objects.count() == 1


def test_another_user_cannot_accept_or_decline(offer, citizen):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        offer_accept(actor=actor_for(citizen), offer=offer)
    with pytest.raises(PermissionDenied):
        offer_decline(actor=actor_for(citizen), offer=offer)


def test_the_offer_page_shows_the_prefilled_form_and_confirms_in_one_step(client, offer, parent):
    client.force_login(parent)
    listing = client.get(reverse("proactive:list"))
    assert listing.status_code == 200
    assert "幼儿园入园登记（测试）" in listing.content.decode()

    page = client.get(offer.get_absolute_url())
    body = page.content.decode()
    assert page.status_code == 200
    assert "李小明" in body and "2026-01-10" in body
    assert 'name="residence_address"' in body

    refused = client.post(reverse("proactive:offer-accept", args=[offer.pk]), {"residence_address": ""})
    assert refused.status_code == 400
    assert Offer.objects.get(pk=offer.pk).status == "offered"

    done = client.post(
        reverse("proactive:offer-accept", args=[offer.pk]), {"residence_address": "黄浦区福州路1号"}
    )
    case = Case.objects.get()
    assert done.status_code == 302 and done.url == reverse("cases:detail", args=[case.number])
    assert Offer.objects.get(pk=offer.pk).case_id == case.pk


def test_declining_on_the_page_is_recorded(client, offer, parent):
    client.force_login(parent)
    response = client.post(reverse("proactive:offer-decline", args=[offer.pk]), {"reason": "已自行办理"})
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.status, offer.reason) == ("declined", "已自行办理")
    assert AuditEntry.objects.filter(action="proactive.offer.declined", subject_id=str(offer.pk)).exists()
    assert not Case.objects.exists()


def test_declining_through_the_api_is_recorded_with_the_applicant_as_actor(client, offer, parent):
    client.force_login(parent)
    url = reverse("api:proactive-api:offer-decline", args=[offer.pk])
    response = client.post(url, {"reason": "已自行办理"}, content_type="application/json")
    assert response.status_code == 200, response.content
    offer.refresh_from_db()
    assert offer.status == "declined"
    entry = AuditEntry.objects.get(action="proactive.offer.declined", subject_id=str(offer.pk))
    assert (entry.actor_kind, entry.actor_label) == ("citizen", parent.get_username())


def test_someone_elses_offer_is_not_found(client, offer, citizen):
    client.force_login(citizen)
    assert client.get(offer.get_absolute_url()).status_code == 404
    assert client.post(reverse("proactive:offer-accept", args=[offer.pk])).status_code == 404
    assert client.get(reverse("proactive:list")).status_code == 200


def test_a_grant_is_made_without_application_and_may_be_declined(city, school_item, messaging_templates):
    from tongban.identity import services as identity
    from tongban.messaging.models import Message

    rule("allowance", action="grant", service=SCHOOL_ITEM, once_per_subject=True)
    user = identity.user_create(
        actor=SYSTEM, username="wang.xiuying", password="x-pass-2026", check_password=False
    )
    elder = person("王秀英", datetime.date(1961, 3, 8), user=user)

    milestones_sweep(today=TODAY)
    milestones_sweep(today=TODAY.replace(year=2027))  # once per recipient: no second grant

    grant = Offer.objects.get()
    assert (grant.person, grant.status) == (elder, "granted")
    message = Message.objects.get(pk=grant.message_id)
    assert "75" in message.body
    declined = offer_decline(actor=actor_for(user), offer=grant, reason="不需要")
    assert declined.status == "declined"


def test_the_api_lists_my_offers_and_accepts_and_declines(client, offer, parent, citizen):
    client.force_login(parent)
    listing = client.get("/api/v1/offers/")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [str(offer.pk)]

    accepted = client.post(
        f"/api/v1/offers/{offer.pk}/accept/",
        {"form_data": {"residence_address": "黄浦区福州路1号"}},
        content_type="application/json",
    )
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["case_number"] == Case.objects.get().number

    declined = client.post(f"/api/v1/offers/{offer.pk}/decline/", {}, content_type="application/json")
    assert declined.status_code == 409

    client.force_login(citizen)
    assert client.get("/api/v1/offers/").json()["results"] == []
    assert (
        client.post(f"/api/v1/offers/{offer.pk}/decline/", {}, content_type="application/json").status_code
        == 404
    )


def test_the_api_refuses_a_missing_field_with_400(client, offer, parent):
    client.force_login(parent)
    response = client.post(f"/api/v1/offers/{offer.pk}/accept/", {}, content_type="application/json")
    assert response.status_code == 400
    assert "residence_address" in response.content.decode()
    assert LifeEvent.objects.count() == 1


@pytest.mark.parametrize("value", ["²", "x"])
def test_a_number_field_that_is_not_a_decimal_is_a_field_error(client, offer, school_item, parent, value):
    school_item.form_schema["properties"]["siblings"] = {"type": "integer", "title": "兄弟姐妹人数"}
    school_item.form_schema["required"] = [*school_item.form_schema.get("required", []), "siblings"]
    school_item.save(update_fields=["form_schema"])
    client.force_login(parent)
    response = client.post(
        reverse("proactive:offer-accept", args=[offer.pk]),
        {"residence_address": "黄浦区福州路1号", "siblings": value},
    )
    assert response.status_code == 400
    assert Offer.objects.get(pk=offer.pk).status == "offered"


def test_an_offer_that_expired_meanwhile_is_refused_and_no_case_is_made(offer, parent, client):
    from tongban.core.exceptions import Conflict

    seen = Offer.objects.get(pk=offer.pk)  # what the page showed
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.EXPIRED)
    with pytest.raises(Conflict):
        offer_accept(actor=actor_for(parent), offer=seen, form_data={"residence_address": "黄浦区福州路1号"})
    assert not Case.objects.exists()
    client.force_login(parent)
    response = client.post(
        reverse("proactive:offer-accept", args=[offer.pk]), {"residence_address": "黄浦区福州路1号"}
    )
    assert response.status_code == 302 and not Case.objects.exists()
