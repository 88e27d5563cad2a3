"""The rating page and the rating API."""

import pytest
from django.test import Client
from django.urls import reverse

from tongban.evaluation import services
from tongban.evaluation.models import Rating
from tongban.identity.selectors import actor_for
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.supervision.models import Rectification
from tongban.supervision.tests.fixtures import submit

GOOD_SCORES = {"efficiency": 5, "guide_accuracy": 4, "convenience": 5, "ease_of_use": 4}


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def _form(level, comment="", **scores):
    data = {"level": str(level), "comment": comment}
    data.update({f"score_{key}": str(value) for key, value in {**GOOD_SCORES, **scores}.items()})
    return data


def test_the_applicant_rates_a_completed_case_on_the_page(client, parent, completed_case):
    client.force_login(parent)
    client.cookies["django_language"] = "en"
    url = reverse("evaluation:rate", args=[completed_case.number])
    html = client.get(url).content.decode()
    assert html.count('type="radio" name="level"') == 5
    for key in GOOD_SCORES:
        assert f'name="score_{key}"' in html
    response = client.post(url, _form(5, "很方便"))
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluation:thanks", args=[completed_case.number])
    assert Rating.objects.get().level == 5
    assert "Thank you" in client.get(response["Location"]).content.decode()
    again = client.get(url)
    assert again.status_code == 200 and "You have rated this case" in again.content.decode()


def test_a_bad_rating_without_a_reason_shows_the_error_and_with_one_opens_a_rectification(
    client, parent, completed_case
):
    client.force_login(parent)
    client.cookies["django_language"] = "en"
    url = reverse("evaluation:rate", args=[completed_case.number])
    response = client.post(url, _form(1))
    assert response.status_code == 200
    assert "comment-errors" in response.content.decode()
    assert not Rating.objects.exists()
    response = client.post(url, _form(1, "材料被要求提交了两次"))
    assert response.status_code == 302
    assert Rectification.objects.get().department.code == "health"
    assert "put it right within 5 working days" in client.get(response["Location"]).content.decode()


def test_the_page_refuses_a_case_in_progress_another_citizen_and_staff(
    client, parent, newborn, handlers, citizen
):
    case = submit(parent, newborn)
    url = reverse("evaluation:rate", args=[case.number])
    client.force_login(parent)
    assert client.get(url).status_code == 403  # not completed yet
    client.logout()
    client.force_login(citizen)
    assert client.get(url).status_code == 404
    client.logout()
    login_with_second_factor(client, handlers["health"])
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def _api(number):
    return reverse("api:evaluation-api:case-rating", args=[number])


def test_rating_through_the_api(client, parent, completed_case, citizen):
    client.force_login(parent)
    url = _api(completed_case.number)
    assert client.get(url).status_code == 404  # not rated yet
    bad = client.post(url, {"level": 2, "scores": GOOD_SCORES}, content_type="application/json")
    assert bad.status_code == 400 and "comment" in bad.json()["errors"]
    response = client.post(
        url, {"level": 4, "scores": GOOD_SCORES, "comment": "不错"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["level"] == 4 and response.json()["department"] == "health"
    again = client.post(url, {"level": 5, "scores": GOOD_SCORES}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    assert client.get(url).json()["comment"] == "不错"
    client.logout()
    client.force_login(citizen)
    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"level": 5, "scores": GOOD_SCORES}, content_type="application/json").status_code
        == 404
    )


def test_evaluators_read_a_rating_and_the_summary(
    client, parent, completed_case, supervisor, hrss_head, handlers
):
    services.rating_submit(actor=actor_for(parent), case=completed_case, level=3, scores=GOOD_SCORES)
    summary_url = reverse("api:evaluation-api:rating-summary")
    login_with_second_factor(client, supervisor)
    assert client.get(_api(completed_case.number)).json()["level"] == 3
    body = client.get(summary_url).json()
    assert body["count"] == 1 and body["average"] == 3.0
    assert body["departments"][0]["department"] == "health"
    assert body["departments"][0]["distribution"]["3"] == 1
    client.logout()
    login_with_second_factor(client, hrss_head)
    assert client.get(summary_url).json()["count"] == 0
    client.logout()
    login_with_second_factor(client, handlers["health"])
    assert client.get(summary_url).status_code == 403
    assert client.get(_api(completed_case.number)).status_code == 403  # sees the case, not the rating
    client.logout()
    client.force_login(parent)
    assert client.get(summary_url).status_code == 403
