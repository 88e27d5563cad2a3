"""``tongban bench hotline`` runs end to end (classification, accuracy, intake through the API) and refuses a
database that holds real tickets."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tongban.hotline import routing
from tongban.hotline.corpus import corpus_load
from tongban.hotline.models import Ticket
from tongban.identity.selectors import actor_for


@pytest.fixture
def small_model(monkeypatch):
    model = routing.train(corpus_load(split="train")[:600])
    model.manifest["version"] = 1
    monkeypatch.setattr(routing, "model_current", lambda **kwargs: model)
    monkeypatch.setattr("tongban.bench.hotline.model_current", lambda **kwargs: model)
    return model


def test_the_benchmark_takes_tickets_through_the_api(transactional_db, city, small_model, capsys):
    call_command(
        "bench",
        "hotline",
        "--tickets",
        "50",
        "--rounds",
        "1",
        "--intake",
        "6",
        "--workers",
        "1",
        stdout=io.StringIO(),
    )
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["bench"] == "hotline" and figures["batch"] == 50
    assert figures["intake_created"] == figures["intake_stored"] == 6 and figures["intake_failed"] == 0
    assert figures["intake_per_s"] > 0 and 0 < figures["heldout_accuracy"] <= 1
    assert Ticket.objects.filter(taken_by__username="bench.operator.0").count() == 6


def test_the_benchmark_refuses_a_database_with_real_tickets(transactional_db, city, small_model):
    from django.contrib.auth.models import AnonymousUser

    from tongban.hotline.services import ticket_create

    ticket_create(
        actor=actor_for(AnonymousUser()),
        channel="web",
        ticket_type="suggestion",
        text="建议在南京东路增加垃圾桶",
    )
    with pytest.raises(CommandError, match="scratch database"):
        call_command(
            "bench", "hotline", "--tickets", "10", "--rounds", "1", "--intake", "2", stdout=io.StringIO()
        )
    assert Ticket.objects.count() == 1
