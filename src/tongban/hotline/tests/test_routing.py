"""The routing classifier (派单): corpus, accuracy, versions, corrections and the classify command."""

import io
import json
from collections import Counter

import pytest
from django.core.management import call_command

from tongban.hotline import routing
from tongban.hotline.corpus import (
    CONFUSABLE_PAIRS,
    CORPUS_PATH,
    DEPARTMENT_CODES,
    TOPICS,
    corpus_generate,
    corpus_load,
)
from tongban.hotline.knowledge import knowledge_rows


@pytest.fixture(scope="module")
def model():
    return routing.train(corpus_load(split="train"))


@pytest.fixture
def model_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    return tmp_path / routing.MODEL_DIR_NAME


def test_the_committed_corpus_is_what_the_generator_makes():
    assert corpus_generate()[:50] == corpus_generate()[:50]
    assert corpus_load() == corpus_generate()
    assert CORPUS_PATH.read_text(encoding="utf-8").count("\n") == len(corpus_load())


def test_the_corpus_covers_every_department_and_each_confusable_topic():
    rows = corpus_load()
    by_department = Counter(row["department"] for row in rows)
    assert set(by_department) == set(DEPARTMENT_CODES)
    assert min(by_department.values()) >= 100
    by_topic = Counter(row["topic"] for row in rows)
    for topics in CONFUSABLE_PAIRS.values():
        departments = {TOPICS[topic][0] for topic in topics}
        assert len(departments) == len(topics)  # each side of a pair belongs to a different department
        for topic in topics:
            assert by_topic[topic] >= 100


def test_the_split_holds_out_about_a_fifth_by_id():
    rows = corpus_load()
    test = [row for row in rows if row["split"] == "test"]
    assert 0.15 < len(test) / len(rows) < 0.25
    assert {row["split"] for row in rows} == {"train", "test"}


def test_heldout_accuracy_is_at_least_090(model):
    report = routing.evaluate(model, corpus_load(split="test"))
    assert report["accuracy"] >= 0.9
    assert all(figures["recall"] >= 0.8 for figures in report["per_department"].values())


@pytest.mark.parametrize("group", sorted(CONFUSABLE_PAIRS))
def test_each_confusable_pair_is_routed_right_on_heldout_tickets(model, group):
    heldout = corpus_load(split="test")
    for topic in CONFUSABLE_PAIRS[group]:
        rows = [row for row in heldout if row["topic"] == topic]
        assert len(rows) >= 10
        assert routing.evaluate(model, rows)["accuracy"] >= 0.8, topic


def test_a_prediction_has_a_department_a_confidence_and_the_top_three(model):
    [prediction] = routing.predict(model, ["楼上邻居半夜放音乐，吵得睡不着"])
    assert prediction.department == "public-security"
    assert 0 < prediction.confidence <= 1
    assert prediction.top3[0][0] == prediction.department
    assert len(prediction.top3) == 3
    assert prediction.top3[0][1] >= prediction.top3[1][1] >= prediction.top3[2][1]


def test_corrections_route_a_new_phrasing_to_the_corrected_department(model):
    # (共享单车 was the example once; the responsibilities now name it as transport's, so a phrasing neither the
    # corpus nor the knowledge has: drones.)
    text = "无人机在小区楼顶上空低飞盘旋"
    before = routing.predict(model, [text])[0].department
    target = "transport" if before != "transport" else "culture-tourism"
    corrections = [
        {"text": phrase, "department": target}
        for phrase in (
            "无人机天天在楼顶上飞来飞去",
            "有人放无人机贴着窗户飞",
            "无人机低空飞行嗡嗡响",
            "小区上空老有无人机盘旋",
            "无人机在广场上空乱飞",
        )
    ]
    retrained = routing.train(corpus_load(split="train"), corrections)
    assert routing.predict(retrained, [text])[0].department == target


@pytest.fixture
def small_training(monkeypatch):
    """A quarter of the corpus and the knowledge: the versioning mechanics, at a fraction of a full training
    (the full model's figures are `tongban hotline evaluate`'s and `tongban bench hotline`'s)."""
    rows = corpus_load(split="train")[::4] + knowledge_rows()
    monkeypatch.setattr(routing, "training_rows", lambda: rows)
    return rows


