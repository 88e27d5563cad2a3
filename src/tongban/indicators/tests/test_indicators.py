"""Indicators: the formulas on a small day worked out by hand, incremental rows equal to recomputed ones, who may
read what, the exports, the monthly PDF and the catalogue's versions."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from tongban.cases.models import Case, CaseMaterial, SupplementRequest
from tongban.catalog import services as catalog_services
from tongban.catalog.tests.factories import ServiceItemFactory
from tongban.core import calendar
from tongban.core.audit import SYSTEM
from tongban.evaluation.models import Rating
from tongban.hotline.models import Ticket, TicketStep
from tongban.identity.models import AdminUnit
from tongban.identity.tests.factories import PersonFactory, StaffFactory, UserFactory, department
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.indicators import charts, formulas, selectors, tables
from tongban.indicators.compute import catalog_snapshot, days_recompute, indicators_refresh
from tongban.indicators.models import (
    CASE_COUNTERS,
    OTHER_COUNTERS,
    PROACTIVE_COUNTERS,
    STAT_COUNTERS,
    MonthlyReport,
    ProactiveStat,
    ServiceStat,
    ServiceVersion,
    Stat,
)
from tongban.indicators.selectors import Filters, indicators_headline
from tongban.indicators.tasks import monthly_report_due
from tongban.proactive.models import LifeEvent, Offer, ProactiveRule
from tongban.supervision.models import Rectification, Warning

D = dt.date(2026, 11, 10)
XUHUI = "310104"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=calendar.SHANGHAI)


class City:
    """A small city: two items of the health department, a person, and helpers that write raw records."""

    def __init__(self):
        self.health = department("health")
        self.tax = department("tax")
        self.xuhui = AdminUnit.objects.get(code=XUHUI)
        self.item_a = ServiceItemFactory(
            handling_modes=["online", "window"],
            online_depth=4,
            conditions="年满十八周岁",
            procedure="申请\n受理\n审核\n办结",
            location="徐汇区行政服务中心",
            phone="021-12345",
        )
        self.item_b = ServiceItemFactory(handling_modes=["online"], online_depth=3)
        self.person = PersonFactory(name="测试居民甲")
        self.rater = UserFactory()
        self.count = 0

    def case(self, *, item=None, channel="online", submitted, closed=None, status=None, **fields):
        self.count += 1
        values = {
            "number": f"T{self.count:06d}",
            "item": item or self.item_a,
            "title": "测试办件",
            "applicant_person": self.person,
            "applicant_name": self.person.name,
            "channel": channel,
            "lead_department": self.health,
            "jurisdiction_district": self.xuhui,
            "status": status or (Case.Status.COMPLETED if closed else Case.Status.ACCEPTED),
            "promised_limit_days": 5,
            "legal_limit_days": 20,
            "submitted_at": at(submitted),
            "closed_at": at(closed, 16) if closed else None,
        }
        values.update(fields)
        return Case.objects.create(**values)

    def materials(self, case, *origins):
        for index, origin in enumerate(origins):
            CaseMaterial.objects.create(
                case=case, item_code=case.item.code, code=f"m{index}", name="材料", origin=origin
            )

    def rating(self, case, level, channel, day, scores=None):
        rating = Rating.objects.create(
            case_id=case.pk,
            case_number=case.number,
            department=self.health,
            level=level,
            channel=channel,
            scores=scores or {},
            rated_by=self.rater,
        )
        Rating.objects.filter(pk=rating.pk).update(created_at=at(day, 17))
        return rating

    def ticket(self, day, status, **fields):
        self.count += 1
        ticket = Ticket.objects.create(
            number=f"H{self.count:06d}",
            channel=Ticket.Channel.PHONE,
            ticket_type=Ticket.Type.COMPLAINT,
            status=status,
            text="路灯不亮",
            district=self.xuhui,
            due_date=day + dt.timedelta(days=7),
            **{"department": self.health, **fields},
        )
        Ticket.objects.filter(pk=ticket.pk).update(created_at=at(day, 9))
        return ticket

    def step(self, ticket, kind, day):
        TicketStep.objects.create(ticket=ticket, at=at(day, 15), kind=kind, department=self.health)


@pytest.fixture
def small_city(city):
    return City()


def write_day(c: City):
    """The records of day D (and two cases submitted before it) whose indicators are worked out by hand below."""
    c1 = c.case(submitted=D, closed=D, due_date=D + dt.timedelta(days=5), working_days=3, visits=0, steps=4)
    c.materials(c1, CaseMaterial.Origin.REGISTRY, CaseMaterial.Origin.UPLOAD)
    c2 = c.case(
        channel="window",
        submitted=D,
        closed=D,
        due_date=D - dt.timedelta(days=1),
        working_days=7,
        paused_working_days=1,
        visits=1,
        steps=6,
    )
    c.materials(c2, CaseMaterial.Origin.UPLOAD)
    SupplementRequest.objects.create(case=c2, department=c.health, requested_by="审核员")
    c.case(item=c.item_b, submitted=D)  # open
    c.case(
        submitted=D - dt.timedelta(days=3),
        closed=D,
        status=Case.Status.REJECTED,
        lead_department=c.tax,
        jurisdiction_district=None,
    )
    r1 = c.rating(c1, 5, "online", D, {"guide_accuracy": 4, "efficiency": 5})
    r2 = c.rating(c2, 2, "window", D)
    Rectification.objects.create(
        case_id=c2.pk,
        case_number=c2.number,
        rating_id=r2.pk,
        department=c.health,
        due_date=D + dt.timedelta(days=5),
        status=Rectification.Status.CLOSED,
        closed_at=at(D, 18),
    )
    Warning.objects.create(
        subject_type="case",
        subject_id=c2.pk,
        case_id=c2.pk,
        case_number=c2.number,
        department=c.health,
        level="yellow",
        raised_at=at(D, 8),
    )
    c.ticket(D, Ticket.Status.ANSWERED)
    t2 = c.ticket(D, Ticket.Status.CLOSED, satisfaction=4, closed_at=at(D, 19))
    c.step(t2, "replied", D)
    Warning.objects.create(
        subject_type="ticket",
        subject_id=t2.pk,
        case_number=t2.number,
        department=c.health,
        level="red",
        raised_at=at(D, 8),
    )
    t3 = c.ticket(D, Ticket.Status.REOPENED)
    c.step(t3, "reopened", D)
    t4 = c.ticket(D, Ticket.Status.MERGED)
    c.step(t4, "merged", D)
    rule = ProactiveRule.objects.create(
        code="test-newborn",
        name_zh="新生儿一件事",
        trigger="birth_registered",
        action="offer",
        topic="proactive",
        template="offer",
        service="newborn",
    )
    event = LifeEvent.objects.create(
        person=c.person, kind="birth_registered", key="b1", occurred_on=D - dt.timedelta(days=2)
    )
    offer = Offer.objects.create(
        rule=rule,
        person=c.person,
        life_event=event,
        occurrence=str(event.pk),
        action="offer",
        status=Offer.Status.ACCEPTED,
        decided_at=at(D, 20),
    )
    Offer.objects.filter(pk=offer.pk).update(created_at=at(D, 7))
    return r1


def test_counter_lists_match_the_model_fields():
    """Every counter named in the lists is a field of its rows, and only those (one list, one source)."""
    stat_fields = {f.name for f in Stat._meta.fields} - {"id", "grain", "period", "department", "district"}
    assert stat_fields == set(CASE_COUNTERS) | set(OTHER_COUNTERS)
    service_fields = {f.name for f in ServiceStat._meta.fields}
    assert set(CASE_COUNTERS) <= service_fields
    assert set(PROACTIVE_COUNTERS) <= {f.name for f in ProactiveStat._meta.fields}


def test_each_indicator_of_a_small_day_is_what_the_hand_computation_says(small_city):
    write_day(small_city)
    catalog_snapshot(D)
    days_recompute(D - dt.timedelta(days=3), D)
    h = indicators_headline(D, D)
    # Uptake 2 of 3 submitted online (66.7), 1 of 2 completed in time (50), 1 of 2 ratings satisfied (50).
    assert h["online_effectiveness"] == pytest.approx((66.7 + 50 + 50) / 3, abs=0.05)
    # 2 of 3 submitted for a fully online item (66.7); 1 of 2 completed without a visit (50).
    assert h["online_maturity"] == pytest.approx((66.7 + 50) / 2, abs=0.05)
    # Handling modes 2 + 2 + 1 of 3 x 3 (55.6); 1 of 2 published items online and another way (50).
    assert h["channel_completeness"] == pytest.approx((55.6 + 50) / 2, abs=0.05)
    # Both published items can be applied for online.
    assert h["item_coverage"] == 100.0
    # Guide score 4/5 (80); 1 of 2 completed without a supplement (50); 1 of 2 guides complete (50).
    assert h["guide_accuracy"] == pytest.approx(60.0, abs=0.05)
    # Reform: legal 20, promised 5, actual (3 + (7 - 1)) / 2, visits 1/2, materials 3/2 with 1 of 3 from data.
    assert h["reform_legal_days"] == 20
    assert h["reform_promised_days"] == 5
    assert h["reform_actual_days"] == 4.5
    assert h["reform_time_saved_pct"] == 77.5
    assert h["reform_visits"] == 0.5
    assert h["reform_materials"] == 1.5
    assert h["reform_materials_from_data_pct"] == 33.3
    assert h["reform_steps"] == 5
    assert h["cases_submitted"] == 3
    assert h["cases_completed"] == 2
    assert h["ratings"] == 2
    assert h["ratings_good_pct"] == 50.0
    assert h["ratings_bad_pct"] == 50.0
    assert h["rectification_on_time_pct"] == 100.0
    assert h["warnings_yellow"] == 1
    assert h["warnings_red"] == 1
    # Hotline: 4 tickets, 1 answered at first contact; 1 reply, in time; satisfaction 4; 1 reopened of 1 closed.
    assert h["hotline_tickets"] == 4
    assert h["hotline_first_contact_pct"] == 25.0
    assert h["hotline_replied_on_time_pct"] == 100.0
    assert h["hotline_satisfaction"] == 4.0
    assert h["hotline_reopen_pct"] == 100.0
    assert h["hotline_merged"] == 1
    # Proactive: one offer, accepted, two days after the birth.
    assert h["proactive_offers"] == 1
    assert h["proactive_accepted"] == 1
    assert h["proactive_accepted_pct"] == 100.0
    assert h["proactive_lead_days"] == 2.0
    # Per department: the refusal belongs to tax, the rest to health.
    f = Filters(start=D, end=D)
    by_dep = {row["department"].code: row["counters"] for row in selectors.by_department(f)}
    assert by_dep["tax"]["cases_refused"] == 1
    assert by_dep["health"]["cases_submitted"] == 3
    # Per item: item A had both completed cases.
    by_item = {row["code"]: row["counters"] for row in selectors.by_service(f)}
    assert by_item[small_city.item_a.code]["cases_completed"] == 2
    assert by_item[small_city.item_b.code]["cases_submitted"] == 1


def _rows():
    result = {}
    for model in (Stat, ServiceStat, ProactiveStat):
        fields = [f.name for f in model._meta.fields if f.name not in ("id",)]
        values = sorted(
            tuple(str(v) for v in row)
            for row in model.objects.values_list(
                *[f if f not in ("department", "district") else f + "_id" for f in fields]
            )
        )
        result[model.__name__] = values
    return result


def test_the_workers_incremental_rows_equal_a_recomputation(small_city):
    """Records written day by day across a month's end, the worker refreshing each day, equal the recomputation."""
    c = small_city
    days = [dt.date(2026, 10, 30) + dt.timedelta(days=i) for i in range(4)]  # 30 Oct .. 2 Nov
    first = c.case(submitted=days[0])
    waiting = c.ticket(days[0], Ticket.Status.DISPATCHING, department=None)
    indicators_refresh(today=days[0])
    c.ticket(days[1], Ticket.Status.ANSWERED)
    second = c.case(channel="window", submitted=days[1])
    indicators_refresh(today=days[1])
    Case.objects.filter(pk=first.pk).update(
        status=Case.Status.COMPLETED, closed_at=at(days[2]), working_days=2, due_date=days[2]
    )
    c.rating(first, 4, "online", days[2], {"guide_accuracy": 5})
    indicators_refresh(today=days[2])
    Case.objects.filter(pk=second.pk).update(status=Case.Status.WITHDRAWN, closed_at=at(days[3]))
    Ticket.objects.filter(pk=waiting.pk).update(
        department=c.tax, status=Ticket.Status.DISPATCHED
    )  # days later
    t = c.ticket(days[3], Ticket.Status.CLOSED, satisfaction=2, closed_at=at(days[3], 20))
    c.step(t, "replied", days[3])
    indicators_refresh(today=days[3])
    incremental = _rows()
    assert incremental["Stat"], "the worker wrote rows"
    Stat.objects.all().delete()
    ServiceStat.objects.all().delete()
    ProactiveStat.objects.all().delete()
    call_command(
        "indicators",
        "recompute",
        "--from",
        "2026-10-29",
        "--to",
        "2026-11-02",
        "--quiet",
        stdout=io.StringIO(),
    )
    assert _rows() == incremental
    # The month rows are the sums of the day rows: October and November each hold one completed or withdrawn case.
    f = Filters(start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 30))
    assert selectors.totals(f)["cases_submitted"] == 2
    assert selectors.totals(f)["cases_withdrawn"] == 1
    # November read up to the 15th: no day row after it, so its month row stands for its days, with equal sums.
    days_only = Stat.objects.filter(
        grain="d", period__gte=dt.date(2026, 11, 1), period__lte=dt.date(2026, 11, 15)
    )
    for name in ("tickets", "cases_withdrawn", "satisfaction_sum"):
        expected = sum(days_only.values_list(name, flat=True))
        assert (
            selectors.totals(Filters(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 15)))[name] == expected
        )
    assert "period__in" in str(selectors.period_q(dt.date(2026, 11, 1), dt.date(2026, 11, 15)))
    # Up to the 1st only, the 2nd's row lies after the end: the days are read.
    assert "period__in" not in str(selectors.period_q(dt.date(2026, 11, 1), dt.date(2026, 11, 1)))


