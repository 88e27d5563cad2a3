"""The SLA clock (办理时限): working days counted from acceptance, with pauses, warning and due dates.

An ``SLAClock`` is an immutable value: ``pause()``, ``resume()`` and ``stop()`` return a new clock and refuse
a transition that makes no sense. It knows nothing of storage; ``to_dict()`` and ``from_dict()`` give a JSON
form the owning app keeps beside its Case, Task or Ticket.

Counting rules (days are dates in Asia/Shanghai, times are aware datetimes):

- Acceptance on day A starts the clock; the first counted day is the first working day after A
  (受理之日起的下一个工作日), so without pauses the due date is ``add_working_days(A, limit_days)``.
  A limit of 0 (即办件) is due on A itself.
- A pause on day P and its resumption on day R take out the working days in ``(P, R]``: the day of the pause
  has already been worked, and counting restarts on the first working day after the resumption, just as after
  acceptance. A pause and resumption on the same day take out nothing. Paused working days push the due date
  back by as many working days.
- While a pause is open the due date is not known (``due_date()`` is ``None``) unless the limit had already run
  out before the pause; ``projected_due_date(resume_on)`` answers "if the applicant comes back on that day".
- The due date is the last day in time; the day after it (working or not) the clock is overdue.
- The warning (yellow card, 黄牌) date is the day on which the k-th counted working day falls, with k from the
  policy: ``last-day`` (k = limit, the warning shows on the last working day) or ``share:0.8`` (k = ceil(0.8 ×
  limit), at least 1). The default policy is ``settings.TONGBAN_SLA_WARNING``.
- ``stop()`` ends the clock (decided, withdrawn); days after it are not counted, the due date stays as it was.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core import calendar
from tongban.core.exceptions import Conflict

FORMAT_VERSION = 1


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    WARNING = "warning"
    OVERDUE = "overdue"
    STOPPED = "stopped"


class ClockError(Conflict):
    """A pause, resumption or stop that does not fit the clock's current state."""

    default_message = _("The time-limit clock cannot do that now.")
    default_code = "clock_conflict"


# --- warning policy ----------------------------------------------------------------


@dataclass(frozen=True)
class WarningPolicy:
    """When the yellow warning shows: on the last working day, or once a share of the limit is used."""

    kind: str  # "last-day" | "share"
    share: Fraction | None = None

    @classmethod
    def parse(cls, text: str) -> WarningPolicy:
        """``last-day`` or ``share:X`` with 0 < X ≤ 1 (``share:0.8``, ``share:4/5``)."""
        value = (text or "").strip().lower()
        if value == "last-day":
            return cls(kind="last-day")
        if value.startswith("share:"):
            try:
                share = Fraction(value.removeprefix("share:").strip())
            except (ValueError, ZeroDivisionError):
                share = None
            if share is not None and 0 < share <= 1:
                return cls(kind="share", share=share)
        raise ValueError(f"unknown SLA warning policy {text!r}: use 'last-day' or 'share:X' with 0 < X <= 1")

    def warning_day(self, limit_days: int) -> int:
        """Which counted working day (1-based; 0 for a limit of 0) brings the warning."""
        if limit_days == 0:
            return 0
        if self.kind == "last-day":
            return limit_days
        return max(1, math.ceil(self.share * limit_days))

    def __str__(self):
        return "last-day" if self.kind == "last-day" else f"share:{float(self.share):g}"


def default_warning_policy() -> WarningPolicy:
    text = getattr(settings, "TONGBAN_SLA_WARNING", "last-day")
    try:
        return WarningPolicy.parse(text)
    except ValueError as error:
        raise ImproperlyConfigured(f"TONGBAN_SLA_WARNING: {error}") from None


# --- the clock ----------------------------------------------------------------------


