"""Routing (派单): the classifier that proposes the department a ticket goes to.

Features are TF-IDF weights of jieba words (unigrams and bigrams) and of character n-grams (1–3), joined by a
``FeatureUnion``; the classifier is a multinomial logistic regression, so every department gets a
probability, and a complement naive Bayes on the same features adds its log-likelihoods to the regression's
scores (``NB_WEIGHT``). The model is trained on the ``train`` split of the committed corpus (``corpus.py``), the
hand-written spoken calls (``data/spoken_training.jsonl``), the departments' responsibilities (``knowledge.py``)
and the dispatchers' corrections, and measured on the ``test`` split.

The model in use is versioned as files under ``settings.VAR_DIR / "hotline-models"``: ``v<N>.joblib`` (the
fitted pipeline) and ``v<N>.json`` (its manifest: version, trained_at, corpus size, corrections count,
held-out accuracy). ``model_current()`` loads the newest; when there is none it trains v1 from the corpus
in the package (no download).
"""

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import joblib
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline

from .corpus import corpus_load

MAX_TEXT_CHARS = 10_000
# A dispatcher's correction counts as this many corpus rows: a handful of them must be able to move a
# phrasing that the synthetic corpus does not know.
CORRECTION_WEIGHT = 8.0
MODEL_DIR_NAME = "hotline-models"
VALIDATION_PATH = Path(__file__).resolve().parent / "data" / "validation.jsonl"
# Hand-written calls in the way callers speak (training data, see docs/hotline-routing.md).
SPOKEN_PATH = Path(__file__).resolve().parent / "data" / "spoken_training.jsonl"
# A hand-written spoken call weighs this many template rows. Chosen by 3-fold cross-validation on these calls
# and on the validation split: 1, 3 and 8 gave 0.810, 0.813, 0.814 (cross-validated top-1) and 0.833, 0.843,
# 0.843 (validation); 3 is in the flat part.
SPOKEN_WEIGHT = 3.0
# Auto-dispatch: the threshold is the lowest confidence at which the hand-written calls at or above it (the
# validation split and the spoken training calls, cross-validated) were routed right this often, not as a point
# estimate but with a margin: the lower end of the Wilson interval of that precision, at THRESHOLD_CONFIDENCE.
# A threshold set so that the point estimate is 97 % exactly lands below 97 % on another set about half the
# time; the bound makes that unlikely, at the cost of dispatching fewer tickets (docs/hotline-routing.md).
TARGET_PRECISION = 0.97
THRESHOLD_CONFIDENCE = 0.95
THRESHOLD_RULE = "wilson"  # "wilson": the Wilson lower bound ≥ TARGET_PRECISION; "point": the observed share
# The share of tickets the issue wants dispatched at that precision; a threshold that dispatches fewer of the
# pooled calls is still the rule's, and the manifest says so (``auto_dispatch_coverage_goal_met``).
COVERAGE_GOAL = 0.5
# The spoken training calls are cut into this many folds: each fold's calls are scored by a model trained without
# them, and those out-of-fold scores join the validation split to fit the temperature and choose the threshold
# (``TONGBAN_HOTLINE_CV_FOLDS`` overrides it; 0 calibrates on the validation split alone).
CV_FOLDS = 3
# The department classifier's inverse regularisation: 5 generalises from the templates to hand-written calls
# better than 20 (validation split: top-1 0.745 either way, auto-dispatch coverage 0.34 vs 0.27).
CLASSIFIER_C = 5.0
# A complement naive Bayes on the same features (scikit-learn's ComplementNB, smoothing NB_ALPHA) adds its joint
# log-likelihoods × NB_WEIGHT to the regression's department scores, before the rules' bonus and the temperature.
# Chosen in the sixth pass of issue 12 on the 3-fold cross-validation of the spoken training calls and the
# validation split (docs/hotline-routing.md): top-1 0.859 → 0.887 (CV), 0.892 → 0.931 (validation); weights 1 to
# 5 and smoothing 0.03 to 0.3 lie on the same plateau.
NB_WEIGHT = 2.0
NB_ALPHA = 0.1
_VERSION_FILE = re.compile(r"^v(\d+)\.joblib$")
logger = logging.getLogger(__name__)

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
                # The objects of the departments' responsibilities are words (窨井盖, 物业费, 预付卡 ...).
                from .knowledge import knowledge_load

                for department in knowledge_load()["departments"].values():
                    for objects in department["topics"].values():
                        for word in objects:
                            if len(word) > 1:
                                jieba.add_word(word)
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
    # Temperature scaling of the department scores (scikit-learn's CalibratedClassifierCV, method
    # "temperature", fitted on the validation split); None before calibration existed.
    calibration: object | None = None
    # Whether the knowledge rules add their bonus (models saved before them: no).
    rules: bool = False
    # The complement naive Bayes beside the regression (NB_WEIGHT × its log-likelihoods join the department
    # scores); None in models saved before the sixth pass of issue 12, which score as they did.
    complement: ComplementNB | None = None

    @property
    def beta(self):
        """The inverse temperature the calibration found (1.0 without calibration)."""
        if self.calibration is None:
            return 1.0
        return float(self.calibration.calibrated_classifiers_[0].calibrators[0].beta_)

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
    """Every labelled text training uses besides the corrections: the corpus's train split, the hand-written
    spoken calls (``spoken_rows``), the departments' responsibilities and objects (``knowledge.json``) and,
    with a database, the catalogue's items and the FAQ entries. (The hand-written evaluation set and the
    validation split are never among them; a test holds that none of them is near any of these.)"""
    from .knowledge import catalogue_rows, knowledge_rows

    return corpus_load(split="train") + spoken_rows() + knowledge_rows() + catalogue_rows()


