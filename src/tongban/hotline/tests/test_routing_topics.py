"""The topic classifier beside the routing model, the stacked features, and models saved before topics."""

import joblib
import pytest
from django.utils import translation

from tongban.hotline import routing
from tongban.hotline.corpus import TOPIC_LABELS, TOPICS, corpus_load, topic_label


@pytest.fixture(scope="module")
def model():
    rows = corpus_load(split="train")
    return routing.train(rows[::4])  # a quarter of the corpus: every topic, a fraction of the time


def test_each_prediction_names_a_known_topic_of_its_department(model):
    rows = corpus_load(split="test")[:200]
    predictions = routing.predict(model, [row["text"] for row in rows])
    assert all(p.topic in TOPICS for p in predictions)
    correct = sum(p.topic == row["topic"] for p, row in zip(predictions, rows, strict=True))
    assert correct / len(rows) > 0.9
    assert model.manifest["topics"] == len(TOPICS)
    assert set(TOPIC_LABELS) == set(TOPICS)  # every topic of the corpus has a label
    with translation.override("en"):
        assert topic_label("sewer-blocked") == "Blocked sewers"
    assert topic_label("") == "" and topic_label("x-unknown") == "x-unknown"


def test_the_fast_path_equals_sklearn(model):
    """The hand-stacked TF-IDF features and the softmax give what sklearn's own transform and predict_proba give."""
    import numpy as np

    texts = [row["text"] for row in corpus_load(split="test")[:50]] + ["", "。。。", "x" * 200]
    union = model.pipeline.named_steps["features"].transform(texts)
    assert abs(union - routing._features(model.pipeline, texts)).max() < 1e-12
    for n, text in enumerate(texts):  # one ticket at a time: the same row
        assert abs(union[n] - routing._features_one(model.pipeline, text)).max() < 1e-12, text
    alone = [routing.predict(model, [text])[0] for text in texts]
    together = routing.predict(model, texts)
    assert [(p.department, p.topic) for p in alone] == [(p.department, p.topic) for p in together]
    assert max(abs(a.confidence - b.confidence) for a, b in zip(alone, together, strict=True)) < 1e-9
    classifier = model.pipeline.named_steps["classifier"]
    expected = classifier.predict_proba(union)
    assert np.allclose(routing._softmax_scores(classifier, union), expected, atol=1e-12)
    plain = routing.Model(pipeline=model.pipeline, topics=model.topics, rules=False)  # no rule bonus
    assert [p.department for p in routing.predict(plain, texts)] == list(model.pipeline.predict(texts))
    # The topic is the best one of the predicted department.
    for prediction in routing.predict(model, texts):
        assert TOPICS[prediction.topic][0] == prediction.department


def test_a_model_saved_before_topics_still_loads_and_predicts_no_topic(model, tmp_path):
    saved = routing.model_save(model, directory=tmp_path)
    assert routing.model_load(saved.version, directory=tmp_path).topics is not None
    joblib.dump(model.pipeline, tmp_path / "v2.joblib")  # the old format: the pipeline alone
    old = routing.model_load(2, directory=tmp_path)
    prediction = routing.predict(old, ["下水道堵了，污水冒出来"])[0]
    assert old.topics is None and prediction.topic == "" and prediction.department


def test_the_complement_naive_bayes_joins_the_department_scores(model, tmp_path):
    """The department scores are the regression's plus NB_WEIGHT × the complement naive Bayes's joint
    log-likelihoods (centred per ticket); the naive Bayes is saved with the model, and a model saved before it
    scores with the regression alone."""
    import dataclasses

    import numpy as np

    texts = [row["text"] for row in routing.validation_rows()[:40]] + [""]
    features = routing._features(model.pipeline, texts)
    assert list(model.complement.classes_) == model.departments
    # Stored column-major, so one ticket's scores do not copy the matrix (as the regression's coef_).
    assert model.complement.feature_log_prob_.T.flags["C_CONTIGUOUS"]
    plain = dataclasses.replace(model, rules=False)
    regression_only = dataclasses.replace(plain, complement=None)
    likelihoods = model.complement.predict_joint_log_proba(features)
    expected = routing._raw_scores(regression_only, features, texts, None) + routing.NB_WEIGHT * (
        likelihoods - likelihoods.mean(axis=1, keepdims=True)
    )
    ours = routing._raw_scores(plain, features, texts, None)
    assert np.allclose(ours, expected, atol=1e-9)
    assert not np.allclose(ours, routing._raw_scores(regression_only, features, texts, None))
    saved = routing.model_save(model, directory=tmp_path)
    loaded = routing.model_load(saved.version, directory=tmp_path)
    assert np.array_equal(loaded.complement.feature_log_prob_, model.complement.feature_log_prob_)
    assert loaded.complement.feature_log_prob_.T.flags["C_CONTIGUOUS"]
    assert routing.predict(loaded, texts) == routing.predict(model, texts)
    # A version saved before the naive Bayes (no "complement" in its file) loads without it.
    stored = joblib.load(tmp_path / f"v{saved.version}.joblib")
    del stored["complement"]
    joblib.dump(stored, tmp_path / "v9.joblib")
    old = routing.model_load(9, directory=tmp_path)
    assert old.complement is None
    assert routing.predict(old, texts) == routing.predict(dataclasses.replace(model, complement=None), texts)
