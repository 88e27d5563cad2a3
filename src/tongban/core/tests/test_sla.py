"""The SLA clock on real 2026 schedules: due and warning dates, pauses across holidays, states, storage."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from tongban.core import calendar
from tongban.core.sla import ClockError, ClockState, Pause, SLAClock, WarningPolicy

SH = ZoneInfo("Asia/Shanghai")
D = dt.date


def at(y, m, d, hour=10, minute=0):
    return dt.datetime(y, m, d, hour, minute, tzinfo=SH)


@pytest.fixture(autouse=True)
def package_calendar(monkeypatch):
    """The package's schedule with no overrides, so these tests need no database."""
    cal = calendar.WorkingCalendar()
    monkeypatch.setattr(calendar, "get_calendar", lambda: cal)
    return cal


@pytest.fixture
def national_day_clock():
    return SLAClock.start(at(2026, 9, 30, 16), 5)


class DueDateTests:
    def test_five_working_days_accepted_the_day_before_national_day_2026(self, national_day_clock):
        # Accepted Wed 30 Sep; counting starts the next working day. 1–7 Oct are the holiday.
        # Thu 8 Oct = day 1, Fri 9 = 2, Sat 10 (adjusted working day) = 3, Sun 11 off, Mon 12 = 4, Tue 13 = 5.
        assert national_day_clock.due_date() == D(2026, 10, 13)

    def test_the_acceptance_day_is_not_counted_even_early_in_the_morning(self):
        assert SLAClock.start(at(2026, 11, 2, 8), 1).due_date() == D(2026, 11, 3)

    def test_acceptance_on_a_holiday_counts_from_the_next_working_day(self):
        assert SLAClock.start(at(2026, 10, 3), 1).due_date() == D(2026, 10, 8)

    def test_a_limit_of_zero_is_due_on_the_acceptance_day(self):
        clock = SLAClock.start(at(2026, 11, 2), 0)
        assert clock.due_date() == D(2026, 11, 2)
        assert clock.warning_date("share:0.8") == D(2026, 11, 2)
        assert clock.state(D(2026, 11, 2)) == ClockState.WARNING
        assert clock.state(D(2026, 11, 3)) == ClockState.OVERDUE

    def test_the_acceptance_day_is_the_shanghai_day(self):
        # 16:30 UTC on 13 Feb is 00:30 on Sat 14 Feb in Shanghai (an adjusted working day, not counted);
        # the first counted day is then Tue 24 Feb, after the Spring Festival.
        clock = SLAClock.start(dt.datetime(2026, 2, 13, 16, 30, tzinfo=dt.UTC), 1)
        assert clock.accepted_on == D(2026, 2, 14)
        assert clock.due_date() == D(2026, 2, 24)

    def test_bad_limits_and_naive_times_are_refused(self):
        with pytest.raises(ValueError, match="limit_days"):
            SLAClock.start(at(2026, 11, 2), -1)
        with pytest.raises(ValueError, match="limit_days"):
            SLAClock.start(at(2026, 11, 2), 2.5)
        with pytest.raises(ValueError, match="naive"):
            SLAClock.start(dt.datetime(2026, 11, 2, 10), 5)


class WarningTests:
    def test_last_day_policy_warns_on_the_due_date(self, national_day_clock):
        assert national_day_clock.warning_date("last-day") == D(2026, 10, 13)

    def test_share_policy_warns_once_the_share_is_used(self, national_day_clock):
        # 0.8 × 5 = 4: the fourth counted working day, Mon 12 Oct.
        assert national_day_clock.warning_date("share:0.8") == D(2026, 10, 12)
        assert national_day_clock.warning_date(WarningPolicy.parse("share:1/2")) == D(2026, 10, 10)

    def test_a_share_is_exact_and_never_below_one_day(self):
        assert WarningPolicy.parse("share:0.7").warning_day(10) == 7  # 0.7 × 10 is 7, not 7.000…1
        assert WarningPolicy.parse("share:0.1").warning_day(3) == 1
        assert WarningPolicy.parse("share:1").warning_day(3) == 3

    @pytest.mark.parametrize("text", ["share:0", "share:1.5", "share:x", "share:1/0", "yellow", ""])
    def test_a_malformed_policy_is_refused(self, text):
        with pytest.raises(ValueError, match="last-day"):
            WarningPolicy.parse(text)

    def test_the_default_policy_comes_from_the_settings(self, settings, national_day_clock):
        settings.TONGBAN_SLA_WARNING = "share:0.8"
        assert national_day_clock.warning_date() == D(2026, 10, 12)
        assert national_day_clock.state(D(2026, 10, 12)) == ClockState.WARNING
        settings.TONGBAN_SLA_WARNING = "last-day"
        assert national_day_clock.state(D(2026, 10, 12)) == ClockState.RUNNING
        settings.TONGBAN_SLA_WARNING = "share:2"
        with pytest.raises(ImproperlyConfigured, match="TONGBAN_SLA_WARNING"):
            national_day_clock.warning_date()


