"""Routing (派单): the classifier that proposes the department a ticket goes to.

Features are TF-IDF weights of jieba words (unigrams and bigrams) and of character n-grams (1–3), joined by a
``FeatureUnion``; the classifier is a multinomial logistic regression, so every department gets a
probability. The model is trained on the ``train`` split of the committed corpus (``corpus.py``) plus the
dispatchers' corrections, and measured on the ``test`` split.

The model in use is versioned as files under ``settings.VAR_DIR / "hotline-models"``: ``v<N>.joblib`` (the
fitted pipeline) and ``v<N>.json`` (its manifest: version, trained_at, corpus size, corrections count,
held-out accuracy). ``model_current()`` loads the newest; when there is none it trains v1 from the corpus
in the package (no download).
"""

import json
import logging
import os
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import joblib
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from .corpus import corpus_load

MAX_TEXT_CHARS = 10_000
# A dispatcher's correction counts as this many corpus rows: a handful of them must be able to move a
# phrasing that the synthetic corpus does not know.
CORRECTION_WEIGHT = 8.0
MODEL_DIR_NAME = "hotline-models"
_VERSION_FILE = re.compile(r"^v(\d+)\.joblib$")

_jieba_lock = threading.Lock()
_jieba = None


def _jieba_module():
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def jieba_tokens(text):
    """jieba's words of ``text`` without whitespace and punctuation (a module-level function so it pickles)."""
    return [word for word in _jieba_module().lcut(text) if word.strip() and not _PUNCTUATION.fullmatch(word)]


_PUNCTUATION = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Prediction:
    department: str
    confidence: float
    top3: list = field(default_factory=list)  # [(code, probability), ...] best first
    topic: str = ""  # what the ticket is about (a corpus topic), "" when the model has no topic classifier


@dataclass
class Model:
    pipeline: Pipeline
    manifest: dict = field(default_factory=dict)
    # A second classifier on the same features: the topic (``corpus.TOPICS``) for hotspots and spikes.
    topics: LogisticRegression | None = None

    @property
    def version(self):
        return self.manifest.get("version")

    @property
    def departments(self):
        return list(self.pipeline.classes_)


def no_corrections():
    """The default corrections source: none. The ticket part supplies one that reads dispatchers' choices."""
    return []


def corrections_source_default() -> Callable[[], Iterable[dict]]:
    """The configured corrections source: ``settings.TONGBAN_HOTLINE_CORRECTIONS_SOURCE`` (a dotted path to
    a callable returning ``{"text", "department"}`` rows), else ``no_corrections``."""
    path = getattr(settings, "TONGBAN_HOTLINE_CORRECTIONS_SOURCE", "")
    return import_string(path) if path else no_corrections


def training_rows() -> list[dict]:
    """Every labelled text training uses besides the corrections: the corpus's train split. (The hand-written
    evaluation set is never among them; a test holds that none of it is near any of these.)"""
    return corpus_load(split="train")


def _pipeline():
    words = TfidfVectorizer(
        tokenizer=jieba_tokens,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
    )
    chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    return Pipeline(
        [
            ("features", FeatureUnion([("words", words), ("chars", chars)])),
            ("classifier", LogisticRegression(C=20.0, max_iter=3000)),
        ]
    )


def train(corpus_rows, extra_rows=()) -> Model:
    """Fit a model on ``corpus_rows`` and the corrections ``extra_rows`` (``{"text", "department"}``)."""
    corpus_rows, extra_rows = list(corpus_rows), list(extra_rows)
    texts = [row["text"][:MAX_TEXT_CHARS] for row in corpus_rows + extra_rows]
    labels = [row["department"] for row in corpus_rows + extra_rows]
    weights = [1.0] * len(corpus_rows) + [CORRECTION_WEIGHT] * len(extra_rows)
    pipeline = _pipeline()
    pipeline.fit(texts, labels, classifier__sample_weight=weights)
    topic_rows = [row for row in corpus_rows if row.get("topic")]
    topics = None
    if len({row["topic"] for row in topic_rows}) >= 2:
        features = pipeline.named_steps["features"].transform(
            [row["text"][:MAX_TEXT_CHARS] for row in topic_rows]
        )
        topics = LogisticRegression(C=20.0, max_iter=3000).fit(features, [row["topic"] for row in topic_rows])
    manifest = {
        "version": None,
        "trained_at": timezone.now().isoformat(timespec="seconds"),
        "corpus_size": len(corpus_rows),
        "corrections": len(extra_rows),
        "departments": len(pipeline.classes_),
        "topics": len(topics.classes_) if topics is not None else 0,
    }
    return Model(pipeline=pipeline, manifest=manifest, topics=topics)