def _staff(roles, dep):
    return StaffFactory(roles=roles, department=dep).user


def _get(client, name, **query):
    return client.get(reverse(name), query)


def test_a_department_head_sees_only_their_department_and_a_citizen_none(small_city, client, citizen):
    write_day(small_city)
    days_recompute(D, D)
    head = _staff(["dept_head"], small_city.health)
    login_with_second_factor(client, head)
    response = _get(client, "indicators:dashboard", start=D.isoformat(), end=D.isoformat())
    assert response.status_code == 200
    departments = [row[0] for row in response.context["tables"]["departments"].rows]
    assert departments == [small_city.health.name]
    assert _get(client, "indicators:dashboard", department="tax").status_code == 403
    assert _get(client, "indicators:reports").status_code == 403
    supervisor = _staff(["supervisor"], small_city.health)
    login_with_second_factor(client, supervisor)
    response = _get(client, "indicators:dashboard", start=D.isoformat(), end=D.isoformat())
    names = {row[0] for row in response.context["tables"]["departments"].rows}
    assert names == {small_city.health.name, small_city.tax.name}
    assert _get(client, "indicators:dashboard", department="tax").status_code == 200
    assert b'role="img"' in response.content and b'data-district="310104"' in response.content
    client.logout()
    assert _get(client, "indicators:dashboard").status_code == 302  # to the login page
    client.force_login(citizen)
    assert _get(client, "indicators:dashboard").status_code == 403


