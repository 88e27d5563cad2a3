"""An Idempotency-Key makes one case: replays answer 200 with it, a different body with the same key is a 409,
and two requests racing with one key never make two cases."""

import base64
import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from tongban.cases import services
from tongban.cases.models import Case, CaseMaterial
from tongban.core.exceptions import Conflict
from tongban.identity.selectors import actor_for, person_for
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.tests.fixtures import newborn_files, newborn_form

pytestmark = pytest.mark.django_db

URL = "api:cases-api:case-list"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _client(user):
    client = APIClient(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def _json_body(form=None, content=b"%PDF-1.4\n% marriage\n"):
    return {
        "service_type": "bundle",
        "service_code": "newborn",
        "form_data": form or newborn_form(),
        "materials": {
            "parents-marriage-certificate": {
                "filename": "marriage.pdf",
                "content_type": "application/pdf",
                "content": base64.b64encode(content).decode(),
            }
        },
    }


def _post(client, body, key):
    return client.post(reverse(URL), body, format="json", headers={"Idempotency-Key": key})


# --- the API ---------------------------------------------------------------------------------------------------


def test_a_replay_with_the_same_key_and_body_answers_200_with_the_same_case(parent, newborn, handlers):
    client = _client(parent)
    first = _post(client, _json_body(), "apply-0001")
    again = _post(client, _json_body(), "apply-0001")
    assert (first.status_code, again.status_code) == (201, 200), again.json()
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1
    assert CaseMaterial.objects.count() == 1


def test_the_same_key_with_a_different_form_is_a_409_naming_the_key(parent, newborn, handlers):
    client = _client(parent)
    first = _post(client, _json_body(), "apply-0002")
    other = _post(client, _json_body(form=newborn_form(baby_name="李小红")), "apply-0002")
    body = other.json()
    assert other.status_code == 409, body
    assert body["code"] == "idempotency_key_reused"
    assert "apply-0002" in body["detail"]
    assert first.json()["number"] in body["detail"]
    assert set(body) == {"status", "code", "detail", "errors"}
    assert Case.objects.count() == 1


def test_the_same_key_with_a_different_material_file_is_a_409(parent, newborn, handlers):
    client = _client(parent)
    assert _post(client, _json_body(), "apply-0003").status_code == 201
    other = _post(client, _json_body(content=b"%PDF-1.4\n% another scan\n"), "apply-0003")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1 and CaseMaterial.objects.count() == 1


def test_a_key_longer_than_64_characters_is_a_400_and_makes_no_case(parent, newborn, handlers):
    response = _post(_client(parent), _json_body(), "k" * 65)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert Case.objects.count() == 0


def test_multipart_and_json_with_the_same_content_replay_each_other(parent, newborn, handlers):
    """The fingerprint is of what is submitted, not of how it was encoded."""
    client = _client(parent)
    assert _post(client, _json_body(), "apply-0004").status_code == 201
    multipart = {
        "service_type": "bundle",
        "service_code": "newborn",
        "form_data": json.dumps(newborn_form()),
        "material.parents-marriage-certificate": SimpleUploadedFile(
            "scan.pdf", b"%PDF-1.4\n% marriage\n", content_type="application/pdf"
        ),
    }
    replay = client.post(
        reverse(URL), multipart, format="multipart", headers={"Idempotency-Key": "apply-0004"}
    )
    assert replay.status_code == 200, replay.json()
    assert Case.objects.count() == 1


def test_a_window_clerk_reusing_a_key_for_another_applicant_gets_409(parent, citizen, newborn, handlers):
    from tongban.cases.tests.test_api import _staff

    clerk = _staff("w.clerk", "big-data-center", ["window_clerk"])
    client = login_with_second_factor(APIClient(headers={"accept-language": "en"}), clerk)
    data = {
        "service_type": "bundle",
        "service_code": "newborn",
        "form_data": newborn_form(),
        "window_checked": ["parents-marriage-certificate"],
    }
    url = reverse("api:cases-api:window-case-submit")
    mother = person_for(parent).resident_id
    first = client.post(
        url, {**data, "applicant_resident_id": mother}, format="json", headers={"Idempotency-Key": "w-9"}
    )
    assert first.status_code == 201, first.json()
    again = client.post(
        url, {**data, "applicant_resident_id": mother}, format="json", headers={"Idempotency-Key": "w-9"}
    )
    assert again.status_code == 200
    other = client.post(
        url,
        {**data, "applicant_resident_id": person_for(citizen).resident_id},
        format="json",
        headers={"Idempotency-Key": "w-9"},
    )
    assert other.status_code == 409
    assert "w-9" in other.json()["detail"]
    assert Case.objects.count() == 1


# --- the service: a deterministic race -----------------------------------------------------------------------


def _race(monkeypatch, *, user, service, winner_form, loser_form):
    """Submit as the loser of a race: it misses the key at its first look, then the winner commits a case with
    the key before the loser inserts (what two concurrent requests do). Returns (winner's case, loser's)."""
    real = services.workflow.definition_latest
    winner = []

    def definition_latest_after_the_winner(key):
        if not winner:
            winner.append(None)  # the winner's own call passes straight through
            winner[0] = services.case_submit(
                actor=actor_for(user),
                service=service,
                form_data=winner_form,
                files=newborn_files(),
                idempotency_key="k-1",
            )
        return real(key)

    monkeypatch.setattr(services.workflow, "definition_latest", definition_latest_after_the_winner)
    loser = services.case_submit(
        actor=actor_for(user),
        service=service,
        form_data=loser_form,
        files=newborn_files(),
        idempotency_key="k-1",
    )
    return winner[0], loser


def test_the_loser_of_a_race_on_one_key_returns_the_winners_case_as_a_replay(
    monkeypatch, parent, newborn, handlers, media
):
    winner, loser = _race(
        monkeypatch, user=parent, service=newborn, winner_form=newborn_form(), loser_form=newborn_form()
    )
    assert loser.pk == winner.pk
    assert getattr(loser, "replayed", False) is True
    assert getattr(winner, "replayed", False) is False
    assert Case.objects.count() == 1
    assert CaseMaterial.objects.count() == 1
    assert len(list((media / "cases").rglob("*.pdf"))) == 1  # the loser left no file behind


def test_the_loser_of_a_race_with_a_different_body_gets_a_conflict(monkeypatch, parent, newborn, handlers):
    with pytest.raises(Conflict) as caught:
        _race(
            monkeypatch,
            user=parent,
            service=newborn,
            winner_form=newborn_form(),
            loser_form=newborn_form(baby_name="李小红"),
        )
    assert caught.value.code == "idempotency_key_reused"
    assert Case.objects.count() == 1


# --- real threads on PostgreSQL ----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_case_201_and_200_for_the_rest(parent, newborn, handlers):
    requests = 6
    clients = [_client(parent) for _ in range(requests)]
    start = threading.Barrier(requests)
    answers = [None] * requests

    def apply(index):
        try:
            start.wait(timeout=30)
            answers[index] = _post(clients[index], _json_body(), "raced-over-http")
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * (requests - 1) + [201], [a.content[:300] for a in answers]
    assert len({answer.json()["number"] for answer in answers}) == 1
    assert Case.objects.filter(idempotency_key="raced-over-http").count() == 1
    assert CaseMaterial.objects.count() == 1
