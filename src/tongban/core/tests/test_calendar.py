"""The working-day calendar: real 2026 schedules, overrides, the 2027 fallback, the cache and the CLI."""

import datetime as dt
import io
import logging
import random
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation

from tongban.core import calendar
from tongban.core.calendar import WorkingCalendar
from tongban.core.models import CalendarYear, WorkdayOverride

D = dt.date
EN = {"accept-language": "en"}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def package():
    """The package's schedule alone, with no database."""
    return WorkingCalendar()


@pytest.fixture
def fresh_cache():
    calendar.invalidate_cache()
    yield
    calendar.invalidate_cache()


@pytest.fixture
def actor():
    from tongban.core.audit import Actor

    return Actor(kind="staff", id="test", label="calendar-admin")


def brute_add(cal, start, n):
    day, step, left = start, (1 if n > 0 else -1), abs(n)
    while left:
        day += dt.timedelta(days=step)
        left -= cal.is_working_day(day)
    return day


def brute_between(cal, start, end):
    lo, hi, sign = (start, end, 1) if start <= end else (end, start, -1)
    return sign * sum(cal.is_working_day(lo + dt.timedelta(days=i)) for i in range(1, (hi - lo).days + 1))


# --- the 2026 schedule of the package ---------------------------------------------------


class PackageSchedule2026Tests:
    def test_national_day_week_is_off_and_the_adjusted_sunday_and_saturday_are_worked(self, package):
        for day in range(1, 8):
            assert not package.is_working_day(D(2026, 10, day)), f"2026-10-0{day} is part of National Day"
        assert package.is_working_day(D(2026, 9, 20))  # Sunday, adjusted working day
        assert package.is_working_day(D(2026, 10, 10))  # Saturday, adjusted working day
        assert not package.is_working_day(D(2026, 10, 11))  # an ordinary Sunday
        info = package.day_info(D(2026, 10, 10))
        assert (info.source, info.name, info.certain) == ("package", "国庆节", True)

    def test_spring_festival_is_off_from_15_to_23_february_with_both_saturdays_worked(self, package):
        for day in range(15, 24):
            assert not package.is_working_day(D(2026, 2, day)), f"2026-02-{day} is part of Spring Festival"
        assert package.is_working_day(D(2026, 2, 14))
        assert package.is_working_day(D(2026, 2, 28))
        assert package.is_working_day(D(2026, 2, 24))
        assert package.day_info(D(2026, 2, 16)).name == "春节"

    def test_new_year_sunday_4_january_2026_is_worked(self, package):
        assert D(2026, 1, 4).weekday() == 6
        assert package.is_working_day(D(2026, 1, 4))
        assert not package.is_working_day(D(2026, 1, 2))

    def test_an_ordinary_weekday_and_weekend_have_no_name(self, package):
        assert package.day_info(D(2026, 11, 27)) == calendar.DayInfo(D(2026, 11, 27), True, "package")
        assert not package.is_working_day(D(2026, 11, 28))

    def test_the_answers_agree_with_the_package_every_day_of_2026(self, package):
        import chinese_calendar

        day = D(2026, 1, 1)
        while day.year == 2026:
            assert package.is_working_day(day) == chinese_calendar.is_workday(day), day
            day += dt.timedelta(days=1)