class StateTests:
    def test_states_through_the_national_day_limit(self, national_day_clock):
        clock = national_day_clock
        assert clock.state(D(2026, 10, 5), policy="last-day") == ClockState.RUNNING
        assert clock.state(D(2026, 10, 12), policy="last-day") == ClockState.RUNNING
        assert clock.state(D(2026, 10, 13), policy="last-day") == ClockState.WARNING
        assert clock.state(at(2026, 10, 13, 23, 59), policy="last-day") == ClockState.WARNING
        assert clock.state(D(2026, 10, 14), policy="last-day") == ClockState.OVERDUE
        assert clock.overdue_date() == D(2026, 10, 14)

    def test_days_used_and_left(self, national_day_clock):
        clock = national_day_clock
        assert clock.working_days_used(D(2026, 9, 30)) == 0
        assert clock.working_days_used(D(2026, 10, 7)) == 0
        assert (clock.working_days_used(D(2026, 10, 10)), clock.working_days_left(D(2026, 10, 10))) == (3, 2)
        assert clock.working_days_left(D(2026, 10, 13)) == 0
        assert clock.working_days_left(D(2026, 10, 15)) == -2

    def test_stopping_freezes_the_count_and_says_whether_it_was_late(self, national_day_clock):
        stopped = national_day_clock.stop(at(2026, 10, 12, 15))
        assert stopped.state(D(2026, 10, 20)) == ClockState.STOPPED
        assert stopped.state(at(2026, 10, 12, 14)) != ClockState.STOPPED
        assert stopped.working_days_used(D(2026, 10, 20)) == 4
        assert stopped.finished_late() is False
        assert national_day_clock.stop(at(2026, 10, 14)).finished_late() is True
        assert national_day_clock.finished_late() is None


class PauseTests:
    def test_a_pause_across_national_day_pushes_the_due_date_by_the_paused_working_days(self):
        # Accepted Mon 28 Sep, limit 5. Without a pause: Tue 29 = 1, Wed 30 = 2, Thu 8 Oct = 3, Fri 9 = 4,
        # Sat 10 (adjusted) = 5 → due 10 Oct.
        clock = SLAClock.start(at(2026, 9, 28, 9), 5)
        assert clock.due_date() == D(2026, 10, 10)
        # Supplement requested on Wed 30 Sep (that day has been worked, 2 used); materials back on Fri 9 Oct.
        # Paused working days are those in (30 Sep, 9 Oct]: Thu 8 and Fri 9 → 2; the holiday week in
        # between was never going to count. Counting resumes after 9 Oct: Sat 10 = 3, Mon 12 = 4,
        # Tue 13 = 5 → due 13 Oct, two working days later than without the pause.
        paused = clock.pause(at(2026, 9, 30, 15), reason="supplement")
        assert paused.is_paused
        assert paused.due_date() is None
        assert paused.state(D(2026, 10, 8)) == ClockState.PAUSED
        assert paused.working_days_used(D(2026, 10, 9)) == 2
        assert paused.projected_due_date(D(2026, 10, 9)) == D(2026, 10, 13)
        resumed = paused.resume(at(2026, 10, 9, 11))
        assert resumed.due_date() == D(2026, 10, 13)
        assert resumed.paused_working_days(D(2026, 10, 20)) == 2
        assert resumed.working_days_used(D(2026, 10, 12)) == 4
        assert resumed.state(D(2026, 10, 12), policy="last-day") == ClockState.RUNNING
        assert resumed.state(D(2026, 10, 14)) == ClockState.OVERDUE

    def test_a_pause_over_spring_festival_only_takes_out_working_days(self):
        # Accepted Thu 12 Feb, limit 3: Fri 13 = 1, Sat 14 (adjusted) = 2, Tue 24 = 3.
        clock = SLAClock.start(at(2026, 2, 12), 3)
        assert clock.due_date() == D(2026, 2, 24)
        # Paused Fri 13 → resumed Tue 24: paused working days (13 Feb, 24 Feb] = Sat 14, Tue 24 → 2.
        # Then Wed 25 = 2, Thu 26 = 3.
        clock = clock.pause(at(2026, 2, 13, 17)).resume(at(2026, 2, 24, 9))
        assert clock.due_date() == D(2026, 2, 26)
        assert clock.paused_working_days(D(2026, 3, 1)) == 2

    def test_a_pause_and_resumption_on_the_same_day_change_nothing(self, national_day_clock):
        clock = national_day_clock.pause(at(2026, 10, 9, 9)).resume(at(2026, 10, 9, 17))
        assert clock.due_date() == D(2026, 10, 13)
        assert clock.state(at(2026, 10, 9, 12)) == ClockState.PAUSED
        assert clock.state(at(2026, 10, 9, 18)) == ClockState.RUNNING

    def test_several_pauses_add_up(self):
        clock = (
            SLAClock.start(at(2026, 11, 2), 5)  # Mon 2 Nov; due Mon 9 Nov without pauses
            .pause(at(2026, 11, 3))
            .resume(at(2026, 11, 4))  # takes out Wed 4
            .pause(at(2026, 11, 5))
            .resume(at(2026, 11, 9))  # takes out Fri 6 and Mon 9
        )
        # Tue 3 = 1, (Wed 4 paused), Thu 5 = 2, (Fri 6, Mon 9 paused), Tue 10 = 3, Wed 11 = 4, Thu 12 = 5.
        assert clock.due_date() == D(2026, 11, 12)
        assert clock.paused_working_days(D(2026, 11, 30)) == 3

    def test_a_clock_paused_after_its_limit_ran_out_stays_overdue(self, national_day_clock):
        paused = national_day_clock.pause(at(2026, 10, 15))
        assert paused.due_date() == D(2026, 10, 13)
        assert paused.state(D(2026, 10, 16)) == ClockState.OVERDUE

    def test_impossible_transitions_are_refused_with_a_reason(self, national_day_clock):
        paused = national_day_clock.pause(at(2026, 10, 8))
        with pytest.raises(ClockError) as caught:
            paused.pause(at(2026, 10, 9))
        assert caught.value.code == "clock_already_paused"
        with pytest.raises(ClockError) as caught:
            national_day_clock.resume(at(2026, 10, 9))
        assert caught.value.code == "clock_not_paused"
        with pytest.raises(ClockError) as caught:
            paused.resume(at(2026, 10, 7))
        assert caught.value.code == "clock_resume_before_pause"
        with pytest.raises(ClockError) as caught:
            national_day_clock.pause(at(2026, 9, 29))
        assert caught.value.code == "clock_pause_too_early"
        stopped = national_day_clock.stop(at(2026, 10, 9))
        with pytest.raises(ClockError) as caught:
            stopped.pause(at(2026, 10, 10))
        assert caught.value.code == "clock_stopped"
        with pytest.raises(ClockError):
            stopped.stop(at(2026, 10, 11))

    def test_stopping_a_paused_clock_ends_the_pause(self, national_day_clock):
        stopped = national_day_clock.pause(at(2026, 10, 8)).stop(at(2026, 10, 20))
        assert stopped.pauses[-1].end == at(2026, 10, 20)
        assert stopped.state(D(2026, 10, 21)) == ClockState.STOPPED

    def test_the_clock_is_a_value_and_does_not_change(self, national_day_clock):
        national_day_clock.pause(at(2026, 10, 8))
        assert national_day_clock.pauses == ()

    def test_inconsistent_pauses_are_refused_on_construction(self):
        with pytest.raises(ValueError, match="open but is not the last"):
            SLAClock(
                at(2026, 11, 2), 5, pauses=[Pause(at(2026, 11, 3)), Pause(at(2026, 11, 4), at(2026, 11, 5))]
            )
        with pytest.raises(ValueError, match="ends before it starts"):
            SLAClock(at(2026, 11, 2), 5, pauses=[Pause(at(2026, 11, 4), at(2026, 11, 3))])


