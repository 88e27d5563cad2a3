"""Chinese full-text tokens for the catalogue search (jieba, search-engine mode).

Items and bundles store their tokens in ``search_text``: lowercase, space-separated, each token once.
A query is cut the same way; see ``selectors.catalog_search`` for how tokens are matched.
jieba loads its dictionary (shipped inside the package) on first use, about half a second.
"""

import logging
import threading
import unicodedata

_lock = threading.Lock()
_jieba = None

# Words that say nothing about which service is meant ("how do I apply for ...").
STOP_WORDS = frozenset(
    {
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "在",
        "是",
        "我",
        "要",
        "想",
        "请",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "哪里",
        "办理",
        "申请",
        "需要",
        "什么",
        "the",
        "a",
        "an",
        "of",
        "for",
        "and",
        "to",
        "how",
        "apply",
    }
)


def _cutter():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def _is_punctuation_or_space(token: str) -> bool:
    return all(unicodedata.category(ch)[0] in {"P", "S", "Z", "C"} for ch in token)


def tokenize(text: str) -> list[str]:
    """The lowercase search tokens of ``text`` in order, without blanks and punctuation, each once."""
    if not text:
        return []
    seen = {}
    for raw in _cutter().lcut_for_search(text):
        token = raw.strip().lower()
        if not token or _is_punctuation_or_space(token):
            continue
        seen.setdefault(token, None)
    return list(seen)


def search_text(*parts: str) -> str:
    """The ``search_text`` value for the given texts."""
    tokens = {}
    for part in parts:
        for token in tokenize(part or ""):
            tokens.setdefault(token, None)
    return " ".join(tokens)


def query_tokens(query: str) -> list[str]:
    """The tokens a query must match: stop words dropped (unless nothing else is left), and compound words
    dropped when a shorter token of the query lies inside them (``出生证明`` when ``出生`` is there), so that
    "all tokens" asks for the finest pieces, which indexing produced too."""
    tokens = tokenize((query or "").replace("\x00", ""))
    meaningful = [t for t in tokens if t not in STOP_WORDS]
    tokens = meaningful or tokens
    return [t for t in tokens if not any(other != t and other in t for other in tokens)]
