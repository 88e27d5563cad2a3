"""The honest evaluation of routing (派单): hand-written calls the model never trains on.

``data/evaluation.jsonl`` holds 1,261 tickets written by hand the way callers speak and apps transcribe them
(spoken, rambling, no punctuation, speech-to-text slips such as 物叶/设保/医宝, several concerns in one call,
places by street, 弄 or landmark, Shanghainese 阿拉/侬/伊, complaints naming the wrong department and the
confusable pairs of issue 12). Each row is ``{"id", "text", "department", "topic"}``; ``topic`` is a corpus
topic (``corpus.TOPICS``) and belongs to ``department``.

Nothing in the training path reads this file (``routing`` does not import this module; a test holds it). The
learning benchmark replays part of it as dispatchers' corrections (``part == "corrections"``) and measures on
the other part (``part == "measure"``), which no replay ever touches.
"""

import hashlib
import json
from collections import Counter
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
EVALUATION_PATH = DATA_DIR / "evaluation.jsonl"
HANDWRITTEN_PATH = DATA_DIR / "handwritten.jsonl"
SETS = ("evaluation", "handwritten", "heldout")


def _part(row_id: str) -> str:
    digest = int(hashlib.sha1(row_id.encode(), usedforsecurity=False).hexdigest(), 16)
    return "measure" if digest % 5 == 0 else "corrections"


def evaluation_load(*, part=None, path=EVALUATION_PATH) -> list[dict]:
    """The hand-written evaluation rows; ``part`` ``"measure"`` (about a fifth, chosen by a hash of the id) or
    ``"corrections"`` (the rest, which the learning benchmark replays as dispatchers' corrections)."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        row["part"] = _part(row["id"])
    return [row for row in rows if part is None or row["part"] == part]


def rows_for(name: str) -> list[dict]:
    """The labelled rows of a named set: ``evaluation`` (hand-written, 1,261), ``handwritten`` (the first 34)
    or ``heldout`` (the template corpus's test split)."""
    if name == "evaluation":
        return evaluation_load()
    if name == "handwritten":
        return evaluation_load(path=HANDWRITTEN_PATH)
    if name == "heldout":
        from .corpus import corpus_load

        return corpus_load(split="test")
    raise ValueError(f"unknown set {name!r}: one of {', '.join(SETS)}")


def measure(model, rows, *, threshold: float, predictions=None) -> dict:
    """Top-1, top-3 and topic accuracy of ``model`` on labelled ``rows``; per department support, recall,
    precision and top-3 recall; the confusion matrix (``labels`` × ``labels``, rows expected); and what
    auto-dispatch would do at ``threshold``: the share of tickets at or above it (coverage) and the share of
    those routed right (precision)."""
    from .routing import predict

    rows = list(rows)
    if predictions is None:
        predictions = predict(model, [row["text"] for row in rows])
    expected = [row["department"] for row in rows]
    top1 = [p.department for p in predictions]
    top3_hit = [
        row["department"] in [code for code, _p in p.top3] for row, p in zip(rows, predictions, strict=True)
    ]
    labels = sorted(set(expected) | set(top1) | set(getattr(model, "departments", [])))
    index = {code: i for i, code in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for e, p in zip(expected, top1, strict=True):
        matrix[index[e]][index[p]] += 1
    per_department = {}
    for code in labels:
        i = index[code]
        support = sum(matrix[i])
        chosen = sum(matrix[r][i] for r in range(len(labels)))
        hits = matrix[i][i]
        per_department[code] = {
            "support": support,
            "recall": round(hits / support, 4) if support else None,
            "precision": round(hits / chosen, 4) if chosen else None,
            "top3_recall": (
                round(sum(h for h, e in zip(top3_hit, expected, strict=True) if e == code) / support, 4)
                if support
                else None
            ),
        }
    auto = [
        (p.confidence >= threshold, e == p.department) for e, p in zip(expected, predictions, strict=True)
    ]
    dispatched = [right for above, right in auto if above]
    topic_rows = [
        (row["topic"], p.topic) for row, p in zip(rows, predictions, strict=True) if row.get("topic")
    ]
    total = len(rows)
    confusions = Counter((e, p) for e, p in zip(expected, top1, strict=True) if e != p)
    return {
        "total": total,
        "top1": round(sum(e == p for e, p in zip(expected, top1, strict=True)) / total, 4) if total else None,
        "top3": round(sum(top3_hit) / total, 4) if total else None,
        "topic_accuracy": (
            round(sum(e == p for e, p in topic_rows) / len(topic_rows), 4) if topic_rows else None
        ),
        "threshold": threshold,
        "auto_dispatch_coverage": round(len(dispatched) / total, 4) if total else None,
        "auto_dispatch_precision": round(sum(dispatched) / len(dispatched), 4) if dispatched else None,
        "auto_dispatched": len(dispatched),
        "per_department": per_department,
        "labels": labels,
        "confusion_matrix": matrix,
        "confusions": [{"expected": e, "predicted": p, "count": n} for (e, p), n in confusions.most_common()],
    }


def report_lines(report: dict) -> list[str]:
    """``measure``'s report as text: the headline figures, a line per department and the confusion matrix."""
    lines = [
        f"{report['total']} tickets: top-1 {report['top1']:.4f}, top-3 {report['top3']:.4f}, "
        f"topic {report['topic_accuracy'] or 0:.4f}; auto-dispatch at {report['threshold']:.3f}: "
        f"coverage {report['auto_dispatch_coverage']:.4f}, precision {report['auto_dispatch_precision'] or 0:.4f} "
        f"({report['auto_dispatched']} tickets)",
        f"{'department':<22}{'support':>8}{'recall':>8}{'precis.':>8}{'top-3':>8}",
    ]
    for code, figures in report["per_department"].items():
        lines.append(
            f"{code:<22}{figures['support']:>8}{_fmt(figures['recall'])}{_fmt(figures['precision'])}"
            f"{_fmt(figures['top3_recall'])}"
        )
    labels = report["labels"]
    short = [code[:5] for code in labels]
    lines.append("confusion matrix (rows expected, columns predicted):")
    lines.append(" " * 22 + "".join(f"{s:>6}" for s in short))
    for code, row in zip(labels, report["confusion_matrix"], strict=True):
        lines.append(f"{code:<22}" + "".join(f"{n:>6}" if n else f"{'.':>6}" for n in row))
    return lines


def _fmt(value):
    return f"{value:>8.3f}" if value is not None else f"{'-':>8}"
