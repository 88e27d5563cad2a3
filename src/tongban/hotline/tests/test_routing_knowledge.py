"""What the routing model knows besides the corpus: responsibilities, objects, rules, calibration, threshold."""

import dataclasses
import math

import numpy as np
import pytest

from tongban.hotline import knowledge, routing
from tongban.hotline.corpus import DEPARTMENT_CODES, TOPICS, corpus_load
from tongban.hotline.evaluation import evaluation_load
from tongban.hotline.knowledge import (
    KnowledgeMatches,
    knowledge_load,
    knowledge_rows,
    rule_bonus,
    rules_matching,
)


@pytest.fixture(scope="module")
def model():
    rows = corpus_load(split="train")[::4] + knowledge_rows()
    return routing.train(rows, validation=routing.validation_rows())


def test_the_knowledge_names_duties_and_objects_for_every_department_and_topic():
    departments = knowledge_load()["departments"]
    assert set(departments) == set(DEPARTMENT_CODES)
    topics = {topic for d in departments.values() for topic in d["topics"]}
    assert topics == set(TOPICS)
    for code, department in departments.items():
        assert len(department["duties"]) >= 3, code
        for topic, objects in department["topics"].items():
            assert TOPICS[topic][0] == code and len(objects) >= 8, topic
    assert {row["department"] for row in knowledge_rows()} == set(DEPARTMENT_CODES)


def test_the_keyword_features_count_each_departments_objects():
    matches = KnowledgeMatches().fit()
    row = matches.transform(["马路上的窨井盖没了 雨水口也堵了"]).toarray()[0]
    names = list(matches.get_feature_names_out())
    assert row[names.index("dept:water")] == pytest.approx(np.log1p(2))
    assert row[names.index("topic:sewer-blocked")] > 0
    assert row[names.index("dept:tax")] == 0


def test_a_drain_in_the_compound_is_housing_and_on_the_road_is_water():
    assert [r["department"] for r in rules_matching("小区里面的下水道堵了 一楼返水")] == ["housing"]
    assert [r["department"] for r in rules_matching("马路上的下水道堵了 污水冒出来")] == ["water"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("菜场门口摆摊的秤有问题 缺斤短两", "market-regulation"),
        ("摆摊的把人行道都占了 城管来了就跑", "urban-management"),
        ("公司发工资扣了个税 个税app里没有申报", "tax"),
        ("公司扣了工资里的社保 却一直没交社保", "hrss"),
        ("幼儿园的保育费说今年减免了", "education"),
        ("我们是低保家庭 孩子有没有生活补贴", "civil-affairs"),
        ("楼上那家把电瓶车推上楼 晚上在门口拉电线充电", "fire-rescue"),
        ("楼道里堆满了纸板箱和旧家具 跟物业讲了也不清", "fire-rescue"),
        ("马路边的梧桐树树枝挡住了红绿灯", "greening-appearance"),
        ("门诊医生态度很差 乱开检查 医保也报不了", "health"),
        ("楼下酒吧里乐队驻唱到凌晨两点", "culture-tourism"),
        ("晚上烧烤摊把桌子摆到人行道上 我报警了", "urban-management"),
    ],
)
def test_the_confusable_pairs_have_rules_by_the_object_named(text, expected):
    assert expected in [r["department"] for r in rules_matching(text)]


def test_the_public_security_sink_words_count_against_it_only_without_its_objects():
    classes = ["public-security", "urban-management"]
    sink, neighbour, stolen = rule_bonus(
        ["工地晚上还在打桩 我报警了", "楼上邻居晚上吵 我报警了", "电瓶车晚上被偷了 报警了"], classes
    )
    assert sink[0] < 0 and sink[1] == knowledge.RULE_BONUS  # the site rule still adds its bonus
    assert neighbour[0] == 0 and stolen[0] == 0


def test_a_district_rule_applies_only_in_its_districts():
    assert "planning-resources" in [r["department"] for r in rules_matching("宅基地审批", "310151")]
    assert rules_matching("宅基地审批", "310101") == []