def test_bad_filters_are_a_400_with_the_fields_message(small_city, client):
    login_with_second_factor(client, _staff(["supervisor"], small_city.health))
    response = _get(client, "indicators:dashboard", start="2026-11-10", end="2026-11-01")
    assert response.status_code == 400
    assert "start" in response.context["form"].errors
    assert _get(client, "indicators:dashboard", start="not-a-day").status_code == 400
    assert _get(client, "indicators:dashboard", district="999999").status_code == 400
    unknown = _get(client, "indicators:dashboard", service="no-such-service")
    assert unknown.status_code == 400 and "service" in unknown.context["form"].errors
    assert client.get(reverse("open_data:home"), {"month": "2026-13"}).status_code == 400


def test_the_open_data_page_shows_totals_and_no_personal_data(small_city, client):
    write_day(small_city)
    days_recompute(D, D)
    response = client.get(reverse("open_data:home"), {"month": "2026-11"})
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["headline"]["cases_submitted"] == 3
    for personal in (
        small_city.person.name,
        small_city.person.resident_id,
        small_city.rater.username,
        "T000001",
    ):
        assert personal not in page
    csv = client.get(reverse("open_data:export", args=["districts", "csv"]), {"month": "2026-11"})
    assert csv.status_code == 200
    assert small_city.person.name not in csv.content.decode("utf-8-sig")