def _tfidf(vectorizer, texts):
    """``vectorizer.transform(texts)`` for a fitted ``TfidfVectorizer`` with the defaults this module uses (no
    binary counts, l2 norm), computed from its public parts: the counts of ``CountVectorizer.transform``, the
    sublinear tf, the ``idf_`` weights and the row norms. It skips the input checks (and their dataframe-library
    probes) that cost half of the time for one ticket; a test holds it equal to sklearn's result."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    matrix = CountVectorizer.transform(vectorizer, texts).astype(np.float64)
    if vectorizer.sublinear_tf:
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
    if vectorizer.use_idf:
        matrix.data *= vectorizer.idf_[matrix.indices]
    if vectorizer.norm == "l2":
        row_of = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(row_of, weights=matrix.data**2, minlength=matrix.shape[0]))
        norms[norms == 0] = 1.0
        matrix.data /= norms[row_of]
    elif vectorizer.norm is not None:  # not a configuration of this module: sklearn's own path
        return vectorizer.transform(texts)
    return matrix


def _features(pipeline, texts):
    """The feature matrix of ``texts``: the union's transformers called in turn and stacked, as
    ``FeatureUnion.transform`` does, without its joblib dispatch."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    union = pipeline.named_steps["features"]
    weights = union.transformer_weights or {}
    parts = []
    for name, transformer in union.transformer_list:
        if transformer == "drop":
            continue
        fast = type(transformer) is TfidfVectorizer and not transformer.binary
        part = _tfidf(transformer, texts) if fast else transformer.transform(texts)
        parts.append(part * weights[name] if name in weights else part)
    return hstack(parts, format="csr")


def _softmax_scores(classifier, features):
    """``classifier.predict_proba(features)`` of a fitted multinomial ``LogisticRegression``: the softmax of
    ``features @ coef_.T + intercept_``, without the input checks (a test holds it equal to sklearn's)."""
    import numpy as np

    scores = np.asarray(features @ classifier.coef_.T) + classifier.intercept_
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


def predict(model, texts) -> list[Prediction]:
    """Predictions of ``model`` for ``texts`` in one batch (texts longer than MAX_TEXT_CHARS are cut)."""
    texts = [(text or "")[:MAX_TEXT_CHARS] for text in texts]
    if not texts:
        return []
    features = _features(model.pipeline, texts)
    classifier = model.pipeline.named_steps["classifier"]
    probabilities = _softmax_scores(classifier, features)
    if model.topics is not None:
        topics = model.topics.classes_[_softmax_scores(model.topics, features).argmax(axis=1)]
    else:
        topics = [""] * len(texts)
    classes = model.pipeline.classes_
    predictions = []
    for row, topic in zip(probabilities, topics, strict=True):
        best = row.argsort()[::-1][:3]
        top3 = [(str(classes[i]), round(float(row[i]), 4)) for i in best]
        predictions.append(
            Prediction(department=top3[0][0], confidence=top3[0][1], top3=top3, topic=str(topic))
        )
    return predictions


def classify(texts, *, model=None) -> list[Prediction]:
    """Route ``texts`` with ``model``, by default the model in use."""
    return predict(model or model_current(), texts)