def spoken_rows(weight=None) -> list[dict]:
    """The hand-written training calls (``data/spoken_training.jsonl``): spoken, rambling, speech-to-text
    style, with the confusable pairs; each weighs ``SPOKEN_WEIGHT`` template rows."""
    weight = SPOKEN_WEIGHT if weight is None else weight
    rows = []
    for line in SPOKEN_PATH.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.append(
                {
                    "text": row["text"],
                    "department": row["department"],
                    "topic": row["topic"],
                    "weight": weight,
                    "handwritten": True,  # cross-validated for the calibration (see ``train``)
                }
            )
    return rows


def validation_rows() -> list[dict]:
    """The hand-written validation split (``data/validation.jsonl``): the calibration and the auto-dispatch
    threshold are chosen on it, never on the evaluation set."""
    return [
        json.loads(line) for line in VALIDATION_PATH.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def precision_lower_bound(hits, total, *, confidence=THRESHOLD_CONFIDENCE) -> float:
    """The lower end of the Wilson score interval (two-sided, ``confidence``) of the share ``hits / total``
    (scipy's ``binomtest(...).proportion_ci(method="wilson")``)."""
    from scipy.stats import binomtest

    return float(
        binomtest(int(hits), int(total)).proportion_ci(confidence_level=confidence, method="wilson").low
    )


def threshold_choose(
    confidences, correct, *, precision=TARGET_PRECISION, rule=THRESHOLD_RULE, confidence=THRESHOLD_CONFIDENCE
) -> dict:
    """The lowest confidence threshold at which the tickets at or above it are routed right at least
    ``precision`` of the time: by the rule ``"wilson"``, the lower end of the Wilson interval (``confidence``,
    two-sided) of their share routed right is ≥ ``precision``; by ``"point"``, the share itself. Returns the
    threshold, the share routed right at it (``precision``), its Wilson lower bound (``precision_lower``), the
    share of tickets at or above it (``coverage``) and their number (``dispatched``); threshold 1.0 and coverage
    0 when no threshold qualifies (too few calls, or too many wrong ones, to show the precision)."""
    import numpy as np

    if rule not in ("wilson", "point"):
        raise ValueError(f"unknown threshold rule {rule!r}")
    order = np.argsort(-np.asarray(confidences, dtype=float), kind="stable")
    conf = np.asarray(confidences, dtype=float)[order]
    hits = np.cumsum(np.asarray(correct, dtype=float)[order])
    best = None
    for i in range(len(conf)):
        if i + 1 < len(conf) and conf[i + 1] == conf[i]:
            continue  # a threshold takes every ticket of the same confidence
        if hits[i] / (i + 1) < precision:
            continue  # the bound is below the share: no need to compute it
        if rule == "point" or precision_lower_bound(hits[i], i + 1, confidence=confidence) >= precision:
            best = i
    if best is None:
        return {
            "threshold": 1.0,
            "precision": None,
            "precision_lower": None,
            "coverage": 0.0,
            "dispatched": 0,
        }
    return {
        "threshold": round(float(conf[best]), 4),
        "precision": round(float(hits[best] / (best + 1)), 4),
        "precision_lower": round(precision_lower_bound(hits[best], best + 1, confidence=confidence), 4),
        "coverage": round((best + 1) / len(conf), 4),
        "dispatched": best + 1,
    }


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
    from .knowledge import KnowledgeMatches

    return Pipeline(
        [
            (
                "features",
                FeatureUnion([("words", words), ("chars", chars), ("knowledge", KnowledgeMatches())]),
            ),
            ("classifier", LogisticRegression(C=CLASSIFIER_C, max_iter=3000)),
        ]
    )


def train(corpus_rows, extra_rows=(), *, validation=None, folds=0, topics=True) -> Model:
    """Fit a model on ``corpus_rows`` and the corrections ``extra_rows`` (``{"text", "department"}``, a
    ``topic`` when known). With ``validation`` rows, calibrate the department probabilities (temperature scaling)
    and choose the auto-dispatch threshold for ``TARGET_PRECISION``: on the validation rows and, with ``folds``
    ≥ 2, on the out-of-fold scores of the hand-written training calls (``handwritten`` rows: each fold scored by
    a model trained without it, ``folds`` more fits). ``topics=False`` skips the topic classifier."""
    import numpy as np

    corpus_rows, extra_rows = list(corpus_rows), list(extra_rows)
    texts = [row["text"][:MAX_TEXT_CHARS] for row in corpus_rows + extra_rows]
    labels = [row["department"] for row in corpus_rows + extra_rows]
    # A row may carry its own weight (the knowledge rows do); a correction weighs CORRECTION_WEIGHT.
    weights = [float(row.get("weight", 1.0)) for row in corpus_rows] + [CORRECTION_WEIGHT] * len(extra_rows)
    pipeline = _pipeline()
    features = pipeline.named_steps["features"].fit_transform(texts)
    pipeline.named_steps["classifier"].fit(features, labels, sample_weight=weights)
    complement = ComplementNB(alpha=NB_ALPHA).fit(features, labels, sample_weight=weights)
    # Column-major, as the regression's ``coef_``: ``features @ feature_log_prob_.T`` for one ticket then reads
    # a contiguous matrix instead of copying it (1.5 ms a ticket otherwise).
    complement.feature_log_prob_ = np.asfortranarray(complement.feature_log_prob_)
    topic_rows = [(row, float(row.get("weight", 1.0))) for row in corpus_rows if row.get("topic")]
    topic_rows += [(row, CORRECTION_WEIGHT) for row in extra_rows if row.get("topic")]
    topic_model = None
    if topics and len({row["topic"] for row, _weight in topic_rows}) >= 2:
        features = pipeline.named_steps["features"].transform(
            [row["text"][:MAX_TEXT_CHARS] for row, _weight in topic_rows]
        )
        topic_model = LogisticRegression(C=20.0, max_iter=3000).fit(
            features,
            [row["topic"] for row, _weight in topic_rows],
            sample_weight=[weight for _row, weight in topic_rows],
        )
    manifest = {
        "version": None,
        "trained_at": timezone.now().isoformat(timespec="seconds"),
        "corpus_size": len(corpus_rows),
        "corrections": len(extra_rows),
        "departments": len(pipeline.classes_),
        "topics": len(topic_model.classes_) if topic_model is not None else 0,
    }
    model = Model(pipeline=pipeline, manifest=manifest, topics=topic_model, rules=True, complement=complement)
    if validation:
        held_out = (
            out_of_fold_scores(corpus_rows, extra_rows, folds, model.departments) if folds >= 2 else None
        )
        calibrate(model, validation, held_out=held_out)
    return model


def _fold(text, folds):
    """The fold of a hand-written call: a hash of its text, so that adding calls leaves the others in place."""
    return int(hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest(), 16) % folds


def out_of_fold_scores(corpus_rows, extra_rows, folds, departments):
    """``(scores, labels)`` of the hand-written training calls among ``corpus_rows`` (``"handwritten"``), each
    scored (the classifier's scores plus the rules', before calibration; columns in ``departments``' order) by
    a model trained on every other row and the other folds' calls, never on its own fold. None when there are
    too few such calls. Cross-validation on training data: the calibration and the threshold see calls the
    model being calibrated has not fitted, and more of them than the validation split alone."""
    import numpy as np

    handwritten = [i for i, row in enumerate(corpus_rows) if row.get("handwritten")]
    if len(handwritten) < 10 * folds:
        return None
    fold_of = {i: _fold(corpus_rows[i]["text"], folds) for i in handwritten}
    column = {code: n for n, code in enumerate(departments)}
    scores = np.zeros((len(handwritten), len(departments)))
    position = {i: n for n, i in enumerate(handwritten)}
    for k in range(folds):
        left_out = [i for i in handwritten if fold_of[i] == k]
        kept = [row for i, row in enumerate(corpus_rows) if fold_of.get(i, -1) != k]
        fold_model = train(kept, extra_rows, topics=False)
        texts = [corpus_rows[i]["text"][:MAX_TEXT_CHARS] for i in left_out]
        raw = _raw_scores(fold_model, _features(fold_model.pipeline, texts), texts, None)
        rows = [position[i] for i in left_out]
        # A department the fold's model never saw scores below every other one.
        scores[rows] = raw.min(axis=1, keepdims=True) - 10.0
        for n, code in enumerate(fold_model.departments):
            if code in column:
                scores[rows, column[code]] = raw[:, n]
    return scores, [corpus_rows[i]["department"] for i in handwritten]


class GivenScores(ClassifierMixin, BaseEstimator):
    """A classifier whose decision function is its input: scikit-learn's ``CalibratedClassifierCV`` fits the
    temperature on department scores computed beforehand (the model's on the validation split, the fold
    models' on the held-out training calls), the rules' bonus included."""

    def __init__(self, classes=()):
        self.classes = classes

    def fit(self, X=None, y=None):
        import numpy as np

        self.classes_ = np.asarray(self.classes)
        return self

    def decision_function(self, X):
        import numpy as np

        return np.asarray(X, dtype=float)

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]


