"""The indicators as formulas over summed counters (docs/indicators.md states each one in words).

Every function takes a mapping of counter sums (``models.STAT_COUNTERS``; a missing name counts 0) and returns a
percentage rounded to one decimal, an average, or None when its denominator is 0 (no data is not 0 %).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def ratio(part, whole, scale=100.0):
    return round(scale * part / whole, 1) if whole else None


def average(total, count):
    return round(total / count, 2) if count else None


def _mean(*values):
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def _g(c, name):
    return c.get(name) or 0


# --- the five national indicators ------------------------------------------------------------------------


def online_effectiveness(c) -> float | None:
    """在线服务成效度: the mean of uptake (share of cases submitted online), results (share completed within
    the promised limit) and quality (share of ratings satisfied or very satisfied)."""
    return _mean(
        ratio(_g(c, "cases_online"), _g(c, "cases_submitted")),
        ratio(_g(c, "completed_on_time"), _g(c, "cases_completed")),
        ratio(_g(c, "ratings_4") + _g(c, "ratings_5"), _g(c, "ratings")),
    )


def online_maturity(c) -> float | None:
    """在线办理成熟度: the mean of the share of cases submitted for a fully online service (全程网办) and the share
    of completed cases that needed no visit to a counter."""
    return _mean(
        ratio(_g(c, "cases_full_online_item"), _g(c, "cases_submitted")),
        ratio(_g(c, "completed_no_visit"), _g(c, "cases_completed")),
    )


HANDLING_MODES = 3  # online, at a window, by post


def channel_completeness(c, snapshot=None) -> float | None:
    """服务方式完备度: the mean of the channels offered per case (handling modes of the service applied for, out of
    three) and the share of published items offered online and in at least one other way."""
    snapshot = snapshot or {}
    return _mean(
        ratio(_g(c, "item_modes_sum"), HANDLING_MODES * _g(c, "cases_submitted")),
        ratio(_g(snapshot, "items_multi_channel"), _g(snapshot, "items_published")),
    )


def item_coverage(snapshot) -> float | None:
    """服务事项覆盖度: the share of published items that can be applied for online (online depth 3 or 4)."""
    snapshot = snapshot or {}
    return ratio(_g(snapshot, "items_online_apply"), _g(snapshot, "items_published"))


def guide_accuracy(c, snapshot=None) -> float | None:
    """办事指南准确度: the mean of the online raters' guide-accuracy score (out of 5), the share of completed cases
    that needed no supplement (the guide said everything), and the share of published items whose guide is
    complete (legal basis, conditions, procedure, place and phone)."""
    snapshot = snapshot or {}
    score = average(_g(c, "guide_score_sum"), _g(c, "guide_score_count"))
    completed = _g(c, "cases_completed")
    return _mean(
        round(score * 20, 1) if score is not None else None,
        ratio(completed - _g(c, "completed_supplemented"), completed),
        ratio(_g(snapshot, "items_guide_complete"), _g(snapshot, "items_published")),
    )


NATIONAL = (
    ("online_effectiveness", _("Online service effectiveness")),
    ("online_maturity", _("Online handling maturity")),
    ("channel_completeness", _("Completeness of service channels")),
    ("item_coverage", _("Coverage of service items")),
    ("guide_accuracy", _("Accuracy of service guides")),
)


def national(c, snapshot=None) -> dict:
    """The five indicators (0–100) from counter sums ``c`` and a catalogue snapshot."""
    return {
        "online_effectiveness": online_effectiveness(c),
        "online_maturity": online_maturity(c),
        "channel_completeness": channel_completeness(c, snapshot),
        "item_coverage": item_coverage(snapshot),
        "guide_accuracy": guide_accuracy(c, snapshot),
    }


# --- reform measures, ratings, hotline, proactive ---------------------------------------------------------


def reform(c) -> dict:
    """减时间 / 减材料 / 减环节 / 减跑动 over completed cases: averages and the reductions they make."""
    completed = _g(c, "cases_completed")
    legal = average(_g(c, "legal_days_sum"), completed)
    actual = average(_g(c, "working_days_sum"), completed)
    return {
        "completed": completed,
        "legal_days": legal,
        "promised_days": average(_g(c, "promised_days_sum"), completed),
        "actual_days": actual,
        "time_saved_pct": ratio(_g(c, "legal_days_sum") - _g(c, "working_days_sum"), _g(c, "legal_days_sum")),
        "visits": average(_g(c, "visits_sum"), completed),
        "no_visit_pct": ratio(_g(c, "completed_no_visit"), completed),
        "materials": average(_g(c, "materials_sum"), completed),
        "materials_from_data_pct": ratio(_g(c, "materials_data_sum"), _g(c, "materials_sum")),
        "steps": average(_g(c, "steps_sum"), completed),
        "on_time_pct": ratio(_g(c, "completed_on_time"), completed),
    }


def ratings(c) -> dict:
    total = _g(c, "ratings")
    return {
        "ratings": total,
        "levels": {level: ratio(_g(c, f"ratings_{level}"), total) for level in range(1, 6)},
        "counts": {level: _g(c, f"ratings_{level}") for level in range(1, 6)},
        "good_pct": ratio(_g(c, "ratings_4") + _g(c, "ratings_5"), total),
        "bad_pct": ratio(_g(c, "ratings_1") + _g(c, "ratings_2"), total),
        "online_good_pct": ratio(_g(c, "ratings_online_good"), _g(c, "ratings_online")),
        "window_good_pct": ratio(_g(c, "ratings_window_good"), _g(c, "ratings_window")),
        "rectifications_opened": _g(c, "rectifications_opened"),
        "rectifications_closed": _g(c, "rectifications_closed"),
        "rectification_on_time_pct": ratio(
            _g(c, "rectifications_closed_on_time"), _g(c, "rectifications_closed")
        ),
    }


def hotline(c) -> dict:
    return {
        "tickets": _g(c, "tickets"),
        "first_contact_pct": ratio(_g(c, "tickets_first_contact"), _g(c, "tickets")),
        "replied": _g(c, "tickets_replied"),
        "replied_on_time_pct": ratio(_g(c, "tickets_replied_on_time"), _g(c, "tickets_replied")),
        "satisfaction": average(_g(c, "satisfaction_sum"), _g(c, "satisfaction_count")),
        "reopen_pct": ratio(_g(c, "tickets_reopened"), _g(c, "tickets_closed")),
        "merged": _g(c, "tickets_merged"),
    }


def proactive(c) -> dict:
    offered = _g(c, "offers_offered")
    return {
        "offers": _g(c, "offers"),
        "notified": _g(c, "offers_notified"),
        "offered": offered,
        "granted": _g(c, "offers_granted"),
        "accepted": _g(c, "offers_accepted"),
        "declined": _g(c, "offers_declined"),
        "accepted_pct": ratio(_g(c, "offers_accepted"), offered),
        "declined_pct": ratio(_g(c, "offers_declined"), offered),
        "lead_days": average(_g(c, "lead_days_sum"), _g(c, "lead_count")),
    }