class AddWorkingDaysTests:
    def test_five_working_days_from_the_day_before_national_day_2026(self, package):
        # Start Wed 30 Sep (not counted). 1–7 Oct are off. Thu 8 Oct = 1, Fri 9 = 2, Sat 10 (adjusted
        # working day) = 3, Sun 11 off, Mon 12 = 4, Tue 13 = 5.
        assert package.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 13)
        assert package.working_days_between(D(2026, 9, 30), D(2026, 10, 13)) == 5

    def test_five_working_days_across_spring_festival_2026(self, package):
        # Start Fri 13 Feb. Sat 14 Feb (adjusted) = 1, 15–23 Feb off, Tue 24 = 2, 25 = 3, 26 = 4, Fri 27 = 5;
        # a sixth day is Sat 28 Feb, also an adjusted working day.
        assert package.add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)
        assert package.add_working_days(D(2026, 2, 13), 6) == D(2026, 2, 28)

    def test_one_working_day_after_the_saturday_before_national_day_is_the_adjusted_sunday(self, package):
        assert package.add_working_days(D(2026, 9, 19), 1) == D(2026, 9, 20)

    def test_zero_days_is_the_start_itself_even_on_a_holiday(self, package):
        assert package.add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 3)

    def test_negative_days_count_back_to_the_nth_working_day_before(self, package):
        assert package.add_working_days(D(2026, 10, 8), -1) == D(2026, 9, 30)
        assert package.add_working_days(D(2026, 10, 12), -1) == D(2026, 10, 10)
        assert package.add_working_days(D(2026, 3, 2), -2) == D(2026, 2, 27)

    def test_a_fraction_or_a_bool_is_refused(self, package):
        with pytest.raises(TypeError):
            package.add_working_days(D(2026, 1, 5), 1.5)
        with pytest.raises(TypeError):
            package.add_working_days(D(2026, 1, 5), True)

    def test_across_years_including_a_package_year_and_a_guessed_one(self, package):
        # 2026-12-31 is a Thursday; 1 Jan 2027 is guessed as an ordinary Friday (the package ends in 2026).
        assert package.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)
        assert package.working_days_between(D(2025, 12, 31), D(2027, 1, 1)) == (
            package.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) + 1
        )

    def test_aware_datetimes_count_on_the_shanghai_day(self, package):
        # 17:30 UTC on 30 Sep is 01:30 on 1 Oct in Shanghai: a holiday.
        late = dt.datetime(2026, 9, 30, 17, 30, tzinfo=dt.UTC)
        assert not package.is_working_day(late)
        assert package.is_working_day(late.astimezone(ZoneInfo("Asia/Shanghai")) - dt.timedelta(hours=2))

    def test_a_naive_datetime_is_refused(self, package):
        with pytest.raises(ValueError, match="naive"):
            package.is_working_day(dt.datetime(2026, 9, 30, 12))

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_add_and_between_agree_with_counting_day_by_day(self, seed):
        rng = random.Random(seed)
        overrides = {
            D(2026, 10, 8): (False, "test"),
            D(2027, 1, 1): (False, "元旦"),
            D(2027, 2, 6): (True, "春节"),
        }
        cal = WorkingCalendar(overrides=overrides, declared_years={2027})
        for _ in range(60):
            start = D(2024, 12, 1) + dt.timedelta(days=rng.randrange(0, 1200))
            n = rng.randrange(-40, 260)
            end = start + dt.timedelta(days=rng.randrange(-400, 400))
            assert cal.add_working_days(start, n) == brute_add(cal, start, n), (start, n)
            assert cal.working_days_between(start, end) == brute_between(cal, start, end), (start, end)
            if n >= 0:
                assert cal.working_days_between(start, cal.add_working_days(start, n)) == n

    def test_between_is_zero_on_the_same_day_and_antisymmetric(self, package):
        assert package.working_days_between(D(2026, 10, 1), D(2026, 10, 1)) == 0
        assert package.working_days_between(D(2026, 10, 13), D(2026, 9, 30)) == -5


# --- years the package does not know ------------------------------------------------------


class FallbackTests:
    def test_a_2027_date_without_overrides_is_guessed_from_weekends_and_says_so(self, package):
        info = package.day_info(D(2027, 1, 1))
        assert info.working  # a Friday: the holiday of New Year is not known
        assert info.source == "weekend-fallback"
        assert info.guessed and not info.certain
        assert "2027" in info.warning and "2026" in info.warning
        assert not package.is_working_day(D(2027, 1, 2))  # a Saturday

    def test_the_warning_is_logged_once_per_year(self, caplog):
        cal = WorkingCalendar()
        with caplog.at_level(logging.WARNING, logger="tongban.calendar"):
            cal.is_working_day(D(2027, 1, 4))
            cal.add_working_days(D(2027, 1, 4), 30)
            cal.day_info(D(2027, 6, 1))
            cal.is_working_day(D(2026, 6, 1))
        messages = [r.getMessage() for r in caplog.records if r.name == "tongban.calendar"]
        assert len(messages) == 1 and "2027" in messages[0]

    def test_an_override_answers_for_its_day_while_the_rest_of_the_year_stays_guessed(self):
        cal = WorkingCalendar(overrides={D(2027, 1, 1): (False, "元旦")})
        assert cal.day_info(D(2027, 1, 1)) == calendar.DayInfo(D(2027, 1, 1), False, "override", "元旦")
        other = cal.day_info(D(2027, 1, 4))
        assert other.guessed and "1 override" in other.warning

    def test_a_declared_year_is_certain(self):
        cal = WorkingCalendar(overrides={D(2027, 1, 1): (False, "元旦")}, declared_years={2027})
        info = cal.day_info(D(2027, 1, 4))
        assert (info.working, info.source, info.certain, info.warning) == (True, "declared", True, "")
        assert cal.fallback_years(D(2026, 12, 1), D(2028, 1, 1)) == [2028]

    def test_an_override_wins_over_the_package(self):
        cal = WorkingCalendar(overrides={D(2026, 10, 8): (False, "台风停工"), D(2026, 10, 11): (True, "")})
        assert not cal.is_working_day(D(2026, 10, 8))
        assert cal.is_working_day(D(2026, 10, 11))
        # 30 Sep + 5: Fri 9 = 1, Sat 10 = 2, Sun 11 (override) = 3, Mon 12 = 4, Tue 13 = 5.
        assert cal.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 13)
        assert cal.add_working_days(D(2026, 9, 30), 2) == D(2026, 10, 10)