def calibrate(model, rows, *, held_out=None) -> dict:
    """Fit the temperature of ``model``'s department scores (the rules' bonus included) on labelled ``rows``
    and the out-of-fold ``held_out`` ``(scores, labels)`` of ``out_of_fold_scores`` (scikit-learn's
    ``CalibratedClassifierCV``, method "temperature", around the frozen ``GivenScores``), and choose the
    auto-dispatch threshold on the same calls; both go into the model (``calibration``,
    ``manifest["auto_dispatch_threshold"]``, the validation and cross-validation figures)."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    rows = list(rows)
    texts = [row["text"][:MAX_TEXT_CHARS] for row in rows]
    classes = list(model.departments)
    known = set(classes)
    fit_rows = [
        (text, row["department"]) for text, row in zip(texts, rows, strict=True) if row["department"] in known
    ]
    fit_texts = [text for text, _ in fit_rows]
    scores = _raw_scores(model, _features(model.pipeline, fit_texts), fit_texts, None)
    labels = [label for _, label in fit_rows]
    if held_out is not None:
        scores = np.vstack([scores, held_out[0]])
        labels = labels + list(held_out[1])
    calibration = CalibratedClassifierCV(FrozenEstimator(GivenScores(classes).fit()), method="temperature")
    calibration.fit(scores, labels)
    model.calibration = calibration
    predictions = predict(model, texts)
    correct = [p.department == row["department"] for p, row in zip(predictions, rows, strict=True)]
    confidences = [p.confidence for p in predictions]
    figures = {}
    pooled_confidences, pooled_correct = list(confidences), list(correct)
    if held_out is not None:
        probabilities = _softmax(held_out[0] * model.beta)
        best = probabilities.argmax(axis=1)
        cv_correct = [classes[b] == label for b, label in zip(best, held_out[1], strict=True)]
        top3 = np.argsort(-probabilities, axis=1)[:, :3]
        cv_top3 = [label in {classes[i] for i in row} for row, label in zip(top3, held_out[1], strict=True)]
        pooled_confidences += [float(p) for p in probabilities.max(axis=1)]
        pooled_correct += cv_correct
        figures = {
            "cross_validated_size": len(cv_correct),
            "cross_validated_top1": round(sum(cv_correct) / len(cv_correct), 4),
            "cross_validated_top3": round(sum(cv_top3) / len(cv_top3), 4),
        }
    chosen = threshold_choose(pooled_confidences, pooled_correct)
    # The threshold a point estimate chooses (the rule until the fifth pass of issue 12): for comparison, and the
    # fallback when no threshold shows the precision with a margin (the validation split's 102 calls alone, as the
    # tests and the learning benchmark calibrate, cannot: 102 right out of 102 has a Wilson lower bound of 96.4 %).
    point = threshold_choose(pooled_confidences, pooled_correct, rule="point")
    margin = THRESHOLD_RULE == "wilson" and chosen["dispatched"] > 0
    if THRESHOLD_RULE == "wilson" and not margin:
        logger.warning(
            "no auto-dispatch threshold shows %.0f %% precision with a margin on %d calls: the point estimate's "
            "threshold %.4f is used",
            100 * TARGET_PRECISION,
            len(pooled_correct),
            point["threshold"],
        )
        chosen = point
    elif margin and chosen["coverage"] < COVERAGE_GOAL:
        logger.warning(
            "auto-dispatch threshold %.4f dispatches %.1f %% of the %d pooled calls (goal %.0f %%): the precision "
            "target cannot be shown with a margin at more",
            chosen["threshold"],
            100 * chosen["coverage"],
            len(pooled_correct),
            100 * COVERAGE_GOAL,
        )
    on_validation = [ok for c, ok in zip(confidences, correct, strict=True) if c >= chosen["threshold"]]
    model.manifest.update(
        {
            "auto_dispatch_threshold": chosen["threshold"],
            "auto_dispatch_rule": (
                f"lowest threshold whose Wilson {THRESHOLD_CONFIDENCE:.0%} lower bound of precision on the pooled "
                f"validation and out-of-fold calls is >= {TARGET_PRECISION:.0%}"
                if margin
                else f"lowest threshold whose precision on the pooled calls is >= {TARGET_PRECISION:.0%}"
                + (
                    " (no threshold reached the Wilson lower bound: too few calls)"
                    if THRESHOLD_RULE == "wilson"
                    else ""
                )
            ),
            "auto_dispatch_margin": margin,
            "auto_dispatch_expected_precision": chosen["precision"],
            "auto_dispatch_expected_precision_lower": chosen["precision_lower"],
            "auto_dispatch_expected_coverage": chosen["coverage"],
            "auto_dispatch_expected_dispatched": chosen["dispatched"],
            "auto_dispatch_coverage_goal_met": chosen["coverage"] >= COVERAGE_GOAL,
            "auto_dispatch_point_threshold": point["threshold"],
            "auto_dispatch_point_precision": point["precision"],
            "auto_dispatch_point_coverage": point["coverage"],
            "calibration_size": len(pooled_correct),
            "validation_size": len(rows),
            "validation_accuracy": round(sum(correct) / len(rows), 4) if rows else None,
            "validation_auto_precision": (
                round(sum(on_validation) / len(on_validation), 4) if on_validation else None
            ),
            "validation_auto_coverage": round(len(on_validation) / len(rows), 4) if rows else None,
            "temperature_beta": round(model.beta, 4),
            **figures,
        }
    )
    return chosen


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


_analyzers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tfidf_one(vectorizer, text):
    """``_tfidf(vectorizer, [text])``'s one row as ``(indices, data)``: the counts taken from the vectorizer's own
    analyzer into a dict, then the same sublinear tf, idf and l2 norm, without building sparse matrices (five of
    scipy's constructors and checks cost more than the arithmetic for one ticket)."""
    import numpy as np

    analyze = _analyzers.get(vectorizer)
    if analyze is None:
        analyze = _analyzers[vectorizer] = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    counts: dict[int, int] = {}
    for token in analyze(text):
        column = vocabulary.get(token)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    indices = np.array(sorted(counts), dtype=np.int64)
    data = np.array([counts[column] for column in indices.tolist()], dtype=np.float64)
    if vectorizer.sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    if vectorizer.use_idf:
        data *= vectorizer.idf_[indices]
    norm = np.sqrt(np.sum(data**2))
    if norm:
        data /= norm
    return indices, data


def _features_one(pipeline, text):
    """``_features(pipeline, [text])`` for one text (a ticket taken, the console as the operator types), stacked
    by hand into one sparse row; a test holds it equal to sklearn's transform."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

    union = pipeline.named_steps["features"]
    weights = union.transformer_weights or {}
    all_indices, all_data, offset = [], [], 0
    for name, transformer in union.transformer_list:
        if transformer == "drop":
            continue
        if type(transformer) is TfidfVectorizer and not transformer.binary and transformer.norm == "l2":
            indices, data = _tfidf_one(transformer, text)
            width = len(transformer.vocabulary_)
        else:
            part = transformer.transform([text]).tocsr()
            part.sort_indices()
            indices, data, width = part.indices.astype(np.int64), part.data.astype(np.float64), part.shape[1]
        if name in weights:
            data = data * weights[name]
        all_indices.append(indices + offset)
        all_data.append(data)
        offset += width
    data = np.concatenate(all_data)
    return csr_matrix((data, np.concatenate(all_indices), [0, len(data)]), shape=(1, offset))


def _softmax_scores(classifier, features):
    """``classifier.predict_proba(features)`` of a fitted multinomial ``LogisticRegression``: the softmax of
    ``features @ coef_.T + intercept_``, without the input checks (a test holds it equal to sklearn's)."""
    import numpy as np

    scores = np.asarray(features @ classifier.coef_.T) + classifier.intercept_
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


def _raw_scores(model, features, texts, districts):
    """The department scores before calibration: the classifier's (``features @ coef_.T + intercept_``), plus
    ``NB_WEIGHT`` × the complement naive Bayes's joint log-likelihoods (``features @ feature_log_prob_.T``,
    centred per ticket) when the model has one, plus the rules' bonus when the model has rules."""
    import numpy as np

    classifier = model.pipeline.named_steps["classifier"]
    scores = np.asarray(features @ classifier.coef_.T) + classifier.intercept_
    if model.complement is not None:
        likelihoods = np.asarray(features @ model.complement.feature_log_prob_.T)
        scores += NB_WEIGHT * (likelihoods - likelihoods.mean(axis=1, keepdims=True))
    if model.rules:
        from .knowledge import rule_bonus

        scores += rule_bonus(texts, classifier.classes_, districts)
    return scores


def _softmax(scores):
    import numpy as np

    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


def _department_scores(model, features, texts, districts):
    """The calibrated department probabilities: ``beta`` × (the classifier's scores + the rules' bonus), then
    the softmax. Without rules and calibration this is ``predict_proba``; with calibration it is
    ``CalibratedClassifierCV.predict_proba`` of those scores (tests hold both)."""
    scores = _raw_scores(model, features, texts, districts)
    scores *= model.beta
    return _softmax(scores)


def _topic_of(model, topic_scores, department):
    """The best topic that belongs to ``department`` (a corpus topic names its department), else the best."""
    from .corpus import TOPICS

    classes = model.topics.classes_
    order = topic_scores.argsort()[::-1]
    for i in order:
        owner = TOPICS.get(str(classes[i]))
        if owner is None or owner[0] == department:
            return str(classes[i])
    return str(classes[order[0]])


def predict(model, texts, districts=None) -> list[Prediction]:
    """Predictions of ``model`` for ``texts`` in one batch (texts longer than MAX_TEXT_CHARS are cut);
    ``districts`` (codes, one per text) let the district-dependent rules apply."""
    texts = [(text or "")[:MAX_TEXT_CHARS] for text in texts]
    if not texts:
        return []
    features = (
        _features_one(model.pipeline, texts[0]) if len(texts) == 1 else _features(model.pipeline, texts)
    )
    probabilities = _department_scores(model, features, texts, districts)
    topic_scores = _softmax_scores(model.topics, features) if model.topics is not None else None
    classes = model.pipeline.classes_
    predictions = []
    for n, row in enumerate(probabilities):
        best = row.argsort()[::-1][:3]
        top3 = [(str(classes[i]), round(float(row[i]), 4)) for i in best]
        topic = _topic_of(model, topic_scores[n], top3[0][0]) if topic_scores is not None else ""
        predictions.append(
            Prediction(department=top3[0][0], confidence=top3[0][1], top3=top3, topic=str(topic))
        )
    return predictions


def classify(texts, *, model=None, districts=None) -> list[Prediction]:
    """Route ``texts`` with ``model``, by default the model in use."""
    return predict(model or model_current(), texts, districts)


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
    joblib.dump(
        {
            "pipeline": model.pipeline,
            "topics": model.topics,
            "calibration": model.calibration,
            "rules": model.rules,
            "complement": model.complement,
        },
        temporary,
        compress=3,
    )
    os.replace(temporary, path / f"v{version}.joblib")
    return model


def model_load(version, *, directory=None) -> Model:
    path = model_dir(directory)
    stored = joblib.load(path / f"v{version}.joblib")
    # Versions saved before the topic classifier hold the pipeline alone.
    pipeline, topics = (stored["pipeline"], stored["topics"]) if isinstance(stored, dict) else (stored, None)
    extra = stored if isinstance(stored, dict) else {}
    manifest_file = path / f"v{version}.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {"version": version}
    return Model(
        pipeline=pipeline,
        manifest=manifest,
        topics=topics,
        calibration=extra.get("calibration"),
        rules=bool(extra.get("rules", False)),
        complement=extra.get("complement"),
    )


def cv_folds() -> int:
    """The folds of the calibration's cross-validation: ``TONGBAN_HOTLINE_CV_FOLDS``, else ``CV_FOLDS``."""
    return int(getattr(settings, "TONGBAN_HOTLINE_CV_FOLDS", CV_FOLDS))


def model_retrain(*, corrections_source=None, directory=None, folds=None) -> Model:
    """Train on the corpus's train split plus the corrections, calibrate on the validation split and the
    cross-validated hand-written training calls (``folds``, default ``cv_folds()``), measure on the test split,
    save as the next version and return it (``manifest["heldout_accuracy"]`` holds the measure)."""
    source = corrections_source or corrections_source_default()
    corrections = [
        {"text": row["text"], "department": row["department"]}
        for row in source()
        if row.get("text") and row.get("department")
    ]
    validation = validation_rows()
    folds = cv_folds() if folds is None else folds
    model = train(training_rows(), corrections, validation=validation, folds=folds)
    report = evaluate(model, corpus_load(split="test"))
    model.manifest["heldout_accuracy"] = report["accuracy"]
    model.manifest["heldout_size"] = report["total"]
    _activation_decide(model, validation, directory)
    return model_save(model, directory=directory)


def _activation_decide(model, check_rows, directory):
    """A retrain is activated only when it routes the hand-written check (the validation split) at least as
    well as the model in use, measured now on the same rows; otherwise it is saved inactive, with both figures
    in its manifest for the admin to see."""
    active = _active_model(model_dir(directory))
    mine = evaluate(model, check_rows)["accuracy"]
    model.manifest["check_accuracy"] = mine
    if active is None:
        model.manifest["active"] = True
        return
    theirs = evaluate(active, check_rows)["accuracy"]
    model.manifest["active"] = mine >= theirs
    model.manifest["compared_with"] = {"version": active.version, "check_accuracy": theirs}


def model_manifests(directory=None) -> list[dict]:
    """Every saved version's manifest, newest first (``active`` false for a retrain kept inactive)."""
    path = model_dir(directory)
    found = []
    for version in reversed(model_versions(path)):
        manifest_file = path / f"v{version}.json"
        manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {"version": version}
        found.append(manifest)
    return found


def _active_model(path):
    """The newest version not kept inactive, or None when there is none."""
    for manifest in model_manifests(path):
        if manifest.get("active", True):
            return model_load(manifest["version"], directory=path)
    return None


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[list[int], Model]] = {}  # directory → (the versions seen, the active model)


def model_current(*, directory=None) -> Model:
    """The newest active model (a retrain kept inactive is skipped), cached per process until a newer version
    appears; trains v1 if none."""
    path = model_dir(directory)
    with _cache_lock:
        versions = model_versions(path)
        if not versions:
            model = model_retrain(corrections_source=no_corrections, directory=path)
            _cache[path] = (model_versions(path), model)
            return model
        cached = _cache.get(path)
        if cached is not None and cached[0] == versions:
            return cached[1]
        model = _active_model(path) or model_load(versions[-1], directory=path)
        _cache[path] = (versions, model)
        return model
