"""Indicator pages: the leaders' and supervisors' dashboard, its exports, the monthly reports, and open data.

Thin views: parse the filters, ask the selectors (through ``tables``), draw the charts, render. Who sees what is
``selectors.filters_for``: a department head only their own department (another one is refused with 403).
"""

from __future__ import annotations

import datetime as dt
import time

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tongban.catalog.models import Bundle, PublicationStatus, ServiceItem
from tongban.core import calendar
from tongban.identity.models import AdminUnit, Department
from tongban.identity.permissions import staff_required

from . import charts, exports, selectors, tables

MAX_DAYS = 3 * 366
FORMATS = {"csv", "xlsx"}


SERVICE_MENU_SECONDS = 60
_service_menus: dict = {}  # (scope, language) -> (expires, {code: label}, html)


def service_menu(scope, language: str) -> tuple[dict, str]:
    """The published services a user may filter by ({code: name}) and the menu's options, kept a minute per scope,
    language and state of the catalogue in this process: a city's catalogue has thousands of items."""
    key = (scope, language, selectors.catalogue_version())
    cached = _service_menus.get(key)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1], cached[2]
    items = ServiceItem.objects.exclude(status=PublicationStatus.DRAFT)
    bundles = Bundle.objects.exclude(status=PublicationStatus.DRAFT)
    if scope is not None:
        items = items.filter(department_id__in=scope)
        bundles = bundles.filter(lead_department_id__in=scope)
    english = language.startswith("en")
    labels = {
        code: (name_en if english and name_en else name_zh)
        for query in (bundles, items)
        for code, name_zh, name_en in query.order_by("code").values_list("code", "name_zh", "name_en")
    }
    html = "".join(
        f'<option value="{escape(code)}">{escape(label)}</option>' for code, label in labels.items()
    )
    if len(_service_menus) > 100:
        _service_menus.clear()
    _service_menus[key] = (now + SERVICE_MENU_SECONDS, labels, html)
    return labels, html


class FilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To"), required=False)
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.none(),
        to_field_name="code",
        required=False,
    )
    district = forms.ModelChoiceField(
        label=gettext_lazy("District"),
        queryset=AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT).order_by("code"),
        to_field_name="code",
        required=False,
    )
    service = forms.CharField(label=gettext_lazy("Service"), required=False, max_length=64)

    def __init__(self, *args, scope=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.order_by("code")
        self.scope = scope
        self.services, self._menu = service_menu(scope, get_language() or "")

    def clean_service(self):
        code = self.cleaned_data["service"].strip()
        if code and code not in self.services:
            raise forms.ValidationError(_("Choose a published service of the departments you may see."))
        return code

    def service_options(self, chosen: str):
        """The service menu's options (the cached list, with the chosen one marked)."""
        html = f'<option value="">{escape(_("All services"))}</option>' + self._menu
        if chosen in self.services:
            mark = f'<option value="{escape(chosen)}">'
            html = html.replace(mark, f'<option value="{escape(chosen)}" selected>', 1)
        return mark_safe(html)  # noqa: S308 - built from escaped codes and names

    def clean(self):
        data = super().clean()
        today = calendar.today()
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=29)
        if start > end:
            self.add_error("start", _("The first day comes after the last one."))
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("start", _("Choose a period of at most three years."))
        data["start"], data["end"] = start, end
        return data

    def department_choices(self):
        """The departments the menu offers: those in the user's scope."""
        query = self.fields["department"].queryset
        return query if self.scope is None else query.filter(pk__in=self.scope)

    def department_options(self, chosen) -> str:
        """The department menu's options, the chosen department marked (built here: a city has hundreds of
        departments, and a template loop over them cost more than the dashboard's sums)."""
        english = (get_language() or "").startswith("en")
        html = [f'<option value="">{escape(_("All departments I may see"))}</option>']
        for code, name_zh, name_en in self.department_choices().values_list("code", "name_zh", "name_en"):
            mark = " selected" if chosen is not None and chosen.code == code else ""
            html.append(
                f'<option value="{escape(code)}"{mark}>{escape(name_en if english else name_zh)}</option>'
            )
        return mark_safe("".join(html))  # noqa: S308 - built from escaped codes and names


def _filters(request):
    """(form, Filters) from the query; Filters is None when the form is invalid. Raises PermissionDenied."""
    scope = selectors.scope_for(request.user)
    form = FilterForm(request.GET, scope=scope)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, selectors.filters_for(
        request.user,
        start=data["start"],
        end=data["end"],
        department=data["department"],
        district=data["district"],
        service=data["service"],
    )