# --- overrides in the database, the cache and the services --------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_cache")
class DatabaseOverrideTests:
    def test_2027_with_and_without_overrides(self, actor):
        assert calendar.day_info(D(2027, 1, 1)).source == "weekend-fallback"
        calendar.workday_override_set(actor=actor, date=D(2027, 1, 1), kind="holiday", name="元旦")
        info = calendar.day_info(D(2027, 1, 1))
        assert (info.working, info.source, info.name, info.certain) == (False, "override", "元旦", True)
        assert calendar.year_coverage(2027).source == "weekend-fallback"
        calendar.calendar_year_declare(actor=actor, year=2027, note="国办发明电")
        assert calendar.day_info(D(2027, 1, 4)).source == "declared"
        assert calendar.year_coverage(2027) == calendar.YearCoverage(2027, "declared", 1)
        assert calendar.calendar_year_undeclare(actor=actor, year=2027)
        assert calendar.day_info(D(2027, 1, 4)).guessed

    def test_a_service_change_is_audited_and_stamped(self, actor):
        from tongban.core.models import OutboxEvent

        override = calendar.workday_override_set(actor=actor, date=D(2027, 2, 6), kind="workday", name="春节")
        assert override.changed_by == "calendar-admin"
        assert OutboxEvent.objects.filter(name="calendar.changed", subject_id="2027-02-06").exists()
        assert calendar.workday_override_delete(actor=actor, date=D(2027, 2, 6))
        assert not calendar.workday_override_delete(actor=actor, date=D(2027, 2, 6))
        assert calendar.day_info(D(2027, 2, 6)).source == "weekend-fallback"

    def test_a_change_made_without_the_services_is_seen_at_once(self):
        assert calendar.is_working_day(D(2026, 10, 9))
        row = WorkdayOverride.objects.create(date=D(2026, 10, 9), kind="holiday", name="test")
        assert not calendar.is_working_day(D(2026, 10, 9))
        row.delete()
        assert calendar.is_working_day(D(2026, 10, 9))
        CalendarYear.objects.create(year=2028)
        assert calendar.day_info(D(2028, 3, 1)).source == "declared"

    def test_repeated_questions_do_not_query_the_database(self, django_assert_num_queries):
        calendar.is_working_day(D(2026, 1, 5))
        with django_assert_num_queries(0):
            for day in range(1, 29):
                calendar.is_working_day(D(2026, 2, day))
            calendar.add_working_days(D(2026, 9, 30), 250)
            calendar.working_days_between(D(2026, 1, 1), D(2026, 12, 31))

    def test_another_process_s_change_is_seen_after_the_recheck_interval(self, settings):
        settings.TONGBAN_CALENDAR_RECHECK_SECONDS = 3600
        WorkdayOverride.objects.create(date=D(2026, 10, 12), kind="holiday")
        assert not calendar.is_working_day(D(2026, 10, 12))
        # A bulk update sends no signal, as if another process had made the change.
        WorkdayOverride.objects.filter(date=D(2026, 10, 12)).update(
            kind="workday", updated_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        )
        assert not calendar.is_working_day(D(2026, 10, 12))  # still the cached answer
        settings.TONGBAN_CALENDAR_RECHECK_SECONDS = 0
        assert calendar.is_working_day(D(2026, 10, 12))

    def test_import_counts_created_updated_and_unchanged(self, actor):
        rows, errors = calendar.parse_override_csv(
            ["date,kind,name,note", "2027-01-01,holiday,元旦,", "2027-02-06,workday,春节,"]
        )
        assert errors == []
        assert calendar.workday_overrides_import(actor=actor, rows=rows) == {
            "created": 2,
            "updated": 0,
            "unchanged": 0,
        }
        rows, _ = calendar.parse_override_csv(["2027-01-01,holiday,元旦", "2027-02-06,workday,春节调休"])
        assert calendar.workday_overrides_import(actor=actor, rows=rows) == {
            "created": 0,
            "updated": 1,
            "unchanged": 1,
        }

    def test_a_year_far_outside_the_calendar_is_refused_as_a_typing_mistake(self, actor):
        with pytest.raises(ValidationError) as caught:
            calendar.workday_override_set(actor=actor, date=D(2207, 1, 1), kind="holiday")
        assert "2207" in str(caught.value.message_dict["date"])
        assert not WorkdayOverride.objects.exists()


