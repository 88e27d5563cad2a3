"""What a 12345 centre knows besides its past tickets: each department's responsibilities (三定职责 / 权责清单),
the objects callers name for each topic, and topic → department rules that depend on the object named (a
compound's drain vs the road's) and, for some, on the district.

``data/knowledge.json`` holds them; the routing model uses them three ways:

- **training rows** (``knowledge_rows``): every duty and every object as a short labelled text, so that words
  the template corpus never uses still point to their department and topic;
- **keyword features** (``KnowledgeMatches``, a transformer in the model's ``FeatureUnion``): how many objects
  of each department and of each topic a text names;
- **rules** (``rule_bonus``): a rule whose object groups all match (and whose district, if it names some,
  is the ticket's) adds ``RULE_BONUS`` to its department's score before the softmax; a rule with a ``penalty``
  subtracts it instead (a sink department's words without its objects).

The catalogue's service items and the FAQ entries, when a database is at hand, add their names and questions as
training rows too (``catalogue_rows``), and the dispatchers' corrections come in through the corrections source.
"""

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, TransformerMixin

KNOWLEDGE_PATH = Path(__file__).resolve().parent / "data" / "knowledge.json"
# Log-odds added to a department's score when one of its rules matches (chosen on the validation split).
RULE_BONUS = 2.0
# A knowledge row weighs this many corpus rows.
KNOWLEDGE_WEIGHT = 1.0


@lru_cache(maxsize=1)
def knowledge_load(path=KNOWLEDGE_PATH) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def knowledge_rows(knowledge=None) -> list[dict]:
    """Training rows from the responsibilities: each duty (department only) and each object (department and
    topic), and each topic's objects four at a time (words that come together)."""
    knowledge = knowledge or knowledge_load()
    rows = []
    for code, department in knowledge["departments"].items():
        for duty in department["duties"]:
            rows.append({"text": duty, "department": code, "topic": "", "weight": KNOWLEDGE_WEIGHT})
        for topic, objects in department["topics"].items():
            for word in objects:
                rows.append({"text": word, "department": code, "topic": topic, "weight": KNOWLEDGE_WEIGHT})
            for start in range(0, len(objects), 4):
                rows.append(
                    {
                        "text": " ".join(objects[start : start + 4]),
                        "department": code,
                        "topic": topic,
                        "weight": KNOWLEDGE_WEIGHT,
                    }
                )
    return rows


def catalogue_rows() -> list[dict]:
    """The catalogue's service items (name → department) and the active FAQ entries (question and keywords →
    department), when the database holds any; [] without a database."""
    from tongban.catalog.models import ServiceItem

    rows = []
    departments = set(knowledge_load()["departments"])
    try:
        for name, code in ServiceItem.objects.values_list("name_zh", "department__code"):
            base = _base_code(code, departments)
            if base and name:
                rows.append({"text": name, "department": base, "topic": ""})
        from .models import FaqEntry

        for question, keywords, code in FaqEntry.objects.filter(active=True).values_list(
            "question", "keywords", "department"
        ):
            base = _base_code(code, departments)
            if base:
                rows.append({"text": f"{question} {keywords}".strip(), "department": base, "topic": ""})
    except Exception:
        return []
    return rows


def _base_code(code, departments):
    """``"urban-management-310101"`` → ``"urban-management"`` when that is a routing department."""
    if not code:
        return ""
    for candidate in (code, code.rsplit("-", 1)[0]):
        if candidate in departments:
            return candidate
    return ""


class KnowledgeMatches(TransformerMixin, BaseEstimator):
    """How many objects of each department and each topic a text names (``log1p`` of the counts), as sparse
    columns beside the TF-IDF ones. Fitted from the knowledge file; longest objects match first."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def fit(self, texts=None, y=None):
        knowledge = knowledge_load()
        self.departments_ = sorted(knowledge["departments"])
        self.topics_ = sorted({t for d in knowledge["departments"].values() for t in d["topics"]})
        owner = {}
        for code, department in knowledge["departments"].items():
            for topic, objects in department["topics"].items():
                for word in objects:
                    owner.setdefault(
                        word,
                        (self.departments_.index(code), len(self.departments_) + self.topics_.index(topic)),
                    )
        self.owner_ = owner
        words = sorted(owner, key=len, reverse=True)
        self.pattern_ = re.compile("|".join(re.escape(w) for w in words))
        return self

    def transform(self, texts):
        indptr, indices, data = [0], [], []
        width = len(self.departments_) + len(self.topics_)
        for text in texts:
            counts = {}
            for match in self.pattern_.finditer(text or ""):
                for column in self.owner_[match.group()]:
                    counts[column] = counts.get(column, 0) + 1
            for column, count in counts.items():
                indices.append(column)
                data.append(self.scale * float(np.log1p(count)))
            indptr.append(len(indices))
        return csr_matrix((data, indices, indptr), shape=(len(texts), width), dtype=np.float64)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"dept:{c}" for c in self.departments_] + [f"topic:{t}" for t in self.topics_])


@lru_cache(maxsize=1)
def _matcher():
    return KnowledgeMatches().fit()


def objects_in(text: str) -> set[str]:
    """The responsibilities' objects a text names (窨井盖, 烧烤, 油烟 ...), longest first, without overlaps."""
    return set(_matcher().pattern_.findall(text or ""))


def _compile_rules(knowledge=None):
    knowledge = knowledge or knowledge_load()
    return [
        {
            "all": [tuple(group) for group in rule["all"]],
            "none": tuple(rule.get("none", ())),
            "districts": frozenset(rule.get("districts", ())),
            "department": rule["department"],
            "topic": rule.get("topic", ""),
            "penalty": float(rule.get("penalty", 0.0)),
        }
        for rule in knowledge["rules"]
    ]


@lru_cache(maxsize=1)
def rules() -> tuple:
    return tuple(_compile_rules())


def rules_matching(text: str, district: str = "") -> list[dict]:
    """The rules whose object groups all match ``text`` (one word of each group), that name none of their
    excluded words, and whose districts (if any) include ``district``."""
    found = []
    for rule in rules():
        if rule["districts"] and district not in rule["districts"]:
            continue
        if any(word in text for word in rule["none"]):
            continue
        if all(any(word in text for word in group) for group in rule["all"]):
            found.append(rule)
    return found


def rule_bonus(texts, classes, districts=None, bonus=None):
    """A ``len(texts)`` × ``len(classes)`` array: ``bonus`` (default ``RULE_BONUS``) for each department one of
    whose rules matches, minus the ``penalty`` of each matching penalty rule (a department that callers' words
    draw tickets to without its objects being named: public security for 晚上/吵/报警)."""
    bonus = RULE_BONUS if bonus is None else bonus
    index = {code: i for i, code in enumerate(classes)}
    result = np.zeros((len(texts), len(classes)))
    districts = districts or [""] * len(texts)
    for row, (text, district) in enumerate(zip(texts, districts, strict=True)):
        penalties = []
        for rule in rules_matching(text or "", district or ""):
            column = index.get(rule["department"])
            if column is None:
                continue
            if rule["penalty"]:
                penalties.append((column, rule["penalty"]))
            else:
                result[row, column] = bonus
        for column, penalty in penalties:
            result[row, column] -= penalty
    return result
