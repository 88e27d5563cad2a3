"""The hand-written evaluation set: its shape, that nothing in it is (near) a training text, that training never
reads it, and the ``tongban hotline evaluate`` command."""

import builtins
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from tongban.hotline import routing
from tongban.hotline.corpus import DEPARTMENT_CODES, TOPICS, corpus_load
from tongban.hotline.evaluation import EVALUATION_PATH, HANDWRITTEN_PATH, evaluation_load, measure

NEAR_DUPLICATE = 0.5  # Jaccard similarity of character trigram sets


def test_the_evaluation_set_has_1200_calls_and_50_per_department_with_known_topics():
    rows = evaluation_load()
    assert len(rows) >= 1200
    by_department = Counter(row["department"] for row in rows)
    assert set(by_department) == set(DEPARTMENT_CODES)
    assert min(by_department.values()) >= 50
    for row in rows:
        assert TOPICS[row["topic"]][0] == row["department"], row["id"]
    assert len({row["text"] for row in rows}) == len(rows)
    assert len({row["id"] for row in rows}) == len(rows)


def test_the_learning_parts_are_disjoint_and_the_measured_part_is_about_a_fifth():
    measured = evaluation_load(part="measure")
    replayed = evaluation_load(part="corrections")
    assert not {row["id"] for row in measured} & {row["id"] for row in replayed}
    assert len(measured) + len(replayed) == len(evaluation_load())
    assert 0.15 < len(measured) / len(evaluation_load()) < 0.25
    assert len(replayed) >= 1000  # the learning benchmark replays up to 1,000 corrections


def _trigrams(text):
    text = "".join(ch for ch in text if ch.isalnum())
    return {text[i : i + 3] for i in range(len(text) - 2)}


def test_the_spoken_training_calls_cover_every_department_and_are_training_rows():
    spoken = routing.spoken_rows()
    assert len(spoken) >= 1000
    by_department = Counter(row["department"] for row in spoken)
    assert set(by_department) == set(DEPARTMENT_CODES) and min(by_department.values()) >= 60
    for row in spoken:
        assert TOPICS[row["topic"]][0] == row["department"], row["text"]
        assert row["weight"] == routing.SPOKEN_WEIGHT
    assert len({row["text"] for row in spoken}) == len(spoken)
    training = {row["text"] for row in routing.training_rows()}
    assert {row["text"] for row in spoken} <= training


def test_no_evaluation_text_is_a_training_text_or_a_near_duplicate_of_one():
    """Held out: the evaluation set, the old hand-written set and the validation split; training: the corpus's
    train split, the hand-written spoken calls, the knowledge and the catalogue."""
    from scipy.sparse import csr_matrix

    training = [row["text"] for row in routing.training_rows()]
    held = (
        [row["text"] for row in evaluation_load()]
        + [json.loads(line)["text"] for line in HANDWRITTEN_PATH.read_text(encoding="utf-8").splitlines()]
        + [row["text"] for row in routing.validation_rows()]
    )
    assert not set(held) & set(training)
    vocabulary = {}

    def matrix(texts):
        indptr, indices = [0], []
        for text in texts:
            grams = _trigrams(text)
            indices.extend(vocabulary.setdefault(g, len(vocabulary)) for g in grams)
            indptr.append(len(indices))
        return indptr, indices

    a_ptr, a_idx = matrix(held)
    b_ptr, b_idx = matrix(training)
    shape = (None, len(vocabulary))
    a = csr_matrix(([1] * len(a_idx), a_idx, a_ptr), shape=(len(held), shape[1]))
    b = csr_matrix(([1] * len(b_idx), b_idx, b_ptr), shape=(len(training), shape[1]))
    overlap = (a @ b.T).toarray()
    sizes_a = a.sum(axis=1).A1[:, None]
    sizes_b = b.sum(axis=1).A1[None, :]
    jaccard = overlap / (sizes_a + sizes_b - overlap).clip(min=1)
    worst = jaccard.max(axis=1)
    near = [(held[i], float(worst[i])) for i in range(len(held)) if worst[i] >= NEAR_DUPLICATE]
    assert near == []


def test_training_never_reads_the_evaluation_files(monkeypatch, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    guarded = {EVALUATION_PATH.resolve(), HANDWRITTEN_PATH.resolve()}
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, (str, Path)) and Path(file).resolve() in guarded:
            raise AssertionError(f"training read {file}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    small = corpus_load(split="train")[::8]
    monkeypatch.setattr(routing, "corpus_load", lambda split=None: small)
    model = routing.model_retrain(corrections_source=routing.no_corrections)
    assert model.version == 1


def test_measure_reports_top3_topics_the_matrix_and_auto_dispatch():
    class Stub:
        departments = ["tax", "hrss", "water"]

    rows = [
        {"text": "a", "department": "tax", "topic": "tax"},
        {"text": "b", "department": "hrss", "topic": "wages-labour"},
        {"text": "c", "department": "water", "topic": "water-supply"},
        {"text": "d", "department": "tax", "topic": "tax"},
    ]
    P = routing.Prediction
    predictions = [
        P("tax", 0.9, [("tax", 0.9), ("hrss", 0.05), ("water", 0.05)], "tax"),
        P("tax", 0.8, [("tax", 0.8), ("hrss", 0.15), ("water", 0.05)], "tax"),
        P("hrss", 0.4, [("hrss", 0.4), ("tax", 0.35), ("water", 0.25)], "water-supply"),
        P("tax", 0.5, [("tax", 0.5), ("hrss", 0.3), ("water", 0.2)], "tax"),
    ]
    report = measure(Stub(), rows, threshold=0.7, predictions=predictions)
    assert (report["top1"], report["top3"], report["topic_accuracy"]) == (0.5, 1.0, 0.75)
    assert (report["auto_dispatch_coverage"], report["auto_dispatch_precision"]) == (0.5, 0.5)
    labels = report["labels"]
    assert report["confusion_matrix"][labels.index("hrss")][labels.index("tax")] == 1
    assert report["per_department"]["tax"] == {
        "support": 2,
        "recall": 1.0,
        "precision": 0.6667,
        "top3_recall": 1.0,
    }


@pytest.fixture
def small_model(monkeypatch):
    model = routing.train(corpus_load(split="train")[::4])
    model.manifest["version"] = 7
    monkeypatch.setattr(routing, "model_current", lambda **kwargs: model)
    monkeypatch.setattr("tongban.hotline.management.commands.hotline.model_current", lambda **kwargs: model)
    return model


def test_the_evaluate_command_prints_the_figures_and_a_json_last_line(small_model, capsys, settings):
    settings.TONGBAN_HOTLINE_AUTO_DISPATCH = 0.5
    call_command("hotline", "evaluate", "--set", "handwritten")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("model v7 on the handwritten set")
    result = json.loads(lines[-1])
    assert result["set"] == "handwritten" and result["total"] == 34 and result["threshold"] == 0.5
    assert 0 <= result["top1"] <= result["top3"] <= 1
    assert len(result["confusion_matrix"]) == len(result["labels"]) == 17
    assert sum(map(sum, result["confusion_matrix"])) == 34
