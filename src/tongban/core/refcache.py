"""Reference data read on every case step, kept per process for a short while.

Departments and licence types change a few times a year and are read on every step of every case. A function
decorated with ``reference_cached(Model, ...)`` keeps its answers per arguments for ``ttl`` seconds: a save or a
delete of one of those models in this process forgets them at once (``post_save``/``post_delete``), and other
processes see a change within ``ttl``. Only answers that found something are kept (a missing row is asked again).
Tests forget everything between tests (``reference_caches_clear``), since their rollbacks send no signal.
"""

from __future__ import annotations

import time
from functools import wraps

from django.db.models.signals import post_delete, post_save

_caches: list[dict] = []
DEFAULT_TTL = 60.0


def reference_caches_clear() -> None:
    """Forget every cached answer of this process."""
    for cache in _caches:
        cache.clear()


def reference_cached(*models, ttl: float = DEFAULT_TTL):
    def decorator(function):
        cache: dict = {}
        _caches.append(cache)

        def forget(**kwargs):
            cache.clear()

        for model in models:
            post_save.connect(forget, sender=model, weak=False)
            post_delete.connect(forget, sender=model, weak=False)

        @wraps(function)
        def wrapped(*args):
            now = time.monotonic()
            hit = cache.get(args)
            if hit is not None and hit[0] > now:
                return hit[1]
            value = function(*args)
            if value:
                cache[args] = (now + ttl, value)
            return value

        wrapped.cache_clear = cache.clear
        return wrapped

    return decorator
