"""The tables of the dashboards, the exports and the monthly report, built once from the selectors' sums.

A table has a key (its export name), a title, column headings and rows of plain values (text, numbers, None for
no data), in the active language: the page, the CSV/Excel export and the PDF show the same table.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tongban.evaluation.models import Rating

from . import formulas, selectors
from .selectors import Filters


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    description: str = ""
    row_codes: list = field(default_factory=list)  # the district codes of the districts table, for the maps


def _name(obj) -> str:
    if obj is None:
        return _("Not assigned")
    return getattr(obj, "name", str(obj))


def national_table(c: dict, snapshot: dict) -> Table:
    values = formulas.national(c, snapshot)
    return Table(
        "national",
        _("The five indicators of the national survey"),
        [_("Indicator"), _("Value (0–100)")],
        [[str(label), values[key]] for key, label in formulas.NATIONAL],
        _("Computed from the platform's records; docs/indicators.md gives each formula."),
    )


def trend_table(f: Filters) -> Table:
    grain, rows = selectors.trend(f)
    table = Table(
        "trend",
        _("Trend by day") if grain == "day" else _("Trend by month"),
        [
            _("Day") if grain == "day" else _("Month"),
            _("Cases submitted"),
            _("Cases completed"),
            _("Completed in time (%)"),
            _("Hotline tickets"),
            str(formulas.NATIONAL[0][1]),
            str(formulas.NATIONAL[1][1]),
        ],
        description=_(
            "The two national indicators that follow the day's work; the other three follow the catalogue "
            "(see the tables by department and the reform measures' versions)."
        ),
    )
    for period, c in rows:
        table.rows.append(
            [
                period.isoformat() if grain == "day" else f"{period:%Y-%m}",
                c["cases_submitted"],
                c["cases_completed"],
                formulas.ratio(c["completed_on_time"], c["cases_completed"]),
                c.get("tickets", 0),
                formulas.online_effectiveness(c),
                formulas.online_maturity(c),
            ]
        )
    return table


def _ranked(rows: list[tuple[str, dict]]) -> list[list]:
    """(name, the five indicators) ranked by online service effectiveness, highest first (no data last), as
    rows of the name (the row's heading), the rank (equal values share one) and the five."""
    rows = sorted(
        rows, key=lambda r: (r[1]["online_effectiveness"] is None, -(r[1]["online_effectiveness"] or 0))
    )
    result, rank, previous = [], 0, object()
    for position, (name, values) in enumerate(rows, start=1):
        value = values["online_effectiveness"]
        if value != previous:
            rank, previous = position, value
        result.append(
            [name, rank if value is not None else None, *(values[key] for key, _l in formulas.NATIONAL)]
        )
    return result


def _national_columns(first: str) -> list[str]:
    return [first, _("Rank"), *(str(label) for _k, label in formulas.NATIONAL)]


def national_departments_table(f: Filters, rows: list[dict] | None = None) -> Table:
    """The five indicators of each department: its cases and ratings, and its own published catalogue."""
    rows = selectors.by_department(f) if rows is None else rows
    snapshots = selectors.snapshots_by_department(f)
    table = Table(
        "national_departments",
        _("The five indicators by department"),
        _national_columns(_("Department")),
        description=_(
            "Each department's cases and ratings, and its own published catalogue (a district branch publishes "
            "none: its catalogue figures are those of its municipal department's row). Ranked by online service "
            "effectiveness."
        ),
    )
    named = [
        (_name(row["department"]), formulas.national(row["counters"], snapshots.get(row["department"].pk)))
        for row in rows
        if row["department"] is not None
    ]
    table.rows = _ranked(named)
    return table


def national_districts_table(
    f: Filters, rows: list[dict] | None = None, snapshot: dict | None = None
) -> Table:
    """The five indicators of each district: its cases and ratings, and the city's catalogue."""
    rows = selectors.by_district(f) if rows is None else rows
    snapshot = selectors.snapshot(f) if snapshot is None else snapshot
    table = Table(
        "national_districts",
        _("The five indicators by district"),
        _national_columns(_("District")),
        description=_(
            "Each district's cases and ratings. Every published item can be applied for in every district "
            "(全市通办), so the catalogue figures (channels offered, coverage, guides) are the catalogue's in "
            "view. Ranked by online service effectiveness."
        ),
    )
    codes = {}
    named = []
    for row in rows:
        if row["district"] is None:
            continue
        name = _district_name(row["district"])
        codes[name] = row["district"].code
        named.append((name, formulas.national(row["counters"], snapshot)))
    table.rows = _ranked(named)
    table.row_codes = [codes[r[0]] for r in table.rows]
    return table


def department_table(f: Filters, groups=None, *, rows: list[dict] | None = None) -> Table:
    table = Table(
        "departments",
        _("Departments"),
        [
            _("Department"),
            _("Cases submitted"),
            _("Cases completed"),
            _("Completed in time (%)"),
            str(formulas.NATIONAL[0][1]),
            str(formulas.NATIONAL[1][1]),
            _("Satisfied ratings (%)"),
            _("Yellow warnings"),
            _("Red cards"),
            _("Hotline replies"),
        ],
    )
    rows = selectors.by_department(f, groups) if rows is None else list(rows)
    rows.sort(key=lambda r: (-r["counters"]["cases_submitted"], -r["counters"].get("tickets_replied", 0)))
    for row in rows:
        c = row["counters"]
        table.rows.append(
            [
                _name(row["department"]),
                c["cases_submitted"],
                c["cases_completed"],
                formulas.ratio(c["completed_on_time"], c["cases_completed"]),
                formulas.online_effectiveness(c),
                formulas.online_maturity(c),
                formulas.ratio(c.get("ratings_4", 0) + c.get("ratings_5", 0), c.get("ratings", 0)),
                c.get("warnings_yellow", 0),
                c.get("warnings_red", 0),
                c.get("tickets_replied", 0),
            ]
        )
    return table


def district_table(f: Filters, groups=None, *, rows: list[dict] | None = None) -> Table:
    table = Table(
        "districts",
        _("Districts"),
        [
            _("District"),
            _("Cases submitted"),
            _("Completed in time (%)"),
            _("Warnings"),
            _("Hotline tickets"),
            _("First-contact resolution (%)"),
        ],
    )
    rows = selectors.by_district(f, groups) if rows is None else list(rows)
    rows.sort(key=lambda r: r["district"].code if r["district"] else "")
    for row in rows:
        c = row["counters"]
        table.row_codes.append(row["district"].code if row["district"] else "")
        table.rows.append(
            [
                _name(row["district"]) if row["district"] is None else _district_name(row["district"]),
                c["cases_submitted"],
                formulas.ratio(c["completed_on_time"], c["cases_completed"]),
                c["warnings_yellow"] + c["warnings_red"],
                c["tickets"],
                formulas.ratio(c["tickets_first_contact"], c["tickets"]),
            ]
        )
    return table


def _district_name(unit) -> str:
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    return unit.name_en if english and unit.name_en else unit.name


def service_table(f: Filters, *, limit: int | None = 50) -> Table:
    table = Table(
        "services",
        _("Reform measures by service"),
        [
            _("Service"),
            _("Cases completed"),
            _("Legal limit (working days)"),
            _("Promised limit (working days)"),
            _("Actual (working days)"),
            _("Time saved against the legal limit (%)"),
            _("Visits per case"),
            _("Materials per case"),
            _("Materials obtained from data (%)"),
            _("Steps per case"),
        ],
        description=_("Averages over the cases completed in the period."),
    )
    rows = selectors.by_service(f)
    rows.sort(key=lambda r: -r["counters"]["cases_completed"])
    if limit and len(rows) > limit:
        table.description = _(
            "Averages over the cases completed in the period. The %(limit)s services with the most completed "
            "cases of %(count)s; the export holds every one."
        ) % {"limit": limit, "count": len(rows)}
    for row in rows[:limit] if limit else rows:
        m = formulas.reform(row["counters"])
        table.rows.append(
            [
                row["name"],
                m["completed"],
                m["legal_days"],
                m["promised_days"],
                m["actual_days"],
                m["time_saved_pct"],
                m["visits"],
                m["materials"],
                m["materials_from_data_pct"],
                m["steps"],
            ]
        )
    return table


def ratings_table(c: dict) -> Table:
    r = formulas.ratings(c)
    table = Table(
        "ratings",
        _("Ratings (好差评) by level"),
        [_("Level"), _("Ratings"), _("Share (%)")],
        description=_("Satisfied ratings online: %(online)s %%; at a window: %(window)s %%.")
        % {"online": _fmt(r["online_good_pct"]), "window": _fmt(r["window_good_pct"])},
    )
    for level in reversed(Rating.Level):
        table.rows.append([str(level.label), r["counts"][level.value], r["levels"][level.value]])
    return table


def _fmt(value) -> str:
    return "—" if value is None else f"{value}"


def figures_table(key: str, title: str, rows) -> Table:
    return Table(key, title, [_("Figure"), pgettext("figure", "Value")], [list(r) for r in rows])


def hotline_table(c: dict) -> Table:
    h = formulas.hotline(c)
    return figures_table(
        "hotline",
        _("12345 hotline"),
        [
            (_("Tickets"), h["tickets"]),
            (_("First-contact resolution (%)"), h["first_contact_pct"]),
            (_("Replies in time (%)"), h["replied_on_time_pct"]),
            (_("Satisfaction at call-back (1–5)"), h["satisfaction"]),
            (_("Reopened after closing (%)"), h["reopen_pct"]),
            (_("Duplicates merged"), h["merged"]),
        ],
    )


def rectification_table(c: dict) -> Table:
    r = formulas.ratings(c)
    return figures_table(
        "rectifications",
        _("Rectifications of bad ratings"),
        [
            (_("Opened"), r["rectifications_opened"]),
            (_("Closed"), r["rectifications_closed"]),
            (_("Closed in time (%)"), r["rectification_on_time_pct"]),
        ],
    )


def proactive_table(f: Filters) -> Table:
    table = Table(
        "proactive",
        _("Proactive services"),
        [
            _("Rule"),
            _("Offers made"),
            _("Accepted"),
            _("Declined"),
            _("Granted without application"),
            _("Days from event to offer"),
        ],
    )
    for row in selectors.proactive_by_rule(f):
        p = formulas.proactive(row["counters"])
        table.rows.append(
            [row["name"], p["offers"], p["accepted"], p["declined"], p["granted"], p["lead_days"]]
        )
    return table


def _change(after, before):
    """``after − before`` (None when either is unknown), rounded as the measures are."""
    if after is None or before is None:
        return None
    return round(after - before, 2)


def version_changes_table(code: str, entries: list[dict] | None = None) -> Table:
    """减时间 / 减材料 / 减环节 / 减跑动: each version against the one before it, in the catalogue and as measured on
    the cases completed while each held (a negative number is a reduction)."""
    entries = selectors.service_versions(code) if entries is None else entries
    table = Table(
        "version_changes",
        _("What each change of the service reduced"),
        [
            _("Version"),
            _("Valid from"),
            _("Promised limit, change (working days)"),
            _("Actual, change (working days)"),
            _("Materials asked, change"),
            _("Materials obtained from data, change"),
            _("Steps, change"),
            _("Visits required, change"),
            _("Visits per case, change"),
        ],
        description=_(
            "减时间 · 减材料 · 减环节 · 减跑动: each version against the one before it; a negative number is a "
            "reduction. The measured changes compare the cases completed while each version held."
        ),
    )
    for previous, entry in itertools.pairwise(entries):
        v, p = entry["version"], previous["version"]
        m, pm = entry["measured"], previous["measured"]
        table.rows.append(
            [
                v.number,
                v.valid_from.isoformat(),
                _change(v.promised_limit_days, p.promised_limit_days),
                _change(m["actual_days"], pm["actual_days"]),
                _change(v.materials, p.materials),
                _change(v.materials_from_data, p.materials_from_data),
                _change(v.steps, p.steps),
                _change(v.visits_required, p.visits_required),
                _change(m["visits"], pm["visits"]),
            ]
        )
    return table


def versions_table(code: str, entries: list[dict] | None = None) -> Table:
    table = Table(
        "versions",
        _("Before and after each change of the service"),
        [
            _("Version"),
            _("Valid from"),
            _("Legal limit (working days)"),
            _("Promised limit (working days)"),
            _("Visits required"),
            _("Materials asked"),
            _("Materials obtained from data"),
            _("Steps"),
            _("Cases completed"),
            _("Actual (working days)"),
            _("Visits per case"),
            _("Materials per case"),
        ],
        description=_(
            "Each version's catalogue values, and what the cases completed while it held measured."
        ),
    )
    for entry in selectors.service_versions(code) if entries is None else entries:
        v, m = entry["version"], entry["measured"]
        table.rows.append(
            [
                v.number,
                v.valid_from.isoformat(),
                v.legal_limit_days,
                v.promised_limit_days,
                v.visits_required,
                v.materials,
                v.materials_from_data,
                v.steps,
                m["completed"],
                m["actual_days"],
                m["visits"],
                m["materials"],
            ]
        )
    return table


# The services a page shows (the most completed first); an export holds every one.
PAGE_SERVICES = 50


def reform_tables(f: Filters, *, every: bool = False) -> dict[str, Table]:
    """The reform measures page: by service (``PAGE_SERVICES`` of them, or ``every`` one for an export), and a
    chosen service's versions."""
    result = {"services": service_table(f, limit=None if every else PAGE_SERVICES)}
    if f.service:
        entries = selectors.service_versions(f.service)
        result["versions"] = versions_table(f.service, entries)
        result["version_changes"] = version_changes_table(f.service, entries)
    return result


def staff_tables(f: Filters, *, reform: bool = True, every: bool = False) -> dict[str, Table]:
    """Every table of the staff pages for the filters (the dashboard leaves the reform measures to their page:
    summing every service's rows is the dearest read)."""
    full = selectors.stat_totals(f)  # the department × district rows, from the slabs kept in memory
    c = selectors.totals(f) if f.service else full
    snapshot = selectors.snapshot(f)
    departments = selectors.by_department(f)
    districts = selectors.by_district(f)
    tables = [
        national_table(c, snapshot),
        trend_table(f),
        department_table(f, rows=departments),
        national_departments_table(f, departments),
        district_table(f, rows=districts),
        national_districts_table(f, districts, snapshot),
        ratings_table(full),
        rectification_table(full),
        hotline_table(full),
        proactive_table(f),
    ]
    result = {t.key: t for t in tables}
    if reform:
        result.update(reform_tables(f, every=every))
    return result


def public_tables(start: dt.date, end: dt.date) -> dict[str, Table]:
    """The open-data tables: city-wide aggregates only."""
    f = Filters(start=start, end=end)
    c = selectors.stat_totals(f)
    tables = [
        national_table(c, selectors.snapshot(f)),
        district_table(f),
        service_table(f, limit=None),
        ratings_table(c),
        hotline_table(c),
    ]
    return {t.key: t for t in tables}


def _cell_html(value) -> str:
    return "—" if value is None else str(value)


def table_html(table: Table, *, export_url: str = "", query: str = "") -> SafeString:
    """The table as accessible HTML (a caption, column headings, the first cell of a row as its heading), with
    its CSV and Excel links when ``export_url`` (the export path up to the table's name) is given. Built here
    rather than in a template loop, by joining escaped strings (``format_html`` per cell cost more than the sums
    behind the table): the dashboard shows a few thousand cells."""
    suffix = f"?{query}" if query else ""
    links = ""
    if export_url:
        links = format_html(
            ' <span class="ms-2">{} <a href="{}">CSV</a> · <a href="{}">Excel</a></span>',
            _("Download:"),
            f"{export_url}{table.key}.csv{suffix}",
            f"{export_url}{table.key}.xlsx{suffix}",
        )
    caption = format_html(
        "{}{}{}", table.title, format_html(" — {}", table.description) if table.description else "", links
    )
    end = ' class="text-end"'
    head = "".join(
        f'<th scope="col"{end if i else ""}>{conditional_escape(c)}</th>' for i, c in enumerate(table.columns)
    )
    if table.rows:
        body = "".join(
            f'<tr><th scope="row">{conditional_escape(_cell_html(row[0]))}</th>'
            + "".join(f'<td class="text-end">{conditional_escape(_cell_html(v))}</td>' for v in row[1:])
            + "</tr>"
            for row in table.rows
        )
    else:
        body = format_html(
            '<tr><td colspan="{}">{}</td></tr>', len(table.columns), _("No data in this period.")
        )
    return format_html(
        '<div class="table-responsive"><table class="table tb-table table-sm align-middle" data-table="{}">'
        "<caption>{}</caption><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>",
        table.key,
        caption,
        mark_safe(head),  # noqa: S308 - every cell escaped above
        mark_safe(body),  # noqa: S308 - every cell escaped above
    )