def test_threshold_choose_takes_the_lowest_threshold_that_keeps_the_precision():
    confidences = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
    correct = [True, True, True, True, False, False]
    assert routing.threshold_choose(confidences, correct, precision=0.97, rule="point") == {
        "threshold": 0.8,
        "precision": 1.0,
        "precision_lower": round(routing.precision_lower_bound(4, 4), 4),
        "coverage": round(4 / 6, 4),
        "dispatched": 4,
    }
    assert routing.threshold_choose([0.5], [False], rule="point")["threshold"] == 1.0
    # Four right calls cannot show 97 % with a margin: by the default rule nothing is dispatched.
    assert routing.threshold_choose(confidences, correct, precision=0.97) == {
        "threshold": 1.0,
        "precision": None,
        "precision_lower": None,
        "coverage": 0.0,
        "dispatched": 0,
    }
    with pytest.raises(ValueError):
        routing.threshold_choose(confidences, correct, rule="median")


def test_the_wilson_lower_bound_is_the_textbook_one():
    z = 1.959963984540054  # the two-sided 95 % normal quantile
    # All right: the Wilson lower bound is n / (n + z²).
    assert routing.precision_lower_bound(102, 102) == pytest.approx(102 / (102 + z * z), abs=1e-9)
    # 516 of 524: (p + z²/2n − z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n).
    n, p = 524, 516 / 524
    low = (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    assert routing.precision_lower_bound(516, 524) == pytest.approx(low, abs=1e-9)
    assert routing.precision_lower_bound(516, 524) < 516 / 524


def test_the_threshold_rule_keeps_a_margin_below_the_observed_precision():
    """1,000 calls at confidences 0.9995, 0.999, … 0.5: one wrong in a hundred among the 400 most confident,
    then one in 25. The point estimate reaches 97 % only with every call in (972 / 1,000 right); the rule takes
    the lowest threshold whose Wilson 95 % lower bound is still ≥ 97 %: the 524 most confident calls, 516 of
    them right (98.47 %, bound 97.02 %); the 525th is wrong and brings the bound under 97 %."""
    confidences = [round(1 - (i + 1) / 2000, 4) for i in range(1000)]
    correct = [(i % 100 != 99) if i < 400 else (i % 25 != 24) for i in range(1000)]
    chosen = routing.threshold_choose(confidences, correct)
    assert chosen == {
        "threshold": 0.738,
        "precision": 0.9847,
        "precision_lower": 0.9702,
        "coverage": 0.524,
        "dispatched": 524,
    }
    assert routing.precision_lower_bound(516, 525) < 0.97 <= routing.precision_lower_bound(516, 524)
    point = routing.threshold_choose(confidences, correct, rule="point")
    assert (point["threshold"], point["precision"], point["coverage"]) == (0.5, 0.972, 1.0)
    # The order of the calls does not matter, only their confidences.
    shuffled = list(zip(confidences, correct, strict=True))[::-1]
    assert routing.threshold_choose([c for c, _ in shuffled], [ok for _, ok in shuffled]) == chosen


def test_the_calibrated_probabilities_are_sklearns_and_the_manifest_has_the_threshold(model):
    texts = [row["text"] for row in routing.validation_rows()]
    features = routing._features(model.pipeline, texts)
    plain = routing.Model(
        pipeline=model.pipeline, topics=model.topics, calibration=model.calibration, rules=False
    )
    ours = routing._department_scores(plain, features, texts, None)
    scores = routing._raw_scores(plain, features, texts, None)
    assert np.allclose(ours, model.calibration.predict_proba(scores), atol=1e-9)
    # With the rules, the calibration is fitted on (and applied to) the scores with the rules' bonus.
    with_rules = routing._raw_scores(model, features, texts, None)
    assert np.allclose(
        routing._department_scores(model, features, texts, None),
        model.calibration.predict_proba(with_rules),
        atol=1e-9,
    )
    assert 0 < model.beta < 10
    manifest = model.manifest
    assert 0 < manifest["auto_dispatch_threshold"] <= 1
    assert manifest["validation_size"] == manifest["calibration_size"] == len(texts)
    # 102 calls cannot show 97 % with a margin (all right: Wilson lower bound 96.4 %): the point rule's threshold,
    # and the manifest says so.
    assert manifest["auto_dispatch_margin"] is False and "too few calls" in manifest["auto_dispatch_rule"]
    assert manifest["auto_dispatch_threshold"] == manifest["auto_dispatch_point_threshold"]


def test_the_threshold_is_chosen_on_the_validation_split_and_the_cross_validated_training_calls(model):
    """Each fold's hand-written calls are scored by a model trained without them; those scores join the
    validation split for the temperature and the threshold (a 1/50 corpus and 36 calls: the mechanics)."""
    spoken = routing.spoken_rows()[::40]
    rows = corpus_load(split="train")[::50] + spoken
    scores, labels = routing.out_of_fold_scores(rows, [], 3, model.departments)
    assert scores.shape == (len(spoken), len(model.departments))
    assert labels == [row["department"] for row in spoken]
    # A call's out-of-fold score comes from the model of its fold, trained on the other folds' calls only.
    fold = [routing._fold(row["text"], 3) for row in spoken]
    kept = [row for row in rows if not (row.get("handwritten") and routing._fold(row["text"], 3) == 0)]
    fold_model = routing.train(kept, topics=False)
    texts = [row["text"] for row, k in zip(spoken, fold, strict=True) if k == 0]
    expected = routing._raw_scores(fold_model, routing._features(fold_model.pipeline, texts), texts, None)
    assert fold_model.departments == model.departments
    assert np.allclose(scores[[n for n, k in enumerate(fold) if k == 0]], expected)
    validation = routing.validation_rows()
    calibrated = dataclasses.replace(model, manifest=dict(model.manifest))
    chosen = routing.calibrate(calibrated, validation, held_out=(scores, labels))
    manifest = calibrated.manifest
    assert manifest["cross_validated_size"] == len(spoken)
    assert manifest["calibration_size"] == len(spoken) + len(validation)
    assert 0 <= manifest["cross_validated_top1"] <= manifest["cross_validated_top3"] <= 1
    assert manifest["auto_dispatch_threshold"] == chosen["threshold"] and 0 < calibrated.beta < 10
    # The rule and its figures on the pooled calls are in the manifest, with the point rule's for comparison.
    assert manifest["auto_dispatch_expected_dispatched"] == chosen["dispatched"]
    if manifest["auto_dispatch_margin"]:
        assert "Wilson 95% lower bound" in manifest["auto_dispatch_rule"]
        assert manifest["auto_dispatch_expected_precision_lower"] >= routing.TARGET_PRECISION
        assert manifest["auto_dispatch_point_threshold"] <= manifest["auto_dispatch_threshold"]
    else:  # 138 calls of a model trained on a 1/50 corpus may not show 97 % with a margin: the point rule's
        assert manifest["auto_dispatch_point_threshold"] == manifest["auto_dispatch_threshold"]


def test_with_enough_out_of_fold_calls_the_threshold_keeps_the_margin(model):
    """600 out-of-fold calls scored confidently and right join the validation split: the rule finds a threshold
    whose Wilson lower bound is >= 97 %, at or above the point estimate's, and the manifest records both."""
    departments = model.departments
    labels = [departments[n % len(departments)] for n in range(600)]
    scores = np.zeros((600, len(departments)))
    for n, label in enumerate(labels):
        scores[n, departments.index(label)] = 30.0
    calibrated = dataclasses.replace(model, manifest=dict(model.manifest))
    chosen = routing.calibrate(calibrated, routing.validation_rows(), held_out=(scores, labels))
    manifest = calibrated.manifest
    assert manifest["auto_dispatch_margin"] is True
    assert manifest["auto_dispatch_rule"].startswith("lowest threshold whose Wilson 95% lower bound")
    assert manifest["auto_dispatch_threshold"] == chosen["threshold"]
    assert manifest["auto_dispatch_expected_precision_lower"] >= routing.TARGET_PRECISION
    assert manifest["auto_dispatch_expected_precision"] > manifest["auto_dispatch_expected_precision_lower"]
    assert manifest["auto_dispatch_point_threshold"] <= manifest["auto_dispatch_threshold"]
    assert manifest["auto_dispatch_expected_dispatched"] >= 600
    assert manifest["auto_dispatch_coverage_goal_met"] == (manifest["auto_dispatch_expected_coverage"] >= 0.5)
    assert manifest["calibration_size"] == 600 + len(routing.validation_rows())


def test_the_validation_split_is_hand_written_and_apart_from_the_evaluation_set():
    validation = routing.validation_rows()
    assert len(validation) >= 100
    assert {row["department"] for row in validation} == set(DEPARTMENT_CODES)
    assert not {row["text"] for row in validation} & {row["text"] for row in evaluation_load()}


def test_a_saved_model_keeps_its_calibration_and_rules(model, tmp_path):
    saved = routing.model_save(model, directory=tmp_path)
    loaded = routing.model_load(saved.version, directory=tmp_path)
    assert loaded.rules and loaded.beta == pytest.approx(model.beta)
    text = ["小区里面的下水道堵了 一楼返水 物业不管"]
    assert routing.predict(loaded, text) == routing.predict(model, text)
