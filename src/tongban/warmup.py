"""Warm a web process before its first visitor: no page should pay a cold start users can feel.

Measured on the demo city (docs/performance.md): in a fresh process the first blind-spots view took 7–16 s
(the knowledge search of some 90 sample questions, cached per text for six hours), the first 12345 web ticket
about 3 s (loading the routing model and the word segmenter) and the first login about 1 s (templates, URL
patterns, the first queries); the indicators dashboard's first requests read a year of aggregate rows into
memory (``indicators.sums.warm``: ``TONGBAN_INDICATORS_WARM_DAYS``). ``warm_up`` pays those once, in a
background thread of each web process started by ``tongban.wsgi`` (``TONGBAN_WARMUP=0`` turns it off), and again
just after each midnight, when the blind spots' sample questions change with the day. The worker warms the shared cache too when there is one (Redis), by the
hotline's hourly task. Each step is independent: one that fails is logged and the others still run.

A top-level module like ``urls``: it reaches every app, so no app imports it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

logger = logging.getLogger(__name__)

WARM_TEXT = "我家楼下的路灯坏了好几天了，晚上很黑，请尽快修理"


def _templates() -> int:
    """Compile every template once (the cached loader keeps them), so no first page pays for parsing."""
    from pathlib import Path

    from django.conf import settings
    from django.template import engines
    from django.template.loader import get_template

    count = 0
    roots = [Path(d) for d in settings.TEMPLATES[0].get("DIRS", [])]
    for engine in engines.all():
        for loader in getattr(engine.engine, "template_loaders", []):
            for inner in getattr(loader, "loaders", [loader]):
                roots += [Path(d) for d in inner.get_dirs()]
    seen = set()
    for root in roots:
        for path in root.rglob("*.html"):
            name = path.relative_to(root).as_posix()
            if name in seen or name.startswith("admin/"):
                continue
            seen.add(name)
            try:
                get_template(name)
                count += 1
            except Exception:  # a template that needs a missing library is only not warmed
                logger.debug("warm-up: template %s not compiled", name, exc_info=True)
    return count


def _urls() -> None:
    from django.urls import get_resolver, reverse

    get_resolver()._populate()
    reverse("portal:home")


def _pdf_font() -> None:
    from tongban.core.pdf_fonts import cjk_font

    cjk_font()


def _routing() -> None:
    from tongban.hotline.routing import classify

    classify([WARM_TEXT], districts=[""])


def _knowledge() -> None:
    from tongban.hotline.selectors import knowledge_for

    knowledge_for(WARM_TEXT)


def blind_spots_warm(today: dt.date | None = None) -> int:
    """Compute the blind spots of every period the page offers, filling the knowledge cache of their samples."""
    from tongban.hotline import analytics
    from tongban.hotline.views_analytics import DAY_CHOICES

    return sum(len(analytics.blind_spots(days=days, today=today)) for days in DAY_CHOICES)


def _indicators() -> dict:
    from tongban.indicators.sums import warm

    return warm()


STEPS = (
    ("urls", _urls),
    ("templates", _templates),
    ("pdf font", _pdf_font),
    ("routing model", _routing),
    ("knowledge search", _knowledge),
    ("blind spots", blind_spots_warm),
    ("indicators", _indicators),
)


def warm_up(steps=STEPS) -> dict[str, float]:
    """Run each warm-up step; return the seconds each took (a failed step is logged and skipped)."""
    timings = {}
    for name, step in steps:
        started = time.perf_counter()
        try:
            step()
        except Exception:  # warming is best effort: the page computes what was not warmed
            logger.warning("warm-up step %s failed", name, exc_info=True)
            continue
        timings[name] = round(time.perf_counter() - started, 3)
    logger.info("warm-up done: %s", timings)
    return timings


def freeze_heap() -> int:
    """Collect, then move every object alive into the collector's permanent generation (``gc.freeze``): the
    modules, templates, models and caches a warmed process keeps for its life are never scanned again by a full
    collection. Measured on the indicators dashboard (docs/performance.md): a full collection of a warmed process
    took 320–410 ms, the requests it fell in were the page's p99; after the freeze 2–18 ms. What a request
    allocates is collected as before (what a request running at the moment of the freeze holds is frozen with
    the rest: a one-time, bounded cost). Returns how many objects were frozen."""
    import gc

    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _seconds_to_next_midnight() -> float:
    from django.utils import timezone

    from tongban.core.calendar import SHANGHAI

    now = timezone.now().astimezone(SHANGHAI)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0, 1), tzinfo=SHANGHAI)
    return max((midnight - now).total_seconds(), 60.0)


def _run() -> None:
    from django.db import connections

    warm_up()
    connections.close_all()  # this thread's connections, which no request reuses
    freeze_heap()
    while True:
        time.sleep(_seconds_to_next_midnight())
        warm_up(steps=(("blind spots", blind_spots_warm),))
        connections.close_all()


def start_in_background() -> threading.Thread:
    """Warm this process in a daemon thread (it never delays start-up, nor a shutdown)."""
    thread = threading.Thread(target=_run, name="tongban-warmup", daemon=True)
    thread.start()
    return thread