class StorageTests:
    def test_a_clock_survives_json(self, national_day_clock):
        clock = (
            national_day_clock.pause(at(2026, 10, 8), reason="补正材料")
            .resume(at(2026, 10, 9))
            .pause(at(2026, 10, 12))
        )
        data = json.loads(json.dumps(clock.to_dict()))
        assert data["pauses"][0] == {
            "start": "2026-10-08T10:00:00+08:00",
            "end": "2026-10-09T10:00:00+08:00",
            "reason": "补正材料",
        }
        assert SLAClock.from_dict(data) == clock

    @pytest.mark.parametrize(
        "data",
        [{}, {"accepted_at": "2026-10-08", "limit_days": 5}, {"accepted_at": "x", "limit_days": 5}, {"v": 9}],
    )
    def test_malformed_data_is_a_value_error(self, data):
        with pytest.raises(ValueError):
            SLAClock.from_dict(data)


class GuessedYearTests:
    def test_a_clock_running_into_2027_says_its_due_date_is_guessed(self):
        assert SLAClock.start(at(2026, 12, 24), 10).guessed_years() == [2027]
        assert SLAClock.start(at(2026, 11, 2), 5).guessed_years() == []


@pytest.mark.django_db
def test_an_override_in_the_database_moves_the_due_date(monkeypatch):
    from tongban.core.models import WorkdayOverride

    monkeypatch.undo()  # back to the real, database-backed calendar
    calendar.invalidate_cache()
    clock = SLAClock.start(at(2026, 12, 30), 2)
    # Without overrides 2027 is guessed: Thu 31 Dec = 1, Fri 1 Jan 2027 = 2.
    assert clock.due_date() == D(2027, 1, 1)
    WorkdayOverride.objects.create(date=D(2027, 1, 1), kind="holiday", name="元旦")
    # Now Thu 31 Dec = 1, (Fri 1 Jan off, weekend), Mon 4 Jan = 2.
    assert clock.due_date() == D(2027, 1, 4)
    calendar.invalidate_cache()