def test_every_table_exports_as_csv_and_excel_with_its_rows(small_city, client):
    write_day(small_city)
    days_recompute(D, D)
    login_with_second_factor(client, _staff(["supervisor"], small_city.health))
    query = {"start": D.isoformat(), "end": D.isoformat()}
    csv = client.get(reverse("indicators:export", args=["departments", "csv"]), query)
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert small_city.health.name_zh in text and small_city.tax.name_zh in text
    xlsx = client.get(reverse("indicators:export", args=["all", "xlsx"]), query)
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert {"national", "departments", "districts", "services", "hotline", "proactive"} <= set(
        workbook.sheetnames
    )
    services = [row[0] for row in workbook["services"].iter_rows(min_row=3, values_only=True)]
    assert small_city.item_a.name_zh in services
    assert client.get(reverse("indicators:export", args=["nothing", "csv"]), query).status_code == 404
    reform = client.get(reverse("indicators:reform"), {**query, "service": small_city.item_a.code})
    assert reform.status_code == 200
    assert set(reform.context["tables"]) == {"services", "versions", "version_changes"}
    assert small_city.item_a.name_zh in reform.content.decode()
    for page in (
        reform.content.decode(),
        client.get(reverse("indicators:dashboard"), query).content.decode(),
    ):
        start = page.index('<form class="row g-2')
        form = page[start : page.index("</form>", start)]  # the whole filter form
        assert all(f'name="{name}"' in form for name in ("start", "end", "department", "district", "service"))
        assert page.count("<form") == page.count("</form>")