# --- parsing ---------------------------------------------------------------------------


class CsvParsingTests:
    def test_each_error_names_its_line_and_nothing_is_returned_for_those_lines(self):
        rows, errors = calendar.parse_override_csv(
            [
                "date,kind,name,note",
                "2027-01-01..2027-01-03,holiday,元旦,国办发明电",
                "2027-13-01,holiday,bad month",
                "2027-02-06,rest,春节",
                "",
                "# a comment",
                "2027-01-02,holiday,again",
                "2027-01-10",
                "2207-01-01,holiday,typo",
                "2027-05-05..2027-05-01,holiday,backwards",
            ]
        )
        assert [r.date for r in rows] == [D(2027, 1, 1), D(2027, 1, 2), D(2027, 1, 3)]
        assert rows[0].note == "国办发明电" and rows[0].line == 2
        assert len(errors) == 6
        assert errors[0].startswith("line 3:") and "'2027-13-01' is not a date" in errors[0]
        assert errors[1].startswith("line 4:") and "'rest'" in errors[1]
        assert errors[2] == "line 7: 2027-01-02 is already given on line 2"
        assert errors[3].startswith("line 8:")
        assert errors[4].startswith("line 9:") and "2207" in errors[4]
        assert errors[5].startswith("line 10:") and "ends before it starts" in errors[5]

    def test_chinese_kind_words_are_understood(self):
        assert calendar.parse_kind("休") == "holiday"
        assert calendar.parse_kind(" 班 ") == "workday"
        assert calendar.parse_kind("Workday") == "workday"