def _district_names() -> dict:
    english = (get_language() or "").startswith("en")
    return {
        u.code: (u.name_en if english and u.name_en else u.name)
        for u in AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT)
    }


def _charts(all_tables: dict) -> dict:
    """The SVG charts of the dashboard, each drawn from one of the tables (shown beside it)."""
    result = {}
    trend = all_tables["trend"]
    result["trend"] = charts.line_chart(
        "chart-trend",
        [r[0] for r in trend.rows],
        [(trend.columns[1], [r[1] for r in trend.rows]), (trend.columns[2], [r[2] for r in trend.rows])],
        title=trend.title,
        desc=_("Cases submitted and completed in each period; the table below lists the figures."),
    )
    departments = all_tables["departments"]
    top = departments.rows[:15]
    result["departments"] = charts.bar_chart(
        "chart-departments",
        [(r[0], r[1]) for r in top],
        title=_("Departments ranked by cases submitted"),
        desc=_("The %(n)s departments with the most cases submitted in the period, most first.")
        % {"n": len(top)},
    )
    ranked = sorted((r for r in departments.rows if r[3] is not None), key=lambda r: -r[3])[:15]
    result["departments_on_time"] = charts.bar_chart(
        "chart-departments-on-time",
        [(r[0], r[3]) for r in ranked],
        title=_("Departments ranked by cases completed in time"),
        desc=_("The share of completed cases finished within the promised limit, highest first."),
        unit="%",
    )
    ranked_districts = [r for r in all_tables["national_districts"].rows if r[2] is not None]
    result["districts_ranked"] = charts.bar_chart(
        "chart-districts-ranked",
        [(r[0], r[2]) for r in ranked_districts],
        title=_("Districts ranked by online service effectiveness"),
        desc=_(
            "Each district's online service effectiveness (0–100), highest first; the table lists all five."
        ),
        unit="",
    )
    ranked_departments = [r for r in all_tables["national_departments"].rows if r[2] is not None][:15]
    result["departments_effectiveness"] = charts.bar_chart(
        "chart-departments-effectiveness",
        [(r[0], r[2]) for r in ranked_departments],
        title=_("Departments ranked by online service effectiveness"),
        desc=_("The %(n)s departments with the highest online service effectiveness (0–100).")
        % {"n": len(ranked_departments)},
        unit="",
    )
    names = _district_names()
    by_code = {}
    for row in selectors_rows_by_district(all_tables):
        by_code[row[0]] = row
    for key, column, label in (
        ("map_cases", 1, _("Cases submitted by district")),
        ("map_warnings", 3, _("Warnings by district")),
        ("map_tickets", 4, _("Hotline demand by district")),
    ):
        values = {code: row[column] for code, row in by_code.items()}
        result[key] = charts.district_map(
            f"chart-{key}",
            values,
            title=label,
            desc=_(
                "A map of Shanghai's 16 districts, darker where the figure is higher; the districts table lists it."
            ),
            names=names,
        )
    ratings = all_tables["ratings"]
    result["ratings"] = charts.bar_chart(
        "chart-ratings",
        [(r[0], r[1]) for r in ratings.rows],
        title=ratings.title,
        desc=_("How many ratings of each level were given in the period."),
    )
    return result


def selectors_rows_by_district(all_tables: dict):
    """The districts table's rows keyed by district code (the table keeps the code in ``row_codes``)."""
    table = all_tables["districts"]
    return [(code, *row[1:]) for code, row in zip(getattr(table, "row_codes", []), table.rows, strict=False)]


@require_GET
@staff_required(permission="evaluation.view")
def dashboard(request):
    """The leaders' and supervisors' dashboard: indicators, trends, rankings and the district maps."""
    form, f = _filters(request)
    context = {
        "form": form,
        "department_options": form.department_options(f.department if f else None),
        "service_options": form.service_options(f.service if f else request.GET.get("service", "")),
        "section": "dashboard",
    }
    if f is None:
        return render(request, "indicators/dashboard.html", context, status=400)
    all_tables = tables.staff_tables(f, reform=False)
    query = request.GET.urlencode()
    export_url = reverse("indicators:dashboard") + "export/"
    context.update(
        {
            "filters": f,
            "tables": all_tables,
            "html": {
                k: tables.table_html(t, export_url=export_url, query=query) for k, t in all_tables.items()
            },
            "charts": _charts(all_tables),
            "query": query,
            "can_read_reports": f.departments is None,
        }
    )
    return render(request, "indicators/dashboard.html", context)