def test_the_monthly_report_is_a_pdf_kept_and_downloadable_by_supervisors(
    small_city, client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    write_day(small_city)
    days_recompute(D, D)
    call_command("indicators", "report", "--month", "2026-11", stdout=io.StringIO())
    report = MonthlyReport.objects.get(month=dt.date(2026, 11, 1))
    assert report.file.read(5) == b"%PDF-"
    assert report.figures["headline"]["cases_submitted"] == 3
    login_with_second_factor(client, _staff(["supervisor"], small_city.health))
    response = client.get(reverse("indicators:report", args=[2026, 11]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:5] == b"%PDF-"
    assert client.get(reverse("indicators:report", args=[2026, 10])).status_code == 404


def test_the_report_falls_due_on_the_first_working_day_of_the_month(db):
    # 1 Nov 2026 is a Sunday: the report of October is due from Monday 2 November until it is written.
    assert monthly_report_due(dt.date(2026, 11, 1)) is None
    assert monthly_report_due(dt.date(2026, 11, 2)) == dt.date(2026, 10, 1)
    MonthlyReport.objects.create(month=dt.date(2026, 10, 1), file="x.pdf")
    assert monthly_report_due(dt.date(2026, 11, 3)) is None


def test_the_worker_writes_the_past_months_report_once_on_the_first_working_day(
    small_city, settings, tmp_path, monkeypatch
):
    """The worker's hourly task: nothing on Sunday 1 November; on Monday 2 November (the first working day)
    October's report written, kept and not written again an hour later."""
    from tongban.indicators.tasks import monthly_report_when_due

    settings.MEDIA_ROOT = tmp_path
    october = dt.date(2026, 10, 20)
    small_city.case(submitted=october, closed=october, working_days=2, visits=0)
    today = {"day": dt.date(2026, 11, 1)}
    monkeypatch.setattr(calendar, "today", lambda: today["day"])
    assert monthly_report_when_due.call_local() is None
    assert not MonthlyReport.objects.exists()
    days_recompute(october, october)
    today["day"] = dt.date(2026, 11, 2)
    assert monthly_report_when_due.call_local() == "2026-10-01"
    report = MonthlyReport.objects.get()
    assert report.month == dt.date(2026, 10, 1) and report.generated_by == "worker"
    assert report.file.read(5) == b"%PDF-"
    assert report.figures["headline"]["cases_submitted"] == 1
    assert monthly_report_when_due.call_local() is None  # once
    assert MonthlyReport.objects.count() == 1


def test_a_changed_item_gets_a_version_and_its_cases_are_measured_before_and_after(small_city):
    c = small_city
    catalog_snapshot(D)
    c.case(submitted=D - dt.timedelta(days=2), closed=D - dt.timedelta(days=2), working_days=6, visits=1)
    c.case(submitted=D, closed=D, working_days=4, visits=1)
    catalog_services.item_update(actor=SYSTEM, item=c.item_a, promised_limit_days=3)
    after = D + dt.timedelta(days=1)
    assert catalog_snapshot(after) == 1
    c.case(submitted=after, closed=after, working_days=2, visits=0)
    days_recompute(D - dt.timedelta(days=2), after)
    versions = selectors.service_versions(c.item_a.code)
    assert [v["version"].promised_limit_days for v in versions] == [5, 3]
    # The first version also stands for the case closed before the first snapshot: (6 + 4) / 2.
    assert versions[0]["measured"]["actual_days"] == 5 and versions[1]["measured"]["actual_days"] == 2
    assert ServiceVersion.objects.filter(service_code=c.item_a.code).count() == 2
    f = Filters(start=D, end=after, service=c.item_a.code)
    assert [row[1] for row in tables.versions_table(f.service).rows] == [D.isoformat(), after.isoformat()]
    # 减时间 / 减跑动 against the version before: the promise two days shorter, the cases 3 days faster, one
    # visit fewer a case; the materials, steps and visits required unchanged.
    (change,) = tables.version_changes_table(f.service).rows
    assert change == [2, after.isoformat(), -2, -3, 0, 0, 0, 0, -1]


def test_the_map_holds_the_sixteen_districts_and_colours_by_value():
    shapes = charts.district_shapes()["districts"]
    assert sorted(d["code"] for d in shapes) == [
        "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
        "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151",
    ]  # fmt: skip
    svg = charts.district_map("m", {"310115": 100, "310101": 1}, title="t", desc="d")
    assert svg.count("<path") == 16
    assert f'fill="{charts.SCALE[-1]}" stroke="#ffffff" stroke-width="1" data-district="310115"' in svg
    assert f'fill="{charts.NO_DATA}" stroke="#ffffff" stroke-width="1" data-district="310151"' in svg


def test_formulas_say_none_without_data_not_zero():
    assert formulas.national({}, {}) == dict.fromkeys(
        ["online_effectiveness", "online_maturity", "channel_completeness", "item_coverage", "guide_accuracy"]
    )
    assert formulas.hotline({})["first_contact_pct"] is None


def test_the_staff_menu_offers_the_dashboard_to_those_who_may_read_it(small_city, client):
    url = reverse("indicators:dashboard")
    login_with_second_factor(client, _staff(["supervisor"], small_city.health))
    assert url in client.get(reverse("workbench:home")).content.decode()
    login_with_second_factor(client, _staff(["window_clerk"], small_city.health))
    assert url not in client.get(reverse("workbench:home")).content.decode()
    assert client.get(url).status_code == 403


def test_the_dashboard_speaks_english_when_chosen(small_city, client):
    write_day(small_city)
    days_recompute(D, D)
    login_with_second_factor(client, _staff(["supervisor"], small_city.health))
    client.cookies["django_language"] = "en"
    page = client.get(reverse("indicators:dashboard"), {"start": D.isoformat(), "end": D.isoformat()}).content
    assert b"Online service effectiveness" in page and b"Health Commission" in page


def _orm_grouped(f: Filters) -> dict:
    from django.db.models import Sum

    query = Stat.objects.filter(selectors.period_q(f.start, f.end))
    if f.departments is not None:
        query = query.filter(department_id__in=f.departments)
    if f.district is not None:
        query = query.filter(district=f.district)
    rows = query.values("department_id", "district_id").annotate(**{n: Sum(n) for n in STAT_COUNTERS})
    return {(r["department_id"], r["district_id"]): {n: r[n] for n in STAT_COUNTERS} for r in rows}


def test_the_sums_kept_in_memory_equal_the_databases_and_follow_a_rewritten_day(small_city):
    """The dashboard sums the department × district rows from per-period slabs kept in the process
    (``indicators.sums``): equal to the database's own sums, and a day the worker rewrites is read again."""
    c = small_city
    days = [dt.date(2026, 10, 30) + dt.timedelta(days=i) for i in range(4)]  # across a month's end
    for day in days:
        c.case(submitted=day)
        c.case(channel="window", submitted=day)
        c.ticket(day, Ticket.Status.ANSWERED)
    days_recompute(days[0], days[-1])
    row = Stat.objects.filter(grain="d", district__isnull=False).first()
    district, dep = row.district, row.department_id
    periods = [(days[0], days[-1]), (days[1], days[2]), (dt.date(2026, 10, 1), dt.date(2026, 11, 30))]
    for start, end in periods:
        for f in (
            Filters(start=start, end=end),
            Filters(start=start, end=end, district=district),
            Filters(start=start, end=end, departments=frozenset({dep})),
        ):
            grouped = {(d, s): counters for d, s, counters in selectors.stat_grouped(f)}
            assert grouped == _orm_grouped(f)
            assert grouped, "rows in the period"
            assert selectors.totals(f)["cases_submitted"] == sum(
                g["cases_submitted"] for g in grouped.values()
            )
    f = Filters(start=days[0], end=days[-1])
    before = selectors.totals(f)["cases_submitted"]
    assert dict(selectors.trend(f)[1])[days[1]]["cases_submitted"] == 2
    # Another process (the worker) rewrites a day (31 October: November is read from its month row here, no day
    # row lying after the 2nd): its rows deleted and inserted again, one count changed. This process's slab of that
    # day is stale; the rows' new ids tell it so.
    rows = list(Stat.objects.filter(grain="d", period=days[1]))
    Stat.objects.filter(grain="d", period=days[1]).delete()
    for n, row in enumerate(rows):
        row.pk = None
        row.cases_submitted += 1 if n == 0 else 0
    Stat.objects.bulk_create(rows)
    assert selectors.totals(f)["cases_submitted"] == before + 1
    assert dict(selectors.trend(f)[1])[days[1]]["cases_submitted"] == 3


def test_a_process_warmed_at_start_sums_the_services_and_pairs_as_the_database_does(small_city, monkeypatch):
    """``sums.warm`` (a web process's start, ``tongban.warmup``) reads the slabs of the last days and months with
    their keys and counters aggregated as text by the database: afterwards a request reads no row again, and every
    sum — per department and district (NULL districts and two rows of one key included) and per service — equals
    the database's."""
    from django.db.models import Sum

    from tongban.indicators import sums

    c = small_city
    days = [dt.date(2026, 10, 29) + dt.timedelta(days=i) for i in range(5)]  # across a month's end
    for n, day in enumerate(days):
        c.case(submitted=day, closed=day, working_days=n + 1, visits=n % 2, steps=3)
        c.case(item=c.item_b, channel="window", submitted=day)
        # a municipal case without a district
        c.case(submitted=day, lead_department=c.tax, jurisdiction_district=None)
    days_recompute(days[0], days[-1])
    # Two rows of one key in a day (as a rewrite racing another could leave): the slab keeps their sum.
    twin = Stat.objects.filter(grain="d", period=days[2], district__isnull=True).first()
    assert twin is not None, "a row without a district"
    twin.pk = None
    Stat.objects.bulk_create([twin])
    sums.clear()
    warmed = sums.warm(days=10, today=days[-1])
    assert warmed["periods"] >= 2 * len(days) and warmed["mb"] >= 0
    assert {(g, p) for g, p in sums.services.slabs} >= {("d", day) for day in days}

    def no_read(self, wanted):
        raise AssertionError(f"read again after the warm-up: {sorted(wanted)}")

    monkeypatch.setattr(sums.Store, "_load", no_read)
    for start, end in ((days[0], days[-1]), (days[1], days[3]), (dt.date(2026, 10, 1), days[-1])):
        for f in (Filters(start=start, end=end), Filters(start=start, end=end, district=c.xuhui)):
            grouped = {(d, s): counters for d, s, counters in selectors.stat_grouped(f)}
            assert grouped == _orm_grouped(f) and grouped
        f = Filters(start=start, end=end)
        expected = {
            r["service_code"]: {n: r[n] for n in sums.REFORM_COUNTERS}
            for r in ServiceStat.objects.filter(selectors.period_q(start, end, ServiceStat))
            .values("service_code")
            .annotate(**{n: Sum(n) for n in sums.REFORM_COUNTERS})
        }
        assert {row["code"]: row["counters"] for row in selectors.by_service(f)} == expected
        assert expected[c.item_a.code]["working_days_sum"] > 0


def test_service_names_follow_a_renamed_item(small_city):
    """The reform page's service names are kept per state of the catalogue: a renamed item shows its new name."""
    from django.utils import translation

    item = small_city.item_a
    with translation.override("zh-hans"):
        assert selectors.service_names([item.code, "no-such-code"]) == {item.code: item.name_zh}
        item.name_zh = "改名后的事项"
        item.save()
        assert selectors.service_names([item.code]) == {item.code: "改名后的事项"}


def test_the_five_indicators_by_department_district_and_day_are_the_hand_computations(small_city, client):
    """The five indicators side by side for each department and district (ranked), and the two that follow the
    day's work in the trend: the same hand computation as the headline's, on each one's own records."""
    write_day(small_city)
    catalog_snapshot(D)
    days_recompute(D - dt.timedelta(days=3), D)
    f = Filters(start=D, end=D)
    columns = [key for key, _label in formulas.NATIONAL]
    departments = tables.national_departments_table(f)
    by_name = {row[0]: dict(zip(["name", "rank", *columns], row, strict=True)) for row in departments.rows}
    health = by_name[tables._name(small_city.health)]  # in the active language
    # Health has every case but the refusal: the headline's figures, and its own catalogue (both items).
    assert health["rank"] == 1
    assert health["online_effectiveness"] == pytest.approx((66.7 + 50 + 50) / 3, abs=0.05)
    assert health["online_maturity"] == pytest.approx((66.7 + 50) / 2, abs=0.05)
    assert health["item_coverage"] == 100.0
    assert health["guide_accuracy"] == pytest.approx(60.0, abs=0.05)
    # Tax refused one case submitted earlier and publishes nothing: no data, ranked last, not 0.
    tax = by_name[tables._name(small_city.tax)]
    assert tax["rank"] is None and tax["online_effectiveness"] is None and tax["item_coverage"] is None
    assert departments.rows[-1][0] == tables._name(small_city.tax)
    districts = tables.national_districts_table(f)
    xuhui = next(row for row, code in zip(districts.rows, districts.row_codes, strict=True) if code == XUHUI)
    assert xuhui[:2] == [districts.rows[0][0], 1]
    assert xuhui[2] == pytest.approx((66.7 + 50 + 50) / 3, abs=0.05)
    assert xuhui[5] == 100.0  # the catalogue's coverage: every item is served in every district
    trend = tables.trend_table(f)
    (day,) = trend.rows
    assert day[0] == D.isoformat()
    assert day[5] == pytest.approx((66.7 + 50 + 50) / 3, abs=0.05)
    assert day[6] == pytest.approx((66.7 + 50) / 2, abs=0.05)
    # The dashboard shows them with their ranking charts and tables.
    login_with_second_factor(client, _staff(["supervisor"], small_city.health))
    page = client.get(reverse("indicators:dashboard"), {"start": D.isoformat(), "end": D.isoformat()})
    html = page.content.decode()
    assert 'id="chart-districts-ranked"' in html and 'id="chart-departments-effectiveness"' in html
    assert str(tables.national_districts_table(f).title) in html


def test_a_page_shows_the_busiest_services_and_the_export_every_one(small_city, client, monkeypatch):
    write_day(small_city)
    days_recompute(D - dt.timedelta(days=3), D)
    monkeypatch.setattr(tables, "PAGE_SERVICES", 1)
    login_with_second_factor(client, _staff(["supervisor"], small_city.health))
    query = {"start": D.isoformat(), "end": D.isoformat()}
    page = client.get(reverse("indicators:reform"), query)
    assert [row[0] for row in page.context["tables"]["services"].rows] == [small_city.item_a.name_zh]
    assert "the export holds every one" in str(page.context["tables"]["services"].description) or (
        "导出" in str(page.context["tables"]["services"].description)
    )
    xlsx = client.get(reverse("indicators:export", args=["services", "xlsx"]), query)
    sheet = load_workbook(io.BytesIO(xlsx.content))["services"]
    names = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert {small_city.item_a.name_zh, small_city.item_b.name_zh} <= names