# --- the command line --------------------------------------------------------------------


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("calendar", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_cache")
class CommandTests:
    def test_check_says_a_2027_day_is_guessed(self):
        out, err = run("check", "2027-01-01", "2026-10-10")
        assert "2027-01-01 Fri  working  weekend-fallback  (guessed)" in out
        assert "2026-10-10 Sat  working  package  国庆节" in out
        assert "2027" in err and "warning" in err

    def test_add_then_check_and_coverage(self):
        out, _ = run("add", "2027-01-01..2027-01-03", "holiday", "元旦", "--note", "test")
        assert "3 override(s) set as holiday." in out
        assert "tongban calendar declare 2027" in out
        out, err = run("check", "2027-01-01")
        assert "off      override  元旦" in out and err == ""
        out, _ = run("coverage")
        assert "2004–2026  package (chinesecalendar)" in out
        assert "2027       NOT KNOWN: weekends assumed (3 override(s), not declared)" in out
        run("declare", "2027")
        out, _ = run("coverage")
        assert "2027       declared by an administrator, 3 override(s)" in out

    def test_a_malformed_date_in_an_import_names_the_line_and_imports_nothing(self, tmp_path):
        path = tmp_path / "2027.csv"
        path.write_text(
            "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n", encoding="utf-8"
        )
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match="1 error"):
            call_command("calendar", "import", str(path), stdout=out, stderr=err)
        assert "line 3: '2027-02-30' is not a date" in err.getvalue()
        assert not WorkdayOverride.objects.exists()

    def test_import_and_declare(self, tmp_path):
        path = tmp_path / "2027.csv"
        path.write_text("2027-01-01,holiday,元旦\n2027-02-06,workday,春节\n", encoding="utf-8")
        out, _ = run("import", str(path), "--dry-run")
        assert "2 row(s) are valid" in out and not WorkdayOverride.objects.exists()
        out, _ = run("import", str(path), "--declare", "2027")
        assert "2 created, 0 updated, 0 unchanged. Declared: 2027." in out
        assert calendar.day_info(D(2027, 2, 6)).working
        out, _ = run("export", "--year", "2027")
        assert out.splitlines() == [
            "date,kind,name,note",
            "2027-01-01,holiday,元旦,",
            "2027-02-06,workday,春节,",
        ]

    def test_a_malformed_date_on_the_command_line_is_a_clear_error(self):
        with pytest.raises(CommandError, match="'2027-1-32' is not a date"):
            run("add", "2027-1-32", "holiday")

    def test_a_bad_declare_year_refuses_the_import_before_anything_is_imported(self, tmp_path):
        path = tmp_path / "2027.csv"
        path.write_text("2027-01-01,holiday,元旦\n", encoding="utf-8")
        with translation.override("en"), pytest.raises(CommandError, match="1800 is outside"):
            run("import", str(path), "--declare", "1800")
        assert not WorkdayOverride.objects.exists()

    def test_add_days_beyond_the_year_9999_or_before_the_year_1_is_a_clear_error(self):
        with pytest.raises(CommandError, match="outside the years 1–9999"):
            run("add-days", "9999-12-30", "5")
        with pytest.raises(CommandError, match="outside the years 1–9999"):
            run("add-days", "0001-01-02", "-5")

    def test_add_days_and_between(self):
        assert run("add-days", "2026-09-30", "5")[0].strip() == "2026-10-13 Tue"
        assert run("between", "2026-09-30", "2026-10-13")[0].strip() == "5"
        _, err = run("add-days", "2026-12-20", "20")
        assert "2027" in err


# --- the admin -----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    """An administrator logged in with a verified second factor, as the admin site requires."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(admin_user)
    device = TOTPDevice.objects.create(user=admin_user, name="default", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_cache")
class AdminTests:
    @pytest.fixture(autouse=True)
    def _admin_in_english(self, admin_client):
        """The site speaks Chinese unless the visitor chose English (the language cookie)."""
        admin_client.cookies["django_language"] = "en"

    def test_the_changelist_filters_by_year(self, admin_client):
        WorkdayOverride.objects.create(date=D(2027, 1, 1), kind="holiday", name="元旦")
        WorkdayOverride.objects.create(date=D(2026, 10, 9), kind="holiday", name="other")
        response = admin_client.get("/admin/core/workdayoverride/", {"year": "2027"}, headers=EN)
        assert response.status_code == 200
        assert "元旦" in response.content.decode() and "other" not in response.content.decode()

    @pytest.mark.parametrize("year", ["\u19da", "99999"])
    def test_a_year_filter_that_is_no_year_lists_everything_instead_of_failing(self, admin_client, year):
        WorkdayOverride.objects.create(date=D(2027, 1, 1), kind="holiday", name="元旦")
        response = admin_client.get("/admin/core/workdayoverride/", {"year": year})
        assert response.status_code == 200
        assert "元旦" in response.content.decode()

    def test_adding_an_override_goes_through_the_service(self, admin_client, admin_user):
        response = admin_client.post(
            "/admin/core/workdayoverride/add/",
            {"date": "2027-10-01", "kind": "holiday", "name": "国庆节", "note": ""},
            headers=EN,
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        override = WorkdayOverride.objects.get(date=D(2027, 10, 1))
        assert override.changed_by == admin_user.get_username()
        assert not calendar.is_working_day(D(2027, 10, 1))

    def test_a_duplicate_or_a_far_year_gets_a_clear_message(self, admin_client):
        WorkdayOverride.objects.create(date=D(2027, 1, 1), kind="holiday")
        response = admin_client.post(
            "/admin/core/workdayoverride/add/",
            {"date": "2027-01-01", "kind": "workday", "name": ""},
            headers=EN,
        )
        assert "already has an override" in response.content.decode()
        response = admin_client.post(
            "/admin/core/workdayoverride/add/",
            {"date": "2207-01-01", "kind": "holiday", "name": ""},
            headers=EN,
        )
        assert "check for a typing mistake" in response.content.decode()