@pytest.mark.django_db
def test_the_first_use_trains_v1_and_train_saves_v2_with_its_manifest(model_dir, small_training):
    first = routing.model_current()
    assert first.version == 1 and (model_dir / "v1.joblib").exists()
    out = io.StringIO()
    call_command("hotline", "train", stdout=out)
    assert "model v2 (active): held-out accuracy" in out.getvalue()
    manifest = json.loads((model_dir / "v2.json").read_text())
    assert manifest["version"] == 2
    assert manifest["corpus_size"] == len(routing.training_rows())
    assert manifest["active"] is True and 0 < manifest["auto_dispatch_threshold"] <= 1
    # The command says what the threshold rests on (here the 102 validation calls alone: too few to show 97 %
    # with a margin, so the point estimate's threshold; the deployed retrain adds the out-of-fold calls).
    if manifest["auto_dispatch_margin"]:
        assert "Wilson lower bound" in out.getvalue()
    else:
        assert manifest["auto_dispatch_threshold"] == manifest["auto_dispatch_point_threshold"]
        assert f"no margin: too few calls, {manifest['calibration_size']}" in out.getvalue()
    assert manifest["corrections"] == 0
    assert manifest["heldout_accuracy"] >= 0.9
    assert manifest["trained_at"]
    assert routing.model_current().version == 2


def test_train_uses_the_configured_corrections_source(model_dir, settings, small_training):
    settings.TONGBAN_HOTLINE_CORRECTIONS_SOURCE = "tongban.hotline.tests.test_routing.three_corrections"
    model = routing.model_retrain()
    assert model.manifest["corrections"] == 3


def three_corrections():
    return [{"text": f"共享单车乱停放{n}", "department": "transport"} for n in range(3)] + [{"text": ""}]


def _classify(stdin_text, monkeypatch, model):
    monkeypatch.setattr("tongban.hotline.management.commands.hotline.model_current", lambda: model)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin_text))
    out = io.StringIO()
    call_command("hotline", "classify", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_classify_writes_one_line_per_ticket_and_an_error_line_for_a_bad_one(monkeypatch, model):
    lines = [
        json.dumps({"id": "a", "text": "马路上的下水道堵了，污水冒出来"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "c"}),
        json.dumps({"id": "d", "text": "   "}),
        json.dumps({"id": 5, "text": "健身房倒闭了，预付卡里的钱退不回来"}, ensure_ascii=False),
    ]
    results = _classify("\n".join(lines) + "\n", monkeypatch, model)
    assert [r.get("id") for r in results] == ["a", None, "c", "d", 5]
    assert results[0]["department"] == "water"
    assert results[0]["topic"] == "sewer-blocked"
    assert 0 <= results[0]["confidence"] <= 1 and len(results[0]["top3"]) == 3
    assert "line 2" in results[1]["error"] and "JSON" in results[1]["error"]
    assert results[2]["error"] == "line 3: no text"
    assert results[3]["error"] == "line 4: no text"
    assert results[4]["department"] == "market-regulation"


def test_classify_cuts_a_text_over_10000_characters_and_says_so(monkeypatch, model):
    long_text = "附近工地半夜还在打桩施工，吵得没法睡觉。" * 600
    results = _classify(
        json.dumps({"id": 1, "text": long_text}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": 2, "text": "x" * routing.MAX_TEXT_CHARS}),
        monkeypatch,
        model,
    )
    assert results[0]["department"] == "urban-management" and results[0]["truncated"] is True
    assert "truncated" not in results[1] and "department" in results[1]


def test_classify_reads_a_file(tmp_path, monkeypatch, model):
    monkeypatch.setattr("tongban.hotline.management.commands.hotline.model_current", lambda: model)
    path = tmp_path / "tickets.jsonl"
    path.write_text(json.dumps({"id": 1, "text": "出租车拒载还绕路"}, ensure_ascii=False) + "\n", "utf-8")
    out = io.StringIO()
    call_command("hotline", "classify", str(path), stdout=out)
    assert json.loads(out.getvalue())["department"] == "transport"
