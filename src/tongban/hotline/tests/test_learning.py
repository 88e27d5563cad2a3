"""Learning from corrections, measured, and retrains that are activated only when at least as good."""

import io

import pytest

from tongban.bench.hotline import bench_learning
from tongban.hotline import routing
from tongban.hotline.corpus import corpus_load
from tongban.hotline.knowledge import knowledge_rows


@pytest.fixture(scope="module")
def small_rows():
    return corpus_load(split="train")[::6] + knowledge_rows()


def test_a_retrain_worse_on_the_check_is_kept_inactive_and_the_admin_says_so(
    monkeypatch, tmp_path, settings, small_rows
):
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(routing, "training_rows", lambda: small_rows)
    first = routing.model_current()
    assert first.version == 1 and first.manifest["active"] is True
    # Dispatchers who send every validation call to the tax office: the retrain routes the check worse.
    wrong = [{"text": row["text"], "department": "tax"} for row in routing.validation_rows()]
    second = routing.model_retrain(corrections_source=lambda: wrong)
    assert second.version == 2 and second.manifest["active"] is False
    assert second.manifest["compared_with"]["version"] == 1
    assert second.manifest["check_accuracy"] < second.manifest["compared_with"]["check_accuracy"]
    assert routing.model_current().version == 1  # the model in use stays
    from django.utils import translation

    from tongban.hotline.admin import routing_versions_summary

    with translation.override("en"):
        lines = [line["text"] for line in routing_versions_summary()]
    assert lines[0].startswith("Routing model v2 kept inactive") and "below v1" in lines[0]
    assert lines[1].startswith("Routing model v1 (in use)")
    # A retrain at least as good is activated and used.
    third = routing.model_retrain(corrections_source=routing.no_corrections)
    assert third.manifest["active"] is True and routing.model_current().version == 3


def test_the_learning_benchmark_replays_corrections_and_measures_on_the_other_part(small_rows):
    out = io.StringIO()
    result = bench_learning(stdout=out, steps=[0, 40], train_rows=small_rows)
    assert [step["corrections"] for step in result["learning"]] == [0, 40]
    assert result["measured_size"] + result["replay_pool"] >= 1200
    for step in result["learning"]:
        assert 0 <= step["top1"] <= step["top3"] <= 1 and isinstance(step["activated"], bool)
    assert result["learning"][0]["activated"] is True
    assert "40 corrections: top-1" in out.getvalue()
