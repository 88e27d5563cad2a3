"""Pages of the hotline's analytics: the supervisor's overview (warnings, spikes, hotspot charts) and the
blind spots for the service designers.

The charts are drawn on the server: a line chart as inline SVG (coordinates computed here, no script), bars
with Bootstrap's progress bars as on the supervision pages; each has a data table beside it.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from tongban.core import calendar
from tongban.identity.permissions import has_permission, staff_required

from . import analytics

DAY_CHOICES = (7, 30, 90)
# Okabe–Ito colours (told apart with colour-blindness) and a dash pattern each, so lines differ without colour.
LINE_STYLES = (
    ("#0072B2", ""),
    ("#D55E00", "6 3"),
    ("#009E73", "2 3"),
    ("#CC79A7", "8 3 2 3"),
    ("#E69F00", "4 4"),
)


def _days(value) -> int:
    """The period asked for, one of ``DAY_CHOICES``; anything else gives the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return analytics.HOTSPOT_DAYS
    return days if days in DAY_CHOICES else analytics.HOTSPOT_DAYS


def _tick_step(peak: int) -> int:
    """The step of four grid lines covering ``peak``: the smallest of 1, 2, 5 × 10^k at or above peak / 4."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if 4 * factor * step >= peak:
                return factor * step
        step *= 10


def line_chart(series: dict, *, width: int = 720, height: int = 260) -> dict:
    """Coordinates of an SVG line chart of ``hotspots()["series"]``: one polyline a topic, four horizontal grid
    lines with their values, about seven day labels. Numbers are formatted here, so that no locale touches them.
    """
    left, right, top, bottom = 44, width - 20, 12, height - 28
    days = series["days"]
    lines = series["topics"]
    peak = max((max(line["counts"]) for line in lines if line["counts"]), default=0)
    tick = _tick_step(peak)
    y_max = 4 * tick

    def x(index):
        if len(days) <= 1:
            return (left + right) / 2
        return left + index * (right - left) / (len(days) - 1)

    def y(value):
        return bottom - value * (bottom - top) / y_max

    step = max(1, round(len(days) / 7))
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": right,
        "bottom": bottom,
        "label_x": left - 6,
        "label_y": height - 8,
        "y_ticks": [
            {"value": tick * i, "y": f"{y(tick * i):.1f}", "label_y": f"{y(tick * i) + 4:.1f}"}
            for i in range(5)
        ],
        "x_ticks": [
            {"x": f"{x(i):.1f}", "label": f"{day:%m-%d}"}
            for i, day in enumerate(days)
            # every step-th day and the last, which takes the place of a step-th day too close to it
            if (i % step == 0 and len(days) - 1 - i >= step / 2) or i == len(days) - 1
        ],
        "lines": [
            {
                "topic": line["topic"],
                "label": line["label"],
                "total": line["total"],
                "color": LINE_STYLES[i % len(LINE_STYLES)][0],
                "dash": LINE_STYLES[i % len(LINE_STYLES)][1],
                "points": " ".join(f"{x(j):.1f},{y(n):.1f}" for j, n in enumerate(line["counts"])),
            }
            for i, line in enumerate(lines)
        ],
        "rows": [{"day": day, "counts": [line["counts"][i] for line in lines]} for i, day in enumerate(days)],
    }


def bars(rows: list[dict], *, limit: int | None = None) -> list[dict]:
    """Rows with a ``count``, each given its ``name`` (a topic's label) and its bar width (``pct`` of the
    largest, as text for the style)."""
    rows = rows[:limit] if limit else rows
    peak = max((row["count"] for row in rows), default=0) or 1
    return [
        {**row, "name": row.get("label") or row.get("name"), "pct": f"{100 * row['count'] / peak:.1f}"}
        for row in rows
    ]


@staff_required(permission="supervision.view")
@require_GET
def overview(request):
    """The supervisor's overview: open tickets and their warnings now, spikes, hotspots over the period."""
    days = _days(request.GET.get("days"))
    scope = analytics.analytics_scope(request.user)
    today = calendar.today()
    hot = analytics.hotspots(days=days, today=today, departments=scope)
    context = {
        "days": days,
        "day_choices": DAY_CHOICES,
        "today": today,
        "city_wide": scope is None,
        "watch": analytics.ticket_watch(departments=scope),
        "attention": analytics.tickets_needing_attention(departments=scope),
        "spikes": analytics.spikes_recent(today=today, departments=scope),
        "spike_days": analytics.SPIKE_RECENT_DAYS,
        "hot": hot,
        "chart": line_chart(hot["series"]),
        "topic_bars": bars(hot["topics"], limit=10),
        # Tickets without a department or district are said in a line, not drawn: they would dwarf the bars.
        "department_bars": bars([row for row in hot["departments"] if row["department"]]),
        "district_bars": bars([row for row in hot["districts"] if row["district"]]),
        "no_department": sum(row["count"] for row in hot["departments"] if not row["department"]),
        "no_district": sum(row["count"] for row in hot["districts"] if not row["district"]),
        "show_blind_spots": has_permission(request.user, "evaluation.view"),
    }
    return render(request, "hotline/overview.html", context)


@staff_required(permission="evaluation.view")
@require_GET
@vary_on_headers("HX-Request")
def blind_spots(request):
    """Topics with many consultations that the knowledge base does not answer, or answers unclearly.

    For the service designers (``evaluation.view``: designers, supervisors, department heads); city-wide, as
    the topics are about the knowledge base, not about a department's tickets. The overview loads it with htmx.
    """
    days = _days(request.GET.get("days"))
    context = {
        "days": days,
        "day_choices": DAY_CHOICES,
        "rows": analytics.blind_spots(days=days),
        "min_consultations": analytics.MIN_CONSULTATIONS,
        "unclear_pct": round(100 * analytics.UNCLEAR_SHARE),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "hotline/_blind_spots.html" if partial else "hotline/blind_spots.html"
    return render(request, template, context)