@require_GET
@staff_required(permission="evaluation.view")
def reform(request):
    """Reform measures (减时间、减材料、减环节、减跑动) by service, and a chosen service's versions before and after."""
    form, f = _filters(request)
    context = {
        "form": form,
        "department_options": form.department_options(f.department if f else None),
        "service_options": form.service_options(f.service if f else request.GET.get("service", "")),
        "section": "reform",
    }
    if f is None:
        return render(request, "indicators/reform.html", context, status=400)
    query = request.GET.urlencode()
    export_url = reverse("indicators:dashboard") + "export/"
    all_tables = tables.reform_tables(f)
    context.update(
        {
            "filters": f,
            "tables": all_tables,
            "html": {
                k: tables.table_html(t, export_url=export_url, query=query) for k, t in all_tables.items()
            },
            "query": query,
            "can_read_reports": f.departments is None,
        }
    )
    return render(request, "indicators/reform.html", context)


def _file(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _export(all_tables: dict, table: str, fmt: str, prefix: str) -> HttpResponse:
    if fmt not in FORMATS or (table != "all" and table not in all_tables):
        raise Http404
    if fmt == "csv":
        if table == "all":
            raise Http404
        return _file(exports.table_csv(all_tables[table]), exports.CSV_TYPE, f"{prefix}-{table}.csv")
    chosen = all_tables.values() if table == "all" else [all_tables[table]]
    return _file(exports.tables_xlsx(chosen), exports.XLSX_TYPE, f"{prefix}-{table}.xlsx")


@require_GET
@staff_required(permission="evaluation.view")
def export(request, table, fmt):
    """A table of the dashboard (or ``all`` of them, as Excel) for the same filters."""
    form, f = _filters(request)
    if f is None:
        return HttpResponse(form.errors.as_json(), status=400, content_type="application/json")
    return _export(tables.staff_tables(f, every=True), table, fmt, f"indicators-{f.start}-{f.end}")


def _city_wide(request):
    if selectors.scope_for(request.user) is not None:
        raise PermissionDenied(
            _("The monthly reports cover every department: supervisors and designers read them.")
        )


@require_GET
@staff_required(permission="evaluation.view")
def reports(request):
    _city_wide(request)
    return render(
        request, "indicators/reports.html", {"reports": selectors.reports_list(), "section": "reports"}
    )


@require_GET
@staff_required(permission="evaluation.view")
def report_download(request, year, month):
    _city_wide(request)
    try:
        first = dt.date(year, month, 1)
    except ValueError:
        raise Http404 from None
    report = selectors.report_get(first)
    if report is None or not report.file:
        raise Http404
    return FileResponse(
        report.file.open("rb"), as_attachment=True, filename=f"tongban-report-{first:%Y-%m}.pdf"
    )


# --- open data -----------------------------------------------------------------------------------------


class MonthForm(forms.Form):
    month = forms.RegexField(regex=r"^\d{4}-(0[1-9]|1[0-2])$", required=False, label=gettext_lazy("Month"))


def _month(request):
    form = MonthForm(request.GET)
    if not form.is_valid():
        return form, None, None
    value = form.cleaned_data["month"]
    today = calendar.today()
    if value:
        start = dt.date(int(value[:4]), int(value[5:]), 1)
    else:
        start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    end = min((start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1), today)
    if start > today:
        form.add_error("month", _("That month has not begun."))
        return form, None, None
    return form, start, end


@require_GET
def open_data(request):
    """公开数据: the city's headline indicators for a month, by district and by service; no personal data."""
    form, start, end = _month(request)
    if start is None:
        return render(request, "indicators/open_data.html", {"form": form}, status=400)
    all_tables = tables.public_tables(start, end)
    names = _district_names()
    districts = selectors_rows_by_district(all_tables)
    context = {
        "form": form,
        "start": start,
        "end": end,
        "month": f"{start:%Y-%m}",
        "tables": all_tables,
        "html": {
            k: tables.table_html(
                t, export_url=reverse("open_data:home") + "export/", query=f"month={start:%Y-%m}"
            )
            for k, t in all_tables.items()
        },
        "headline": selectors.indicators_headline(start, end),
        "map": charts.district_map(
            "chart-open-map",
            {row[0]: row[1] for row in districts},
            title=_("Cases submitted by district"),
            desc=_(
                "A map of Shanghai's 16 districts, darker where more cases were submitted; the table lists them."
            ),
            names=names,
        ),
    }
    return render(request, "indicators/open_data.html", context)


@require_GET
def open_data_export(request, table, fmt):
    form, start, end = _month(request)
    if start is None:
        return HttpResponse(form.errors.as_json(), status=400, content_type="application/json")
    return _export(tables.public_tables(start, end), table, fmt, f"tongban-open-data-{start:%Y-%m}")