def evaluate(model, rows) -> dict:
    """Accuracy of ``model`` on labelled ``rows``, per department (precision, recall, support) and the most
    frequent confusions ``{"expected", "predicted", "count"}``."""
    rows = list(rows)
    predicted = [p.department for p in predict(model, [row["text"] for row in rows])]
    expected = [row["department"] for row in rows]
    correct = sum(e == p for e, p in zip(expected, predicted, strict=True))
    per_department = {}
    for code in sorted(set(expected) | set(predicted)):
        support = expected.count(code)
        hits = sum(e == p == code for e, p in zip(expected, predicted, strict=True))
        chosen = predicted.count(code)
        per_department[code] = {
            "support": support,
            "recall": round(hits / support, 4) if support else None,
            "precision": round(hits / chosen, 4) if chosen else None,
        }
    confusions = Counter((e, p) for e, p in zip(expected, predicted, strict=True) if e != p)
    return {
        "accuracy": round(correct / len(rows), 4) if rows else None,
        "total": len(rows),
        "per_department": per_department,
        "confusions": [{"expected": e, "predicted": p, "count": n} for (e, p), n in confusions.most_common()],
    }


# --- versions on disk


def model_dir(directory=None) -> Path:
    return Path(directory) if directory is not None else Path(settings.VAR_DIR) / MODEL_DIR_NAME


def model_versions(directory=None) -> list[int]:
    path = model_dir(directory)
    if not path.is_dir():
        return []
    return sorted(int(m.group(1)) for m in map(_VERSION_FILE.match, os.listdir(path)) if m)


def model_save(model, *, directory=None) -> Model:
    """Write ``model`` as the next version and its manifest; return it with its version set."""
    path = model_dir(directory)
    path.mkdir(parents=True, exist_ok=True)
    version = (model_versions(path) or [0])[-1] + 1
    model.manifest = {**model.manifest, "version": version}
    # The manifest first, then the model by an atomic rename: a reader that sees v<N>.joblib finds both.
    (path / f"v{version}.json").write_text(json.dumps(model.manifest, ensure_ascii=False, indent=2) + "\n")
    handle, temporary = tempfile.mkstemp(dir=path, suffix=".tmp")
    os.close(handle)
    joblib.dump({"pipeline": model.pipeline, "topics": model.topics}, temporary, compress=3)
    os.replace(temporary, path / f"v{version}.joblib")
    return model


def model_load(version, *, directory=None) -> Model:
    path = model_dir(directory)
    stored = joblib.load(path / f"v{version}.joblib")
    # Versions saved before the topic classifier hold the pipeline alone.
    pipeline, topics = (stored["pipeline"], stored["topics"]) if isinstance(stored, dict) else (stored, None)
    manifest_file = path / f"v{version}.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {"version": version}
    return Model(pipeline=pipeline, manifest=manifest, topics=topics)


def model_retrain(*, corrections_source=None, directory=None) -> Model:
    """Train on the corpus's train split plus the corrections, measure on the test split, save as the next
    version and return it (``manifest["heldout_accuracy"]`` holds the measure)."""
    source = corrections_source or corrections_source_default()
    corrections = [
        {"text": row["text"], "department": row["department"]}
        for row in source()
        if row.get("text") and row.get("department")
    ]
    model = train(training_rows(), corrections)
    report = evaluate(model, corpus_load(split="test"))
    model.manifest["heldout_accuracy"] = report["accuracy"]
    model.manifest["heldout_size"] = report["total"]
    return model_save(model, directory=directory)


_cache_lock = threading.Lock()
_cache: dict[Path, Model] = {}


def model_current(*, directory=None) -> Model:
    """The newest saved model (cached per process until a newer version appears); trains v1 if none."""
    path = model_dir(directory)
    with _cache_lock:
        versions = model_versions(path)
        if not versions:
            model = model_retrain(corrections_source=no_corrections, directory=path)
        else:
            cached = _cache.get(path)
            if cached is not None and cached.version == versions[-1]:
                return cached
            model = model_load(versions[-1], directory=path)
        _cache[path] = model
        return model