def _require_aware(value, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{what} must be an aware datetime, not {type(value).__name__}")
    if timezone.is_naive(value):
        raise ValueError(f"{what} must be an aware datetime, not naive {value.isoformat()}")
    return value


def _day(value: dt.datetime) -> dt.date:
    return calendar.as_local_date(value)


@dataclass(frozen=True)
class Pause:
    """A period in which the clock stood still; ``end`` is None while it lasts."""

    start: dt.datetime
    end: dt.datetime | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Pause:
        end = data.get("end")
        return cls(
            start=dt.datetime.fromisoformat(data["start"]),
            end=dt.datetime.fromisoformat(end) if end else None,
            reason=data.get("reason", ""),
        )


@dataclass(frozen=True)
class SLAClock:
    """A time limit in working days, counted from acceptance, with pauses. See the module doc."""

    accepted_at: dt.datetime
    limit_days: int
    pauses: tuple[Pause, ...] = field(default=())
    stopped_at: dt.datetime | None = None

    def __post_init__(self):
        _require_aware(self.accepted_at, "accepted_at")
        if isinstance(self.limit_days, bool) or not isinstance(self.limit_days, int) or self.limit_days < 0:
            raise ValueError(
                f"limit_days must be a whole number of working days ≥ 0, not {self.limit_days!r}"
            )
        object.__setattr__(self, "pauses", tuple(self.pauses))
        previous_end = self.accepted_at
        for number, pause in enumerate(self.pauses, start=1):
            _require_aware(pause.start, "a pause's start")
            if pause.start < previous_end:
                raise ValueError(f"pause {number} starts before acceptance or before the previous resumption")
            if pause.end is None:
                if number != len(self.pauses):
                    raise ValueError(f"pause {number} is open but is not the last pause")
            else:
                _require_aware(pause.end, "a pause's end")
                if pause.end < pause.start:
                    raise ValueError(f"pause {number} ends before it starts")
                previous_end = pause.end
        if self.stopped_at is not None:
            _require_aware(self.stopped_at, "stopped_at")
            if self.stopped_at < previous_end or (self.pauses and self.stopped_at < self.pauses[-1].start):
                raise ValueError("the clock stops before acceptance or before its last pause or resumption")
            if self.pauses and self.pauses[-1].end is None:
                raise ValueError("a stopped clock cannot have an open pause")

    @classmethod
    def start(cls, accepted_at: dt.datetime, limit_days: int) -> SLAClock:
        """Start a clock at acceptance."""
        return cls(accepted_at=accepted_at, limit_days=limit_days)

    # --- facts

    @property
    def accepted_on(self) -> dt.date:
        return _day(self.accepted_at)

    @property
    def is_paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    @property
    def is_stopped(self) -> bool:
        return self.stopped_at is not None

    # --- transitions

    def pause(self, at: dt.datetime, reason: str = "") -> SLAClock:
        """Stop counting from ``at`` (a supplement requested, a special procedure started)."""
        _require_aware(at, "the pause time")
        if self.is_stopped:
            raise ClockError(_("The clock has stopped; it cannot be paused."), code="clock_stopped")
        if self.is_paused:
            raise ClockError(_("The clock is already paused."), code="clock_already_paused")
        last = self.pauses[-1].end if self.pauses else self.accepted_at
        if at < last:
            raise ClockError(
                _("A pause cannot start before the acceptance or the last resumption (%(last)s).")
                % {"last": last.isoformat()},
                code="clock_pause_too_early",
            )
        return replace(self, pauses=(*self.pauses, Pause(start=at, reason=reason)))

    def resume(self, at: dt.datetime) -> SLAClock:
        """Count again after ``at`` (the materials are complete, the procedure ended)."""
        _require_aware(at, "the resumption time")
        if not self.is_paused:
            raise ClockError(_("The clock is not paused, so it cannot be resumed."), code="clock_not_paused")
        open_pause = self.pauses[-1]
        if at < open_pause.start:
            raise ClockError(
                _("The clock cannot resume before its pause started (%(start)s).")
                % {"start": open_pause.start.isoformat()},
                code="clock_resume_before_pause",
            )
        return replace(self, pauses=(*self.pauses[:-1], replace(open_pause, end=at)))

    def stop(self, at: dt.datetime) -> SLAClock:
        """End the clock (decided, withdrawn, closed); an open pause ends at the same time."""
        _require_aware(at, "the stop time")
        if self.is_stopped:
            raise ClockError(_("The clock has already stopped."), code="clock_stopped")
        clock = self.resume(at) if self.is_paused else self
        last = clock.pauses[-1].end if clock.pauses else clock.accepted_at
        if at < last:
            raise ClockError(
                _("The clock cannot stop before the acceptance or the last resumption (%(last)s).")
                % {"last": last.isoformat()},
                code="clock_stop_too_early",
            )
        return replace(clock, stopped_at=at)

    # --- counting

    def _spans(self, *, resume_on: dt.date | None = None) -> list[tuple[dt.date, dt.date | None]]:
        """The spans ``(lo, hi]`` of days that count; ``hi`` None is open-ended."""
        spans, lo = [], self.accepted_on
        for pause in self.pauses:
            spans.append((lo, max(lo, _day(pause.start))))
            if pause.end is None:
                if resume_on is None:
                    return spans
                lo = max(_day(pause.start), resume_on)
            else:
                lo = _day(pause.end)
        spans.append((lo, None))
        return spans

    def _date_of_counted_day(self, k: int, *, resume_on: dt.date | None = None) -> dt.date | None:
        if k == 0:
            return self.accepted_on
        for lo, hi in self._spans(resume_on=resume_on):
            available = calendar.working_days_between(lo, hi) if hi is not None else k
            if k <= available:
                return calendar.add_working_days(lo, k)
            k -= available
        return None

    def due_date(self) -> dt.date | None:
        """The last day in time; None while paused, unless the limit ran out before the pause."""
        return self._date_of_counted_day(self.limit_days)

    def overdue_date(self) -> dt.date | None:
        """The first day the clock is overdue (red card, 红牌): the day after the due date."""
        due = self.due_date()
        return due + dt.timedelta(days=1) if due is not None else None

    def projected_due_date(self, resume_on: dt.date) -> dt.date:
        """The due date if an open pause ends on ``resume_on`` (the due date itself when not paused)."""
        return self._date_of_counted_day(self.limit_days, resume_on=resume_on)

    def warning_date(self, policy: WarningPolicy | str | None = None) -> dt.date | None:
        """The day the yellow warning shows; None while paused before reaching it."""
        if policy is None:
            policy = default_warning_policy()
        elif isinstance(policy, str):
            policy = WarningPolicy.parse(policy)
        return self._date_of_counted_day(policy.warning_day(self.limit_days))

    def _on(self, on) -> dt.date:
        day = _day(timezone.now()) if on is None else calendar.as_local_date(on)
        if self.stopped_at is not None:
            day = min(day, _day(self.stopped_at))
        return day

    def working_days_used(self, on: dt.date | dt.datetime | None = None) -> int:
        """Counted working days from acceptance to the end of ``on`` (default today), pauses excluded."""
        day = self._on(on)
        used = 0
        for lo, hi in self._spans():
            end = day if hi is None else min(hi, day)
            if end > lo:
                used += calendar.working_days_between(lo, end)
        return used

    def working_days_left(self, on: dt.date | dt.datetime | None = None) -> int:
        """The limit minus the days used; negative once more days are used than allowed."""
        return self.limit_days - self.working_days_used(on)

    def paused_working_days(self, on: dt.date | dt.datetime | None = None) -> int:
        """Working days taken out by pauses up to the end of ``on`` (default today)."""
        day = self._on(on)
        paused = 0
        for pause in self.pauses:
            start = _day(pause.start)
            end = day if pause.end is None else min(_day(pause.end), day)
            if end > start:
                paused += calendar.working_days_between(start, end)
        return paused

    def is_paused_at(self, at: dt.date | dt.datetime) -> bool:
        """Whether the clock stands still at ``at``; a date means the end of that day."""
        if isinstance(at, dt.datetime):
            _require_aware(at, "the time")
            return any(p.start <= at and (p.end is None or at < p.end) for p in self.pauses)
        return any(_day(p.start) <= at and (p.end is None or at < _day(p.end)) for p in self.pauses)

    def state(self, on: dt.date | dt.datetime | None = None, *, policy=None) -> ClockState:
        """``stopped``, ``overdue``, ``paused``, ``warning`` or ``running`` at ``on`` (default now).

        A date means the end of that day. Overdue wins over paused: a clock paused after its limit ran
        out stays overdue.
        """
        at = timezone.now() if on is None else on
        day = calendar.as_local_date(at)
        if self.stopped_at is not None:
            stopped = at >= self.stopped_at if isinstance(at, dt.datetime) else day >= _day(self.stopped_at)
            if stopped:
                return ClockState.STOPPED
        due = self.due_date()
        if due is not None and day > due:
            return ClockState.OVERDUE
        if self.is_paused_at(at):
            return ClockState.PAUSED
        warning = self.warning_date(policy)
        if warning is not None and day >= warning:
            return ClockState.WARNING
        return ClockState.RUNNING

    def finished_late(self) -> bool | None:
        """For a stopped clock, whether it stopped after its due date; None while it runs."""
        if self.stopped_at is None:
            return None
        return _day(self.stopped_at) > self.due_date()

    def guessed_years(self) -> list[int]:
        """Years between acceptance and the due date (or today) that the calendar only guesses."""
        end = self.due_date() or _day(timezone.now())
        return calendar.fallback_years(self.accepted_on, max(end, self.accepted_on))

    # --- storage

    def to_dict(self) -> dict:
        return {
            "v": FORMAT_VERSION,
            "accepted_at": self.accepted_at.isoformat(),
            "limit_days": self.limit_days,
            "pauses": [pause.to_dict() for pause in self.pauses],
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SLAClock:
        """The clock ``to_dict()`` gave; a malformed value raises ValueError."""
        try:
            if data.get("v", FORMAT_VERSION) != FORMAT_VERSION:
                raise ValueError(f"unknown SLA clock format version {data.get('v')!r}")
            stopped = data.get("stopped_at")
            return cls(
                accepted_at=dt.datetime.fromisoformat(data["accepted_at"]),
                limit_days=data["limit_days"],
                pauses=tuple(Pause.from_dict(item) for item in data.get("pauses", ())),
                stopped_at=dt.datetime.fromisoformat(stopped) if stopped else None,
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"malformed SLA clock data: {error!r}") from None
