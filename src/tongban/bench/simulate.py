"""``tongban simulate``: a city's days driven through the real services, on a virtual clock.

Every action is a call of the same public service the pages and the API call, with a typed actor:

- **Cases** (``cases.services``): applications for the published items and bundles by the city's persons, online
  (their own account) or at a district window (a clerk, with the materials checked there); manual acceptance or
  refusal to accept by a window clerk; the department steps worked by a handler or approver of the step's
  department with realistic delays, some late enough that supervision's deadline job raises a yellow warning and
  a red card; supplements asked once and answered (or the application withdrawn); refusals with their legal
  basis; withdrawals. **Ratings** (``evaluation.services.rating_submit``) of completed cases, some bad, so that
  rectifications open; the department head answers them and a supervisor closes them (``supervision.services``).
- **Births** (``exchange.registry_services.birth_record_create``): the ``person.born`` event reaches the proactive
  rules through the outbox, the mother gets the newborn-bundle offer, and most mothers accept it
  (``proactive.services.offer_accept``: the case then runs like any other), some decline. The daily milestone
  sweep (``milestones_sweep``) runs at 06:00 as the worker does.
- **12345 tickets** (``hotline.services``) in the day's rhythm: consultations answered at first contact, the rest
  routed by the classifier or a dispatcher, callers repeating a problem already reported (proposed as duplicates
  and merged by a dispatcher), taken in hand and replied to by the department (some late), supervised, called
  back with a satisfaction, some reopened; on the first day one topic jumps in one district (a spike that
  ``hotline.analytics.spikes_detect`` should see).
- **The worker's periodic jobs** run in the loop at their virtual times: event delivery (the outbox sweep), the
  deadline check (yellow and red cards), the spike detection, the milestone sweep and the audit checkpoint.

The clock: ``django.utils.timezone.now`` is the one source of "now" of the services (``core.calendar.today`` and
the model timestamps read it too); ``virtual_clock`` replaces it for the run with the simulation's time, which
moves over the working-day calendar (office hours on working days for staff and windows; online applications
and the hotline every day, fewer at weekends and holidays).

Memory: arrivals are generated an hour at a time; what is kept is one scheduled action per open case or ticket
(a heap of small tuples) and a few counters, never a day's cases. Same seed, same start, same city: same actions
in the same order (the draws never depend on database ids).

It writes cases, tickets and audit entries that cannot be deleted: run it on a scratch database with a seeded
demo city (``tongban seed``), e.g. ``TONGBAN_VAR_DIR=/tmp/tb-sim tongban seed --people 5000`` then
``TONGBAN_VAR_DIR=/tmp/tb-sim tongban simulate --days 1 --scale district``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
import logging
import os
import random
import resource
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from unittest import mock

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tongban.core import calendar
from tongban.core.audit import SYSTEM
from tongban.core.exceptions import DomainError
from tongban.core.ids import DISTRICTS
from tongban.identity.selectors import actor_for

logger = logging.getLogger(__name__)

# One working day of Shanghai (issue 15): ≈ 184,000 cases, ≈ 25,000 hotline tickets, ≈ 270 births.
SHANGHAI_DAY = {"cases": 184_000, "tickets": 25_000, "births": 270}
# A scale is a share of that day. ``city`` is a quarter: a large prefecture-level city of some 6 million people
# (Shanghai has about 25 million); ``district`` a sixteenth (Shanghai has 16 districts); ``test`` a fixed small day.
SCALES = {"shanghai": 1.0, "city": 0.25, "district": 1 / 16}
TEST_DAY = {"cases": 40, "tickets": 16, "births": 3}
# Share of a working day's volume on a rest day: online applications and the hotline go on, windows are closed.
REST_DAY_SHARE = {"cases": 0.2, "tickets": 0.6, "births": 1.0}
# The hour of the day (Asia/Shanghai) at which applications and calls arrive, per 1000 (a working day).
CASE_RHYTHM = (2, 1, 1, 1, 1, 3, 8, 20, 60, 110, 120, 100, 60, 80, 110, 105, 85, 45, 25, 22, 18, 12, 6, 4)
TICKET_RHYTHM = (6, 3, 2, 2, 3, 8, 20, 45, 75, 90, 88, 70, 55, 70, 80, 78, 70, 55, 45, 42, 38, 28, 18, 10)
OFFICE_OPENS, OFFICE_CLOSES = dt.time(9, 0), dt.time(17, 30)
WINDOW_SHARE = 0.3  # applications made at a district window (a clerk submits them); the rest online
# Of the online applications, those made in the city's app (随申办): a client of the API, so the case comes in by the
# API's channel, as `POST /api/v1/cases/` submits it.
APP_SHARE = 0.4
# What happens to a case, per 1000 (drawn once at submission).
CASE_FATES = (("approve", 870), ("supplement", 55), ("reject", 30), ("withdraw", 25), ("late", 20))
REFUSE_ACCEPTANCE = 0.04  # share of manually accepted cases the clerk refuses to accept
LATE_SHARE = 0.04  # steps worked only after their time limit (a red card), besides the "late" fate
RATE_SHARE = 0.35  # completed cases the applicant rates
RATING_LEVELS = ((5, 780), (4, 120), (3, 50), (2, 30), (1, 20))
TICKET_TYPES = (("consult", 40), ("complaint", 30), ("help", 12), ("report", 10), ("suggestion", 8))
TICKET_CHANNELS = (("phone", 70), ("web", 12), ("app", 10), ("mini_program", 8))
FIRST_CONTACT = 0.7  # consultations answered by the operator at once
DUPLICATE_SHARE = 0.1  # callers repeating a problem reported a little earlier
SUPERVISE_SHARE = 0.04  # complaints a supervisor takes up
SATISFACTION = ((5, 55), (4, 25), (3, 10), (2, 6), (1, 4))
REOPEN_SHARE = 0.4  # of the unsatisfied callers (1-2)
SPIKE_SHARE = 0.06  # of the first day's tickets: one topic in one district, in the morning
SPIKE_TOPIC, SPIKE_DISTRICT = "water-supply", "310115"  # 浦东新区
OFFER_ACCEPT, OFFER_DECLINE = 0.65, 0.1
BUNDLE_WEIGHT, ITEM_WEIGHT = 6, 2  # as the seeded history (demo/cases_history.py): a bundle against an item
# The property services' share of the applications (contract filing, deed tax, transfer registration and their bundle):
# Shanghai registers about 1,000 resales a working day, each one to three applications, against 184,000 in all.
PROPERTY_SHARE = 0.012
# How many of its units a process looks at for a sale before it gives up (every one being sold or owned by the buyer).
SALE_TRIES = 40
SUBMIT_FAILURES_TO_DROP = (
    3  # a service whose sample application is refused this many times in a row leaves the mix
)
# The cast grows with the day's volume: a working day's applications per applicant, and mothers per birth a day, at
# least the district day's 300 applicants and 80 mothers (docs/simulation.md, "The cast"). With a fixed cast of 300,
# a Shanghai day made each applicant apply some 600 times and receive some 1,300 messages: their reads grew with it
# and the daily SMS cap cut most of their SMS.
APPLICATIONS_PER_APPLICANT, MIN_APPLICANTS = 40, 300
# Enterprises that apply for the items for legal persons (through their legal representative as agent online, or at
# a window): a third as many as the persons who apply, at least 100.
ENTERPRISES_PER_APPLICANT, MIN_ENTERPRISES = 1 / 3, 100
MOTHERS_PER_BIRTH, MIN_MOTHERS = 4, 80
PDF = b"%PDF-1.4\n%simulated\n"
# The worker's sweep period: what the run's commits queue (events, messages' deliveries) is delivered in bulk once
# a virtual minute has passed (``OutboxQueue``).
DELIVERY_EVERY = dt.timedelta(minutes=1)
# The outbox's claim lease in a run of several processes (``_leases_for``): more than the hour their clocks may differ.
MULTIPROCESS_LEASE = dt.timedelta(hours=2)
DISTRICT_CODES = sorted(DISTRICTS)
DISTRICT_INDEX = {code: n for n, code in enumerate(DISTRICT_CODES)}


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Mix:
    """The shares that shape a day; the defaults are the realistic ones (a test passes a denser mix, so that a
    small run takes every path)."""

    case_fates: tuple = CASE_FATES
    refuse_acceptance: float = REFUSE_ACCEPTANCE
    rate_share: float = RATE_SHARE
    rate_within_hours: float = 48.0  # a rating comes half an hour to this long after the completion
    rating_levels: tuple = RATING_LEVELS
    duplicate_share: float = DUPLICATE_SHARE
    supervise_share: float = SUPERVISE_SHARE
    reopen_share: float = REOPEN_SHARE
    satisfaction: tuple = SATISFACTION
    offer_accept: float = OFFER_ACCEPT
    offer_decline: float = OFFER_DECLINE
    property_share: float = PROPERTY_SHARE


# ``--scale test``: a small day in which every path is taken (for the tests and for a quick look at the pages).
TEST_MIX = Mix(
    case_fates=(("approve", 40), ("supplement", 15), ("reject", 15), ("withdraw", 15), ("late", 15)),
    refuse_acceptance=0.2,
    rate_share=0.9,
    rate_within_hours=4.0,
    rating_levels=((5, 40), (4, 20), (3, 10), (2, 15), (1, 15)),
    duplicate_share=0.35,
    supervise_share=0.3,
    reopen_share=0.8,
    satisfaction=((5, 30), (4, 20), (3, 10), (2, 20), (1, 20)),
    offer_accept=0.8,
    offer_decline=0.1,
    property_share=0.15,
)


# --- the virtual clock ---------------------------------------------------------------------------------------


class VirtualClock:
    """The simulation's time; ``now()`` is what ``django.utils.timezone.now`` returns during the run."""

    def __init__(self, start: dt.datetime):
        self.at = start

    def now(self) -> dt.datetime:
        return self.at

    def move_to(self, at: dt.datetime) -> None:
        if at > self.at:  # never backwards: timestamps of one case stay in order
            self.at = at


@contextlib.contextmanager
def virtual_clock(start: dt.datetime) -> Iterator[VirtualClock]:
    """Replace ``django.utils.timezone.now`` (the services' clock) for the block; restored afterwards.

    The services, ``core.calendar.today()``, ``timezone.localdate()`` and the models' ``auto_now`` fields all read
    ``django.utils.timezone.now`` through the module, so replacing the module attribute moves them all.
    """
    clock = VirtualClock(start.astimezone(dt.UTC))
    with mock.patch.object(timezone, "now", clock.now):
        yield clock


# --- scales --------------------------------------------------------------------------------------------------


def day_volume(
    scale: str, *, cases: int | None = None, tickets: int | None = None, births: int | None = None
):
    """Cases, tickets and births of one working day at ``scale`` (each overridable)."""
    if scale == "test":
        volume = dict(TEST_DAY)
    elif scale in SCALES:
        volume = {key: round(value * SCALES[scale]) for key, value in SHANGHAI_DAY.items()}
    else:
        raise ValueError(f"unknown scale {scale!r}; known: test, {', '.join(SCALES)}")
    for key, value in (("cases", cases), ("tickets", tickets), ("births", births)):
        if value is not None:
            if value < 0:
                raise ValueError(f"--{key} must not be negative")
            volume[key] = value
    return volume


def cast_size(volume: dict) -> tuple[int, int]:
    """The default cast for a working day's ``volume``: (applicants, mothers)."""
    applicants = max(MIN_APPLICANTS, -(-volume["cases"] // APPLICATIONS_PER_APPLICANT))
    return applicants, max(MIN_MOTHERS, volume["births"] * MOTHERS_PER_BIRTH)


def default_processes() -> int:
    """The machine's cores (those this process may run on): one simulation process each."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def hourly(total: int, rhythm: tuple[int, ...]) -> list[int]:
    """``total`` spread over 24 hours by ``rhythm`` (largest remainders: the hours add up to ``total``)."""
    weight = sum(rhythm)
    shares = [total * w / weight for w in rhythm]
    counts = [int(s) for s in shares]
    for hour in sorted(range(24), key=lambda h: counts[h] - shares[h])[: total - sum(counts)]:
        counts[hour] += 1
    return counts


def _for_births(service) -> bool:
    """Whether a service is applied for by mothers (a birth's bundle: its form names the baby)."""
    return "baby_name" in (service.form_schema or {}).get("properties", {})


def _pool(service) -> str:
    """Who applies for a service: ``mothers`` (a birth's bundle), ``enterprises`` (an item for legal persons only)
    or ``applicants`` (any adult; an item for both persons and organisations is applied for by persons)."""
    if _for_births(service):
        return "mothers"
    if service.service_object == "organisation":
        return "enterprises"
    return "applicants"


def _materials_to_upload(error: ValidationError) -> set:
    """The materials a refused submission asks to be provided (``materials.<code>`` keys), when the refusal is
    about nothing else; empty otherwise."""
    keys = set(getattr(error, "error_dict", {}) or {})
    if not keys or not all(key.startswith("materials.") for key in keys):
        return set()
    return {key.removeprefix("materials.") for key in keys}


def _for_property(service) -> bool:
    """A service whose application sells a unit of the property register (its form names the unit)."""
    return "property_unit" in (service.form_schema or {}).get("properties", {})


def _property_weighted(services: list, property_codes: set, share: float) -> list:
    """``services`` with the property services' weights scaled so that they draw ``share`` of the applications
    (between them as their own weights say)."""
    mine = sum(w for s, w in services if s.code in property_codes)
    others = sum(w for s, w in services if s.code not in property_codes)
    if not mine or not others or not 0 < share < 1:
        return services
    scale = share * others / ((1 - share) * mine)
    return [(s, w * scale if s.code in property_codes else w) for s, w in services]


def units_for_sale() -> list[str]:
    """The property register's residential units that a person owns (alone or with others) and no mortgage or
    seizure binds, by number: what the simulation's resales draw from."""
    from tongban.exchange.models import Mortgage, PropertyUnit, Seizure

    return list(
        PropertyUnit.objects.filter(
            use=PropertyUnit.Use.RESIDENTIAL,
            ownerships__ended_at__isnull=True,
            ownerships__owner_person__isnull=False,
        )
        .exclude(pk__in=Mortgage.objects.filter(released_on__isnull=True).values("unit_id"))
        .exclude(pk__in=Seizure.objects.filter(lifted_on__isnull=True).values("unit_id"))
        .order_by("unit_number")
        .values_list("unit_number", flat=True)
        .distinct()
    )


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def local(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=calendar.SHANGHAI)


def office_time(at: dt.datetime, rng: random.Random, *, hours: float = 0.0, days: int = 0) -> dt.datetime:
    """A moment ``days`` working days and about ``hours`` office hours after ``at``, within office hours."""
    at = at.astimezone(calendar.SHANGHAI)
    day = at.date()
    if days:
        day = calendar.add_working_days(day, days)
        at = local(day, OFFICE_OPENS) + dt.timedelta(minutes=rng.uniform(0, 240))
    if not calendar.is_working_day(day) or at.time() >= OFFICE_CLOSES:
        day = calendar.add_working_days(day, 1)
        at = local(day, OFFICE_OPENS) + dt.timedelta(minutes=rng.uniform(0, 60))
    elif at.time() < OFFICE_OPENS:
        at = local(day, OFFICE_OPENS) + dt.timedelta(minutes=rng.uniform(0, 60))
    at += dt.timedelta(hours=hours)
    if at.time() >= OFFICE_CLOSES or at.date() != day:
        overflow = at - local(day, OFFICE_CLOSES)
        day = calendar.add_working_days(day, 1)
        at = local(day, OFFICE_OPENS) + max(overflow, dt.timedelta(0)) % dt.timedelta(hours=8)
    return at


# --- the city's people and staff -----------------------------------------------------------------------------


@dataclass
class Cast:
    """Who acts: applicants and mothers with accounts, the hotline's staff, department staff made on demand."""

    applicants: list  # (user, person)
    mothers: list  # (user, person)
    operator: object
    dispatcher: object
    supervisor: object
    staff: dict = field(default_factory=dict)  # (department pk, role) -> actor
    clerks: dict = field(default_factory=dict)  # district code -> actor
    enterprises: list = field(default_factory=list)  # (agent user, organisation)

    agents: dict = field(default_factory=dict, repr=False)  # organisation pk -> agent user, made on first use

    def agent_of(self, organisation_id):
        """The agent (legal representative) who acts for an enterprise of the cast, or None."""
        if not self.agents:
            self.agents.update((org.pk, user) for user, org in self.enterprises)
        return self.agents.get(organisation_id)

    def for_role(self, department_id, role: str, *, retry: bool = True):
        """An active staff member of the department with the role (one made for the simulation if none)."""
        key = (department_id, role)
        actor = self.staff.get(key)
        if actor is None:
            from tongban.identity import services as identity
            from tongban.identity.models import Department, Staff, User

            staff = (
                Staff.objects.filter(department_id=department_id, roles__code=role, active=True)
                .select_related("user")
                .order_by("user__username")
                .first()
            )
            if staff is not None:
                user = staff.user
            else:
                department = Department.objects.get(pk=department_id)
                username = f"sim.{department.code}.{role}"[:150]
                user = User.objects.filter(username=username).first()
                if user is None:
                    try:
                        # The account and its staff record together: another simulation process may be making
                        # the same one (the database refuses the second username); then it is read again.
                        with transaction.atomic():
                            user = identity.user_create(
                                actor=SYSTEM, username=username, password=None, check_password=False
                            )
                            identity.staff_create(
                                actor=SYSTEM, user=user, department=department, roles=[role]
                            )
                    except (IntegrityError, ValidationError):
                        if not retry:
                            raise
                        return self.for_role(department_id, role, retry=False)
            actor = self.staff[key] = actor_for(user)
        return actor

    def clerk(self, district_code: str):
        actor = self.clerks.get(district_code)
        if actor is None:
            from tongban.identity.reference import branch_code
            from tongban.identity.selectors import department_get

            department = department_get(branch_code("big-data-center", district_code))
            actor = self.clerks[district_code] = self.for_role(department.pk, "window_clerk")
        return actor


def _accounts(persons, prefix: str) -> list:
    from tongban.identity import services as identity

    cast = []
    for person in persons:
        user = person.user
        if user is None:
            user = identity.user_create(
                actor=SYSTEM, username=f"{prefix}.{person.resident_id}", password=None, check_password=False
            )
            identity.person_update(actor=SYSTEM, person=person, user=user)
        cast.append((user, person))
    return cast


def _agents(organisations) -> list:
    """Each organisation with its legal representative as its agent online (an account made for one without)."""
    from tongban.identity import services as identity

    accounts: dict = {}  # person pk -> user (one person may represent several organisations)
    cast = []
    for organisation in organisations:
        person = organisation.legal_representative
        user = accounts.get(person.pk) or person.user
        if user is None:
            user = identity.user_create(
                actor=SYSTEM, username=f"sim.agent.{person.resident_id}", password=None, check_password=False
            )
            identity.person_update(actor=SYSTEM, person=person, user=user)
        accounts[person.pk] = user
        if not organisation.agents.filter(pk=user.pk).exists():
            identity.organisation_agent_add(actor=SYSTEM, organisation=organisation, user=user)
        cast.append((user, organisation))
    return cast


def cast_ensure(*, applicants: int, mothers: int, today: dt.date, enterprises: int = 0) -> Cast:
    """Accounts for the first ``applicants`` adults and ``mothers`` women of 22-42 of the city (by ID number, so
    the same city gives the same cast), the first ``enterprises`` enterprises (by credit code) with their legal
    representatives as agents, and the hotline's demo staff."""
    from tongban.exchange.models import HouseholdMembership
    from tongban.identity.models import Person, User

    adults = (
        Person.objects.filter(
            birth_date__lt=today.replace(year=today.year - 18),
            birth_date__gt=today.replace(year=today.year - 80),
            pk__in=HouseholdMembership.objects.values("person_id"),
            household_district__isnull=False,
        )
        .select_related("user", "household_district")
        .order_by("resident_id")
    )
    women = adults.filter(
        sex="F",
        birth_date__gt=today.replace(year=today.year - 42),
        birth_date__lt=today.replace(year=today.year - 22),
    )
    mothers_cast = _accounts(list(women[:mothers]), "sim.mother")
    taken = {person.pk for _user, person in mothers_cast}
    applicant_cast = _accounts(
        [p for p in adults[: applicants + mothers] if p.pk not in taken][:applicants], "sim"
    )
    if not applicant_cast or not mothers_cast:
        raise ValueError("the city has too few adults to apply: seed a demo city first (tongban seed)")
    from tongban.identity.models import Organisation

    enterprise_cast = _agents(
        Organisation.objects.filter(
            org_type=Organisation.Type.ENTERPRISE,
            legal_representative__isnull=False,
            district__isnull=False,
        )
        .select_related("legal_representative__user", "district")
        .order_by("credit_code")[:enterprises]
    )
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["operator.12345", "dispatcher.12345", "supervisor"])
    }
    if len(users) < 3:
        raise ValueError("the demo staff accounts are missing: seed a demo city first (tongban seed)")
    return Cast(
        applicants=applicant_cast,
        mothers=mothers_cast,
        operator=actor_for(users["operator.12345"]),
        dispatcher=actor_for(users["dispatcher.12345"]),
        supervisor=actor_for(users["supervisor"]),
        enterprises=enterprise_cast,
    )


# --- the run -------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the run did, counted as it happened (only successful service calls are transitions)."""

    counts: Counter = field(default_factory=Counter)
    ratings: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)  # service code -> submissions refused by validation
    errors: Counter = field(default_factory=Counter)  # "action: Error" -> count (unexpected refusals)
    dropped: list = field(default_factory=list)  # services that left the mix
    transitions: int = 0
    worker: Counter = field(default_factory=Counter)

    def did(self, what: str, n: int = 1) -> None:
        self.counts[what] += n
        self.transitions += n

    def merge(self, other: Outcome) -> None:
        """Add another process's figures to these."""
        for mine, theirs in (
            (self.counts, other.counts),
            (self.ratings, other.ratings),
            (self.refused, other.refused),
            (self.errors, other.errors),
            (self.worker, other.worker),
        ):
            mine.update(theirs)
        self.dropped.extend(code for code in other.dropped if code not in self.dropped)
        self.transitions += other.transitions


class Simulation:
    """One run: ``run()`` drives ``days`` days from ``start`` and returns the figures."""

    def __init__(
        self,
        *,
        days: int,
        volume: dict,
        seed: int,
        start: dt.date,
        applicants: int | None = None,
        mothers: int | None = None,
        progress: Callable[[int], None] | None = None,
        mix: Mix | None = None,
        processes: int = 1,
    ):
        if processes < 1:
            raise ValueError("--processes must be at least 1")
        self.days, self.volume, self.seed, self.start = days, volume, seed, start
        self.processes, self.index = processes, 0
        self.rng = random.Random(seed)
        self.progress = progress or (lambda n: None)
        default_applicants, default_mothers = cast_size(volume)
        self.n_applicants = default_applicants if applicants is None else applicants
        self.n_mothers = default_mothers if mothers is None else mothers
        self.n_enterprises = max(MIN_ENTERPRISES, round(self.n_applicants * ENTERPRISES_PER_APPLICANT))
        self.heap: list = []
        self.seq = itertools.count()
        self.out = Outcome()
        self.recent_tickets: deque = deque(maxlen=200)
        self.failures: Counter = Counter()
        self.uploads: dict = {}  # (service code, the form's filled fields) -> the materials' codes to upload
        self.property_codes: set = set()  # the services that sell a unit of the property register
        self.units: list = []  # the register's units for sale at the start (``units_for_sale``)
        self.sales: dict = {}  # unit number -> the case of the run that last sold it
        self.mix = mix or Mix()
        self.days_done = 0
        # Idempotency keys unique to the run (the draws do not depend on it): a second run with the same seed on the
        # same database makes new applications, not replays.
        self.run_key = uuid.uuid4().hex[:10]

    # --- scheduling ---

    def at(self, when: dt.datetime, kind: str, *payload) -> None:
        heapq.heappush(self.heap, (when.timestamp(), next(self.seq), kind, payload))

    def _case_rng(self, token: int, step: int) -> random.Random:
        return random.Random(token * 1_000_003 + step)

    # --- set-up ---

    def _setup(self) -> None:
        from tongban.catalog.models import Bundle, PublicationStatus, ServiceItem
        from tongban.hotline.corpus import corpus_load

        self.cast = cast_ensure(
            applicants=self.n_applicants,
            mothers=self.n_mothers,
            today=self.start,
            enterprises=self.n_enterprises,
        )
        # Items for legal persons too when the city has enterprises to apply for them.
        objects = ("person", "both", "organisation") if self.cast.enterprises else ("person", "both")
        services = [
            (s, BUNDLE_WEIGHT)
            for s in Bundle.objects.filter(status=PublicationStatus.PUBLISHED, service_object__in=objects)
            .select_related("lead_department")
            .order_by("code")
        ]
        services += [
            (s, ITEM_WEIGHT)
            for s in ServiceItem.objects.filter(
                status=PublicationStatus.PUBLISHED, service_object__in=objects
            )
            .select_related("department")
            .order_by("code")
        ]
        # A property's services sell a real unit of the register (``_sale``): their weights are scaled to the
        # day's share of them; with no unit to sell in the register they leave the mix (named in the figures).
        self.property_codes = {s.code for s, _w in services if _for_property(s)}
        self.units = units_for_sale() if self.property_codes else []
        if not self.units:
            self.out.dropped.extend(sorted(self.property_codes))
        services = [(s, w) for s, w in services if s.code not in self.out.dropped]
        services = _property_weighted(services, self.property_codes, self.mix.property_share)
        if not services:
            raise ValueError("no published service for persons: seed a demo city first (tongban seed)")
        self.services = services
        self._service_range = range(len(services))
        self._service_weights = [w for _s, w in services]
        self._service_pools = [_pool(s) for s, _w in services]
        self.corpus = [(row["text"], row["department"], row["topic"]) for row in corpus_load()]
        spike = [row for row in self.corpus if row[2] == SPIKE_TOPIC] or self.corpus[:20]
        self.spike_rows = spike

    # --- cases ---

    def _form(self, service, person, rng: random.Random) -> dict:
        from tongban.demo.sample import sample_form_data

        form = sample_form_data(service.form_schema, person=person)
        if "baby_name" in form:  # the newborn bundle: a baby born in the last months, the father not named
            form.pop("father_resident_id", None)
            form.pop("father_name", None)
            form["baby_name"] = f"宝宝{rng.randrange(10**6)}"
            if "birth_date" in form:
                form["birth_date"] = (calendar.today() - dt.timedelta(days=rng.randrange(1, 200))).isoformat()
        return form

    def _submit(self, service, form, uploads, user, person, organisation, district, window, token, app=False):
        """One application: at a window (the clerk checks the materials to upload) or online (uploaded), on the
        portal or in the app (the API's channel)."""
        from tongban.cases.models import Case
        from tongban.cases.services import case_submit
        from tongban.identity.selectors import person_for

        if window:
            return case_submit(
                actor=self.cast.clerk(district),
                service=service,
                form_data=form,
                files={},
                window_checked=set(uploads),
                applicant_person=person,
                applicant_organisation=organisation,
                channel=Case.Channel.WINDOW,
                idempotency_key=f"sim-{self.run_key}-{token}",
            )
        files = {c: SimpleUploadedFile(f"{c}.pdf", PDF, content_type="application/pdf") for c in uploads}
        return case_submit(
            actor=actor_for(user),
            service=service,
            form_data=form,
            files=files,
            # the API names the applicant as `POST /api/v1/cases/` does: the account's person (the portal's form
            # leaves it to case_submit, which asks the same)
            applicant_person=None if organisation is not None or not app else person_for(user),
            applicant_organisation=organisation,
            channel=Case.Channel.API if app else Case.Channel.ONLINE,
            idempotency_key=f"sim-{self.run_key}-{token}",
        )

    def _enterprise_form(self, service, organisation) -> dict:
        """An enterprise's answer: the sample form with the organisation's own name, credit code and legal
        representative."""
        from tongban.demo.sample import sample_form_data

        representative = organisation.legal_representative
        form = sample_form_data(service.form_schema, person=representative)
        fields = (service.form_schema or {}).get("properties", {})
        own = {
            "company_name": organisation.name,
            "credit_code": organisation.credit_code,
            "legal_representative": representative.name,
            "applicant_name": representative.name,
        }
        form.update({k: v[: fields[k].get("maxLength", 200)] for k, v in own.items() if k in fields})
        return form

    def case_arrive(
        self,
        now: dt.datetime,
        service_index: int,
        pool: str,
        person_index: int,
        token: int,
        window_draw: float,
    ) -> None:
        """An application drawn in ``_arrivals`` (the service, the applicant, the channel's draw, the token)."""
        from tongban.catalog.services import required_materials

        service = self.services[service_index][0]
        if service.code in self.out.dropped:
            # The service left this process's mix: another for the same applicants, drawn from the case's own
            # generator, so the applicant (and the process that owns it) stays the same.
            live = [(s, w) for s, w in self.services if s.code not in self.out.dropped and _pool(s) == pool]
            if not live:
                self.out.counts["arrivals_without_service"] += 1
                return
            service = _pick(self._case_rng(token, 9), live)
        # A birth's services are applied for by mothers, an item for legal persons by an enterprise's agent, the
        # rest by any adult.
        user, applicant = getattr(self.cast, pool)[person_index]
        organisation = applicant if pool == "enterprises" else None
        person = None if organisation is not None else applicant
        sale = None
        if service.code in self.property_codes and person is not None:
            sale = self._sale(person, self._case_rng(token, 7))
            if sale is None:
                # Every unit looked at is being sold (or is the buyer's): another service instead.
                self.out.counts["sales_without_unit"] += 1
                live = [
                    (s, w)
                    for s, w in self.services
                    if s.code not in self.out.dropped
                    and s.code not in self.property_codes
                    and _pool(s) == pool
                ]
                if not live:
                    self.out.counts["arrivals_without_service"] += 1
                    return
                service = _pick(self._case_rng(token, 9), live)
        district = (organisation.district if organisation is not None else person.household_district).code
        window = calendar.is_working_day(now.astimezone(calendar.SHANGHAI).date()) and (
            OFFICE_OPENS <= now.astimezone(calendar.SHANGHAI).time() < OFFICE_CLOSES
        )
        # About half of a day's applications come in office hours: twice the share there is the day's share.
        window = window and window_draw < WINDOW_SHARE * 2
        app = not window and self._case_rng(token, 60).random() < APP_SHARE
        case_rng = self._case_rng(token, 0)
        form = (
            self._form(service, person, case_rng)
            if organisation is None
            else self._enterprise_form(service, organisation)
        )
        if sale is not None:
            fields = (service.form_schema or {}).get("properties", {})
            form.update({k: v for k, v in sale[1].items() if k in fields})
        # What the applicant uploads (or the clerk checks): the service's materials under the form's conditions,
        # the same for every form with the same filled fields, so asked of the catalogue once per service and
        # filled fields (the submission asks it again itself, as on the pages).
        key = (service.code, frozenset(k for k, v in form.items() if v))
        uploads = self.uploads.get(key)
        if uploads is None:
            uploads = self.uploads[key] = [
                m.code for m in required_materials(service, form) if m.satisfied_by == "upload"
            ]
        try:
            try:
                case = self._submit(
                    service, form, uploads, user, person, organisation, district, window, token, app
                )
            except ValidationError as exc:
                # A material the data hub could not provide (an enterprise without an e-licence in the store, a
                # record missing): the applicant uploads it, or the clerk checks the paper, and submits again.
                missing = _materials_to_upload(exc)
                if not missing or missing <= set(uploads):
                    raise
                self.out.counts["materials_uploaded_after_lookup"] += len(missing - set(uploads))
                uploads = [*uploads, *sorted(missing - set(uploads))]
                case = self._submit(
                    service, form, uploads, user, person, organisation, district, window, token, app
                )
        except (ValidationError, DomainError, PermissionDenied) as exc:
            self.out.refused[service.code] += 1
            self.failures[service.code] += 1
            logger.debug("simulate: an application for %s refused: %s", service.code, exc)
            if (
                self.failures[service.code] >= SUBMIT_FAILURES_TO_DROP
                and service.code not in self.out.dropped
            ):
                self.out.dropped.append(service.code)
                logger.warning(
                    "simulate: %s leaves the mix, its sample application is refused: %s", service.code, exc
                )
            return
        self.failures[service.code] = 0
        if sale is not None:
            self.sales[sale[0]] = case.pk
            self.out.counts["cases_property"] += 1
        if organisation is not None:
            self.out.counts["cases_enterprise"] += 1
        self.out.did("cases_submitted")
        self.out.counts["cases_window" if window else "cases_app" if app else "cases_online"] += 1
        self._case_follow(case, token, now)

    def _sale(self, buyer, rng: random.Random) -> tuple[str, dict] | None:
        """A resale for a property application of ``buyer``: a unit of this process's share of the register (so
        that no other process sells it meanwhile) that no open case of the run is selling, its current owner as
        the seller (read from the register now: a completed transfer made the last buyer its owner), the applicant
        as the buyer, and a price. ``(unit number, form fields)``, or None when none of ``SALE_TRIES`` units will do.
        """
        from tongban.cases.models import Case
        from tongban.exchange.registry_selectors import property_owners, property_unit_get

        mine = self.units[self.index :: self.processes]
        if not mine:
            return None
        first = rng.randrange(len(mine))
        for step in range(min(len(mine), SALE_TRIES)):
            number = mine[(first + step) % len(mine)]
            selling = self.sales.get(number)
            if selling is not None:
                if Case.objects.filter(pk=selling, status__in=Case.OPEN_STATUSES).exists():
                    continue
                del self.sales[number]
            unit = property_unit_get(number)
            if unit is None:
                continue
            sellers = [
                o.owner_person
                for o in property_owners(unit)
                if o.owner_person_id is not None and o.owner_person_id != buyer.pk
            ]
            if not sellers:
                continue
            seller = sellers[0]
            area = float(unit.floor_area)
            fields = {
                "property_unit": number,
                "property_address": unit.address,
                "floor_area": area,
                "seller_name": seller.name,
                "seller_resident_id": seller.resident_id,
                "seller_married": False,
                "buyer_name": buyer.name,
                "buyer_resident_id": buyer.resident_id,
                "price": round(area * rng.uniform(35_000, 95_000), -3) or 100_000,
                "contract_number": f"SH{rng.randrange(10**10):010d}",
            }
            if unit.certificate_number:
                fields["property_certificate_number"] = unit.certificate_number
            return number, fields
        return None

    def _case_follow(self, case, token: int, now: dt.datetime) -> None:
        """Schedule what comes next for a case just submitted (or accepted through an offer)."""
        from tongban.cases.models import Case

        fate = _pick(self._case_rng(token, 1), self.mix.case_fates)
        rng = self._case_rng(token, 2)
        if case.status == Case.Status.SUBMITTED:
            self.at(office_time(now, rng, hours=rng.uniform(0.2, 3)), "accept", case.pk, token, fate)
        elif case.status in Case.OPEN_STATUSES:
            self._work_later(case.pk, token, fate, now, step=0, limit=case.promised_limit_days)
        if fate == "withdraw":
            self.at(now + dt.timedelta(hours=rng.uniform(1, 30)), "withdraw", case.pk, token)

    def _work_later(
        self, case_pk, token: int, fate: str, now: dt.datetime, *, step: int, limit: int = 0
    ) -> None:
        """Schedule the next work on a case: mostly within hours, some the next working days, and some (the "late"
        fate, and a few steps of any case) on the last day of the limit or after it."""
        rng = self._case_rng(token, 10 + step)
        if (fate == "late" and step == 0) or rng.random() < LATE_SHARE / 3:
            # On the last day of the limit (a yellow warning) or after it (a red card).
            when = office_time(now, rng, days=max(1, limit) + rng.randint(0, 2))
        else:
            draw = rng.random()
            if draw < 0.7:
                when = office_time(now, rng, hours=rng.uniform(0.3, 5))
            elif draw < 0.95:
                when = office_time(now, rng, days=1)
            else:
                when = office_time(now, rng, days=rng.randint(2, 3))
        self.at(when, "work", case_pk, token, fate, step)

    def do_accept(self, now, case_pk, token, fate) -> None:
        from tongban.cases.models import Case
        from tongban.cases.services import case_accept, case_refuse_acceptance

        case = Case.objects.select_related(
            "jurisdiction_district",
            "applicant_person__household_district",
            "applicant_organisation__district",
        ).get(pk=case_pk)
        if case.status != Case.Status.SUBMITTED:
            return
        district = (
            case.jurisdiction_district
            or (case.applicant_organisation.district if case.applicant_organisation_id else None)
            or case.applicant_person.household_district
        ).code
        clerk = self.cast.clerk(district)
        if self._case_rng(token, 3).random() < self.mix.refuse_acceptance:
            self._call(
                "refuse_acceptance",
                case_refuse_acceptance,
                actor=clerk,
                case=case,
                reason="申请事项不属于本机关职权范围",
                basis="《中华人民共和国行政许可法》第三十二条",
            )
            return
        case = self._call("accept", case_accept, actor=clerk, case=case)
        if case is not None:
            self._work_later(case.pk, token, fate, now, step=0, limit=case.promised_limit_days)

    def do_work(self, now, case_pk, token, fate, step) -> None:
        """The departments work the case's open steps (one staff member of each step's department and role)."""
        from tongban.cases.models import Case
        from tongban.cases.services import case_supplement_request, case_task_complete
        from tongban.workflow.models import Task

        tasks = list(
            Task.objects.filter(case_id=case_pk, state__in=(Task.State.READY, Task.State.CLAIMED))
            .order_by("created_at", "bpmn_id")
            .only("pk", "department_id", "role", "limit_days", "revision")
        )
        if not tasks:
            return
        case = None
        for n, task in enumerate(tasks):
            actor = self.cast.for_role(task.department_id, task.role)
            if fate == "supplement" and step == 0 and n == 0:
                current = Case.objects.only("form_data").get(pk=case_pk)
                name = next(
                    (k for k, v in sorted(current.form_data.items()) if isinstance(v, str) and v), None
                )
                if name is not None:
                    made = self._call(
                        "supplement_request",
                        case_supplement_request,
                        actor=actor,
                        task_id=task.pk,
                        fields=[{"field": name, "reason": "填写内容与登记信息不一致，请核对后重新填写"}],
                        note="请一次性补正以下内容",
                    )
                    if made is not None:
                        rng = self._case_rng(token, 4)
                        if rng.random() < 0.85:
                            self.at(
                                now + dt.timedelta(hours=rng.uniform(2, 60)), "resubmit", case_pk, token, name
                            )
                        else:
                            self.at(now + dt.timedelta(hours=rng.uniform(24, 80)), "withdraw", case_pk, token)
                        return
            reject = fate == "reject" and step == 0 and n == 0
            case = self._call(
                "task_reject" if reject else "task_approve",
                case_task_complete,
                actor=actor,
                task_id=task.pk,
                decision=Task.Decision.REJECT if reject else Task.Decision.APPROVE,
                opinion="不符合受理条件，不予批准" if reject else "材料齐全，符合规定，同意。",
                basis="《中华人民共和国行政许可法》第三十八条" if reject else "",
            )
            if case is None or case.is_closed:
                break
        if case is None:
            return
        if case.status == Case.Status.COMPLETED:
            self._case_closed(case, token, now)
        elif case.status == Case.Status.REJECTED:
            self.out.counts["cases_rejected"] += 1
        elif not case.is_closed:
            limit = max((t.limit_days or 0) for t in tasks)
            self._work_later(case_pk, token, fate, now, step=step + 1, limit=limit)

    def _case_closed(self, case, token: int, now: dt.datetime) -> None:
        self.out.counts["cases_completed"] += 1
        today = now.astimezone(calendar.SHANGHAI).date()
        if case.due_date is not None:
            self.out.counts[
                "cases_completed_on_time" if today <= case.due_date else "cases_completed_late"
            ] += 1
        rng = self._case_rng(token, 5)
        # Persons rate, and enterprises through their agent (at a window too: the pad is handed to the agent).
        applicant = case.applicant_person_id or case.applicant_organisation_id
        if applicant and rng.random() < self.mix.rate_share:
            self.at(
                now + dt.timedelta(hours=rng.uniform(0.5, self.mix.rate_within_hours)), "rate", case.pk, token
            )

    def do_resubmit(self, now, case_pk, token, name) -> None:
        from tongban.cases.models import Case
        from tongban.cases.services import case_resubmit

        case = Case.objects.select_related("submitted_by").get(pk=case_pk)
        if case.status != Case.Status.SUPPLEMENT:
            return
        value = case.form_data.get(name)
        done = self._call(
            "resubmit", case_resubmit, actor=actor_for(case.submitted_by), case=case, form_data={name: value}
        )
        if done is not None:
            self._work_later(case_pk, token, "approve", now, step=1)

    def do_withdraw(self, now, case_pk, token) -> None:
        from tongban.cases.models import Case
        from tongban.cases.services import case_withdraw

        case = Case.objects.select_related("submitted_by").get(pk=case_pk)
        if case.is_closed:
            return
        self._call(
            "withdraw", case_withdraw, actor=actor_for(case.submitted_by), case=case, reason="不再需要办理"
        )

    def do_rate(self, now, case_pk, token) -> None:
        from tongban.cases.models import Case
        from tongban.evaluation.models import Rating
        from tongban.evaluation.services import rating_channel, rating_submit

        case = Case.objects.select_related("applicant_person__user").get(pk=case_pk)
        if case.applicant_person_id:
            user = case.applicant_person.user
        else:
            user = self.cast.agent_of(case.applicant_organisation_id)
        if user is None:
            return
        rng = self._case_rng(token, 6)
        level = _pick(rng, self.mix.rating_levels)
        comment = "" if level >= 3 else "等待时间太长，窗口说明不清楚"
        items = Rating.SUB_ITEMS[rating_channel(case)]
        scores = {key: min(5, max(1, level + rng.choice((-1, 0, 0, 0, 1)))) for key in sorted(items)}
        rating = self._call(
            "rating",
            rating_submit,
            actor=actor_for(user),
            case=case,
            level=level,
            scores=scores,
            comment=comment,
        )
        if rating is None:
            return
        self.out.ratings[level] += 1
        if not case.applicant_person_id:
            self.out.counts["ratings_enterprise"] += 1
        if level <= 2:
            self.at(office_time(now, rng, days=rng.randint(1, 3)), "rectify", case_pk, token)

    def do_rectify(self, now, case_pk, token) -> None:
        """The department head answers the rectification of a bad rating; a supervisor closes it the next day."""
        from tongban.supervision.models import Rectification
        from tongban.supervision.services import rectification_respond

        for rectification in Rectification.objects.filter(case_id=case_pk, status=Rectification.Status.OPEN):
            head = self.cast.for_role(rectification.department_id, "dept_head")
            done = self._call(
                "rectification_respond",
                rectification_respond,
                actor=head,
                rectification=rectification,
                response="已约谈经办人员，优化窗口告知和办理流程，并向申请人致歉说明",
            )
            if done is not None:
                rng = self._case_rng(token, 7)
                self.at(office_time(now, rng, days=1), "rectify_close", rectification.pk)

    def do_rectify_close(self, now, rectification_pk) -> None:
        from tongban.supervision.models import Rectification
        from tongban.supervision.services import rectification_close

        rectification = Rectification.objects.get(pk=rectification_pk)
        if rectification.status != Rectification.Status.OPEN:
            return
        self._call(
            "rectification_close",
            rectification_close,
            actor=self.cast.supervisor,
            rectification=rectification,
            resolution="整改措施已落实，予以销号",
        )

    # --- births and offers ---

    def birth_arrive(self, now: dt.datetime, mother_index: int, token: int, sex: str, weight: int) -> None:
        from tongban.exchange.registry_services import birth_record_create

        user, mother = self.cast.mothers[mother_index]
        record = self._call(
            "birth",
            birth_record_create,
            actor=SYSTEM,  # the hospital's system registers the birth, as in the proactive benchmark
            baby_name=f"{mother.name[:1]}宝{token % 10_000}",
            baby_sex=sex,
            birth_date=now.astimezone(calendar.SHANGHAI).date(),
            weight_g=weight,
            hospital="上海市第一妇婴保健院",
            mother=mother,
        )
        if record is not None:
            rng = self._case_rng(token, 11)
            self.at(now + dt.timedelta(hours=rng.uniform(2, 40)), "offer", mother.pk, user.pk, token)

    def do_offer(self, now, mother_pk, user_pk, token) -> None:
        from tongban.identity.models import User
        from tongban.proactive.models import Offer
        from tongban.proactive.services import offer_accept, offer_decline

        # The worker's deliveries: the offer exists once the birth's event (and what its delivery emitted) is
        # delivered.
        self.outbox.flush(self.out)
        event_deliver_due(self.out)
        offer = (
            Offer.objects.select_related("person")
            .filter(person_id=mother_pk, status=Offer.Status.OFFERED)
            .order_by("-created_at")
            .first()
        )
        if offer is None:
            self.out.counts["offers_not_found"] += 1
            return
        rng = self._case_rng(token, 8)
        draw = rng.random()
        actor = actor_for(User.objects.get(pk=user_pk))
        if draw < self.mix.offer_accept:
            # The mother completes what the offer could not prefill (as on the offer's page) and uploads what no
            # department holds.
            from tongban.catalog.services import required_materials
            from tongban.demo.sample import sample_form_data
            from tongban.proactive.services import service_resolve

            service = service_resolve(offer.service)
            schema = service.form_schema if service is not None else {}
            edits = {
                k: v
                for k, v in sample_form_data(schema, person=offer.person).items()
                if offer.prefilled.get(k) in (None, "") and not k.startswith("father_")
            }
            data = {**edits, **offer.prefilled}
            files = {
                m.code: SimpleUploadedFile(f"{m.code}.pdf", PDF, content_type="application/pdf")
                for m in (required_materials(service, data) if service is not None else [])
                if m.satisfied_by == "upload"
            }
            accepted = self._call(
                "offer_accept", offer_accept, actor=actor, offer=offer, form_data=edits, files=files
            )
            if accepted is not None and accepted.case_id:
                from tongban.cases.models import Case

                case = Case.objects.get(pk=accepted.case_id)
                self.out.counts["cases_from_offers"] += 1
                self._case_follow(case, token, now)
        elif draw < self.mix.offer_accept + self.mix.offer_decline:
            self._call("offer_decline", offer_decline, actor=actor, offer=offer, reason="已在医院窗口办理")

    # --- 12345 ---

    def ticket_arrive(
        self,
        now: dt.datetime,
        spike: bool,
        kind: str,
        channel: str,
        token: int,
        text: str,
        department: str,
        district: str,
        repeated: bool,
        answered: bool,
        phone: int,
    ) -> None:
        """A call drawn in ``_arrivals`` (its type, text, district; a repeat of an earlier problem is drawn there)."""
        from tongban.hotline.models import Ticket
        from tongban.hotline.services import ticket_create

        extra = {}
        if answered:
            extra["answer"] = "已按办事指南当场答复来电人，并告知可在“一网通办”查询办理进度。"
        ticket = self._call(
            "ticket_create",
            ticket_create,
            actor=self.cast.operator,
            channel=channel,
            ticket_type=kind,
            text=text,
            district_code=district,
            contact_name="市民",
            contact_phone=f"139{phone:08d}",
            **extra,
        )
        if ticket is None:
            return
        self.out.counts["tickets_created"] += 1
        if spike:
            self.out.counts["spike_tickets"] += 1
        if repeated:
            self.out.counts["tickets_repeated_by_callers"] += 1
        if ticket.status == Ticket.Status.ANSWERED:
            self.out.counts["tickets_answered_at_first_contact"] += 1
            return
        self._ticket_next(ticket, token, now, department)

    def _ticket_next(self, ticket, token: int, now: dt.datetime, department: str, *, round_: int = 0) -> None:
        from tongban.hotline.models import Ticket

        rng = self._case_rng(token, 20 + round_)
        if ticket.status in (Ticket.Status.DISPATCHING, Ticket.Status.REOPENED):
            self.at(
                now + dt.timedelta(minutes=rng.uniform(5, 90)), "t_dispatch", ticket.pk, token, department
            )
        elif ticket.status == Ticket.Status.DISPATCHED:
            self.at(office_time(now, rng, hours=rng.uniform(0.2, 4)), "t_accept", ticket.pk, token, round_)
            if ticket.ticket_type == "complaint" and round_ == 0 and rng.random() < self.mix.supervise_share:
                self.at(office_time(now, rng, days=1), "t_supervise", ticket.pk)

    def do_t_dispatch(self, now, ticket_pk, token, department) -> None:
        from tongban.hotline.models import Ticket
        from tongban.hotline.services import ticket_dispatch, ticket_merge

        ticket = Ticket.objects.select_related("duplicate_of").get(pk=ticket_pk)
        if ticket.status != Ticket.Status.DISPATCHING:
            return
        into = ticket.duplicate_of
        merged = into is not None and into.status in Ticket.OPEN
        if merged and self._call(
            "ticket_merge", ticket_merge, actor=self.cast.dispatcher, ticket=ticket, into=into
        ):
            self.out.counts["tickets_merged"] += 1
            return
        code = ticket.suggested_department or department
        done = self._call(
            "ticket_dispatch",
            ticket_dispatch,
            actor=self.cast.dispatcher,
            ticket=ticket,
            department_code=code,
        )
        if done is not None:
            self._ticket_next(done, token, now, department)

    def do_t_accept(self, now, ticket_pk, token, round_) -> None:
        from tongban.hotline.models import Ticket
        from tongban.hotline.services import ticket_accept

        ticket = Ticket.objects.get(pk=ticket_pk)
        if ticket.status != Ticket.Status.DISPATCHED or ticket.department_id is None:
            return
        handler = self.cast.for_role(ticket.department_id, "dept_handler")
        if self._call("ticket_accept", ticket_accept, actor=handler, ticket=ticket) is None:
            return
        rng = self._case_rng(token, 30 + round_)
        if rng.random() < LATE_SHARE:
            when = office_time(now, rng, days=(ticket.limit_days or 5) + rng.randint(1, 2))
        elif rng.random() < 0.6:
            when = office_time(now, rng, hours=rng.uniform(1, 6))
        else:
            when = office_time(now, rng, days=rng.randint(1, 3))
        self.at(when, "t_reply", ticket_pk, token, round_)

    def do_t_reply(self, now, ticket_pk, token, round_) -> None:
        from tongban.hotline.models import Ticket
        from tongban.hotline.services import ticket_reply

        ticket = Ticket.objects.get(pk=ticket_pk)
        if (
            ticket.status not in (Ticket.Status.DISPATCHED, Ticket.Status.IN_HAND)
            or ticket.department_id is None
        ):
            return
        handler = self.cast.for_role(ticket.department_id, "dept_handler")
        gist = ticket.text.strip()[:30]
        reply = f"您反映的“{gist}”问题已收悉，经现场核实已安排处理，处理结果已电话告知。"
        if self._call("ticket_reply", ticket_reply, actor=handler, ticket=ticket, reply=reply) is None:
            return
        rng = self._case_rng(token, 40 + round_)
        self.at(office_time(now, rng, days=1), "t_callback", ticket_pk, token, round_)

    def do_t_callback(self, now, ticket_pk, token, round_) -> None:
        from tongban.hotline.models import Ticket
        from tongban.hotline.services import ticket_callback, ticket_reopen

        ticket = Ticket.objects.get(pk=ticket_pk)
        if ticket.status != Ticket.Status.REPLIED:
            return
        rng = self._case_rng(token, 50 + round_)
        satisfaction = _pick(rng, self.mix.satisfaction)
        done = self._call(
            "ticket_callback",
            ticket_callback,
            actor=self.cast.operator,
            ticket=ticket,
            satisfaction=satisfaction,
        )
        if done is None:
            return
        self.out.counts[f"ticket_satisfaction_{satisfaction}"] += 1
        if satisfaction <= 2 and round_ == 0 and rng.random() < self.mix.reopen_share:
            reopened = self._call(
                "ticket_reopen",
                ticket_reopen,
                actor=self.cast.operator,
                ticket=done,
                reason="来电人表示问题仍未解决，要求重新处理",
            )
            if reopened is not None:
                self._ticket_next(reopened, token, now, "", round_=1)

    def do_t_supervise(self, now, ticket_pk) -> None:
        from tongban.hotline.models import Ticket
        from tongban.hotline.services import ticket_supervise

        ticket = Ticket.objects.get(pk=ticket_pk)
        if ticket.status not in Ticket.OPEN:
            return
        self._call(
            "ticket_supervise",
            ticket_supervise,
            actor=self.cast.supervisor,
            ticket=ticket,
            note="市民反映集中，请加快办理并按时回复",
        )

    # --- plumbing ---

    def _call(self, what: str, service, **kwargs):
        """Call a service; a refusal (validation, conflict, permission) is counted, not fatal."""
        try:
            result = service(**kwargs)
        except (ValidationError, DomainError, PermissionDenied) as exc:
            self.out.errors[f"{what}: {type(exc).__name__}"] += 1
            logger.debug("simulate: %s refused: %s", what, exc)
            return None
        self.out.did(what)
        return result

    def _dispatch(self, kind: str, payload) -> None:
        getattr(self, f"do_{kind}")(self.clock.now(), *payload)

    def _deliver_queued(self, moment: dt.datetime) -> None:
        """The worker beside the web processes: what the run's commits queued (events, messages' channel
        deliveries) is delivered once a virtual minute has passed since the last delivery, in bulk."""
        if moment >= self.next_delivery:
            self.outbox.flush(self.out)
            self.next_delivery = moment.replace(second=0, microsecond=0) + DELIVERY_EVERY

    def _worker_jobs(self, hour_start: dt.datetime) -> None:
        """What the worker's periodic tasks would have done in the hour that ends now."""
        from tongban.core.audit import audit_checkpoint_create
        from tongban.hotline.analytics import spikes_detect
        from tongban.proactive.services import milestones_sweep
        from tongban.supervision.services import deadlines_check

        local_hour = hour_start.astimezone(calendar.SHANGHAI)
        self.outbox.flush(self.out)
        event_deliver_due(self.out)
        if local_hour.hour == 6:
            self.out.worker["milestone_sweeps"] += 1
            milestones_sweep(today=local_hour.date())
        if local_hour.hour in (8, 12, 16, 20):
            for key, value in deadlines_check(today=local_hour.date()).items():
                if isinstance(value, int) and not key.endswith("_checked"):
                    self.out.worker[f"deadlines_{key}"] += value
        if local_hour.hour in (11, 17, 23):
            self.out.worker["spike_alerts"] += len(spikes_detect(today=local_hour.date()))
        if audit_checkpoint_create() is not None:
            self.out.worker["audit_checkpoints"] += 1

    def run(self) -> dict:
        """Set up the cast, then drive the days (in ``processes`` processes); Ctrl-C (or SIGTERM) stops after the
        action in hand and still returns the figures of what was simulated (``interrupted_at`` says when, in
        virtual time)."""
        from huey.contrib.djhuey import HUEY

        logging.getLogger("huey").setLevel(logging.WARNING)  # a line per queued job otherwise
        load_before = os.getloadavg()
        first_moment = local(self.start, dt.time(0, 0))
        immediate = HUEY.immediate
        HUEY.immediate = True  # another queued job runs here, as a worker beside it would
        try:
            with virtual_clock(first_moment):
                setup_started = time.perf_counter()
                self._setup()
                setup = time.perf_counter() - setup_started
            if self.processes == 1:
                part = self._drive(first_moment)
                parts, wall = [part], part["wall"]
            else:
                parts, wall = self._fork(first_moment)
        finally:
            HUEY.immediate = immediate
        for part in parts:
            self.out.merge(part["out"])
        self.days_done = min(part["days_done"] for part in parts)
        figures = self._figures(
            wall=wall,
            cpu=sum(part["cpu"] for part in parts),
            load_before=load_before,
            start=first_moment,
            end=max(part["end"] for part in parts),
        )
        figures["processes"] = self.processes
        locks = [part["lock"] for part in parts if part["lock"]]
        if locks:
            # SQLite's writers' queue (core/db/base.py): what the processes could not do at once.
            figures["writer_lock"] = {
                key: round(sum(lock[key] for lock in locks), 2)
                for key in ("transactions", "wait_s", "held_s", "held_cpu_s")
            }
        if self.processes > 1:
            figures["cpu_seconds_per_process"] = [round(part["cpu"], 2) for part in parts]
            figures["peak_rss_mb_per_process"] = [round(part["rss"], 1) for part in parts]
            figures["peak_rss_mb"] = round(max(rss_peak_mb(), *(part["rss"] for part in parts)), 1)
        figures["setup_seconds"] = round(setup, 2)
        stopped = [part["interrupted"] for part in parts if part["interrupted"] is not None]
        if stopped:
            figures["interrupted_at"] = (
                min(stopped).astimezone(calendar.SHANGHAI).isoformat(timespec="seconds")
            )
        return figures

    def _drive(self, first_moment: dt.datetime) -> dict:
        """This process's share of the days (all of them with one process): its figures, to be merged."""
        interrupted = None
        self.next_delivery = first_moment
        with (
            virtual_clock(first_moment) as self.clock,
            _stop_on_signals() as stop,
            outbox_queued() as self.outbox,
            _leases_for(self.processes),
        ):
            self.stop = stop
            lock_started = _writer_lock_stats()
            started, cpu_started = time.perf_counter(), cpu_seconds()
            for day_index in range(self.days):
                if stop.requested:
                    interrupted = self.clock.now()
                    break
                self._day(self.start + dt.timedelta(days=day_index), first=day_index == 0)
                if not stop.requested:
                    self.days_done = day_index + 1
            if stop.requested and interrupted is None:
                interrupted = self.clock.now()
            # What is still scheduled after the last day stays open, as a city's open cases do.
            self.out.counts["actions_left_open"] = len(self.heap)
            self.outbox.flush(self.out)
            event_deliver_due(self.out)
            if self.processes > 1:
                # What the others' last deliveries emitted: the first process delivers it once they are done.
                self._wait()
                if self.index == 0:
                    self.outbox.flush(self.out)
                    event_deliver_due(self.out)
            end_moment = self.clock.now()
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
            lock = {key: value - lock_started[key] for key, value in _writer_lock_stats().items()}
        out, self.out = self.out, Outcome()
        return {
            "out": out,
            "wall": wall,
            "cpu": cpu,
            "rss": rss_peak_mb(),
            "end": end_moment,
            "days_done": self.days_done,
            "interrupted": interrupted,
            "lock": lock,
        }

    def _fork(self, first_moment: dt.datetime) -> tuple[list, float]:
        """Run the days in ``processes`` forked processes (each its own database connection, virtual clock and
        heap; they meet at every hour's end) and collect their figures. A signal to this process stops them."""
        import multiprocessing
        import signal
        import traceback

        from django.db import connections

        context = multiprocessing.get_context("fork")
        self.barrier = context.Barrier(self.processes)
        progress = context.Array("q", self.processes, lock=False)
        connections.close_all()  # each process opens its own connection (a forked one would be shared)
        pipes, children = [], []
        for index in range(self.processes):
            receive, send = context.Pipe(duplex=False)

            def child(index=index, send=send):
                self.index = index

                def advance(n, index=index):
                    progress[index] += n

                self.progress = advance
                try:
                    part = self._drive(first_moment)
                    connections.close_all()
                    send.send(("ok", part))
                except BaseException:  # reported to the parent, which raises it
                    self.barrier.abort()
                    send.send(("error", traceback.format_exc()))
                finally:
                    send.close()

            process = context.Process(target=child, name=f"simulate-{index}")
            process.start()
            send.close()
            pipes.append(receive)
            children.append(process)
        started = time.perf_counter()
        results: dict = {}
        shown = 0
        forwarded = False
        with _stop_on_signals() as stop:
            while len(results) < len(pipes):
                if stop.requested and not forwarded:  # SIGTERM to this process only: pass it on
                    forwarded = True
                    for process in children:
                        if process.pid is not None and process.is_alive():
                            os.kill(process.pid, signal.SIGTERM)
                for index, pipe in enumerate(pipes):
                    if index not in results and pipe.poll(0.2):
                        try:
                            results[index] = pipe.recv()
                        except EOFError:
                            results[index] = (
                                "error",
                                f"simulation process {index} ended without its figures",
                            )
                done = sum(progress)
                if done > shown:
                    self.progress(done - shown)
                    shown = done
        for process in children:
            process.join()
        wall = time.perf_counter() - started
        failed = [text for status, text in results.values() if status == "error"]
        if failed:
            raise RuntimeError("a simulation process failed:\n" + failed[0])
        return [results[index][1] for index in range(self.processes)], wall

    def _day(self, day: dt.date, *, first: bool) -> None:
        working = calendar.is_working_day(day)
        shares = {key: 1.0 if working else REST_DAY_SHARE[key] for key in self.volume}
        cases = hourly(round(self.volume["cases"] * shares["cases"]), CASE_RHYTHM)
        tickets = hourly(round(self.volume["tickets"] * shares["tickets"]), TICKET_RHYTHM)
        births = hourly(round(self.volume["births"] * shares["births"]), (1,) * 24)
        spike = hourly(
            round(self.volume["tickets"] * SPIKE_SHARE) if first else 0, (0,) * 8 + (1,) * 4 + (0,) * 12
        )
        if self.index == 0:  # a day is counted once, whatever the processes
            self.out.counts["days_working" if working else "days_rest"] += 1
        for hour in range(24):
            hour_start = local(day, dt.time(hour))
            hour_end = hour_start + dt.timedelta(hours=1)
            arrivals = self._arrivals(
                hour_start, cases=cases[hour], tickets=tickets[hour], spike=spike[hour], births=births[hour]
            )
            for stamp, owner, what, args in arrivals:
                if owner % self.processes == self.index:
                    heapq.heappush(self.heap, (stamp, next(self.seq), "arrive", (what, args)))
            end = hour_end.timestamp()
            while self.heap and self.heap[0][0] < end and not self.stop.requested:
                stamp, _seq, kind, payload = heapq.heappop(self.heap)
                moment = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
                self._deliver_queued(moment)
                self.clock.move_to(moment)
                if kind == "arrive":
                    what, args = payload
                    getattr(self, what)(self.clock.now(), *args)
                    self.progress(1)
                else:
                    self._dispatch(kind, payload)
            if self.stop.requested:
                return
            self.clock.move_to(hour_end - dt.timedelta(microseconds=1))
            self._hour_end(hour_start)
            if self.stop.requested:
                return

    def _arrivals(
        self, hour_start: dt.datetime, *, cases: int, tickets: int, spike: int, births: int
    ) -> list:
        """The hour's arrivals in time order, each with every draw that decides it: ``(timestamp, owner, method,
        arguments)``.

        Every process draws all of them from the run's generator (the same sequence in each) and runs those it owns
        (``owner % processes == index``): an applicant's, a mother's or an enterprise's applications (and a mother's
        births) in one process, a district's 12345 tickets in one (``ticket_create`` looks for a duplicate in the
        ticket's district). So the
        partition depends on the seed only, and a process takes, in the same order, the actions that one process
        would take for its share. A caller who repeats a problem repeats one of the last 200 drawn (not created)."""
        rng = self.rng
        times = [(rng.uniform(0, 3600), "case") for _ in range(cases)]
        times += [(rng.uniform(0, 3600), "ticket") for _ in range(tickets)]
        times += [(rng.uniform(0, 3600), "spike") for _ in range(spike)]
        times += [(rng.uniform(0, 3600), "birth") for _ in range(births)]
        times.sort(key=lambda t: t[0])
        base = hour_start.timestamp()
        arrivals = []
        for offset, what in times:
            if what == "case":
                index = rng.choices(self._service_range, self._service_weights)[0]
                pool = self._service_pools[index]
                person = rng.randrange(len(getattr(self.cast, pool)))
                args = (index, pool, person, rng.getrandbits(40), rng.random())
                arrivals.append((base + offset, person, "case_arrive", args))
            elif what == "birth":
                mother = rng.randrange(len(self.cast.mothers))
                args = (mother, rng.getrandbits(40), rng.choice("MF"), rng.randint(2600, 4200))
                arrivals.append((base + offset, mother, "birth_arrive", args))
            else:
                spiked = what == "spike"
                kind = "complaint" if spiked else _pick(rng, TICKET_TYPES)
                channel = _pick(rng, TICKET_CHANNELS)
                token = rng.getrandbits(40)
                repeated = False
                if spiked:
                    text, department, _topic = rng.choice(self.spike_rows)
                    district = SPIKE_DISTRICT
                elif kind != "consult" and self.recent_tickets and rng.random() < self.mix.duplicate_share:
                    text, department, district = rng.choice(self.recent_tickets)
                    text, repeated = f"我再反映一次，{text}", True
                else:
                    text, department, _topic = rng.choice(self.corpus)
                    district = rng.choice(DISTRICT_CODES)
                answered = kind == "consult" and rng.random() < FIRST_CONTACT
                if kind != "consult":
                    self.recent_tickets.append((text, department, district))
                args = (spiked, kind, channel, token, text, department, district, repeated, answered)
                args += (rng.randrange(10**8),)
                arrivals.append((base + offset, DISTRICT_INDEX[district], "ticket_arrive", args))
        return arrivals

    def _hour_end(self, hour_start: dt.datetime) -> None:
        """The worker's periodic jobs of the hour. With several processes, after every process has ended the hour
        and delivered what it queued, the first runs them while the others wait: the jobs see the whole hour."""
        if self.processes == 1:
            self._worker_jobs(hour_start)
            return
        self.outbox.flush(self.out)
        event_deliver_due(self.out)
        self._wait()
        if self.index == 0 and not self.stop.requested:
            self._worker_jobs(hour_start)
        self._wait()

    def _wait(self) -> None:
        """Wait for the other processes at the hour's end; a process that stops (a signal, an error) breaks the
        barrier, and the others stop too."""
        import threading

        if self.stop.requested:
            self.barrier.abort()
            return
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            self.stop.requested = True

    def _figures(self, *, wall: float, cpu: float, load_before, start, end) -> dict:
        c = self.out.counts
        cases = c["cases_submitted"]
        figures = {
            "simulated_days": self.days_done,
            "start": self.start.isoformat(),
            "seed": self.seed,
            "per_working_day": self.volume,
            "cast": {
                "applicants": len(self.cast.applicants),
                "mothers": len(self.cast.mothers),
                "enterprises": len(self.cast.enterprises),
            },
            "cases": cases,
            "tickets": c["tickets_created"],
            "births": c["birth"],
            "transitions": self.out.transitions,
            "wall_seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "cases_per_s": round(cases / wall, 2) if wall else 0.0,
            "transitions_per_s": round(self.out.transitions / wall, 2) if wall else 0.0,
            "cpu_ms_per_transition": round(1000 * cpu / max(1, self.out.transitions), 2),
            "peak_rss_mb": round(rss_peak_mb(), 1),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "database": connection.vendor,
            "actions": dict(sorted(c.items())),
            "worker": dict(sorted(self.out.worker.items())),
            "refused_submissions": dict(sorted(self.out.refused.items())),
            "refusals": dict(sorted(self.out.errors.items())),
            "services_dropped": self.out.dropped,
        }
        figures["indicators"] = run_indicators(self.out, start=start, end=end)
        figures.update(spike_context(self.start))
        figures["city_indicators"] = city_indicators(start, end)
        return figures


def spike_context(first_day: dt.date) -> dict:
    """What the spike alerts are measured against: the city's 12345 tickets a day over the detector's baseline
    (the ``BASELINE_DAYS`` days before the run), and whether the run's planned spike (one topic in one district on
    the first day) was raised. ``spikes_detect`` compares each topic and district with its own 28 days: a day
    simulated at several times the volume of that history (the demo city's month of 300 tickets a day against a
    district day's 1,656) raises alerts for most busy pairs; docs/simulation.md ("Spike alerts")."""
    from tongban.hotline.analytics import BASELINE_DAYS
    from tongban.hotline.models import SpikeAlert, Ticket

    first = local(first_day, dt.time(0, 0))
    before = Ticket.objects.filter(
        created_at__gte=first - dt.timedelta(days=BASELINE_DAYS), created_at__lt=first
    ).count()
    planned = SpikeAlert.objects.filter(
        topic=SPIKE_TOPIC, district__code=SPIKE_DISTRICT, day=first_day
    ).exists()
    return {"hotline_history_per_day": round(before / BASELINE_DAYS, 1), "spike_planned_raised": planned}


def city_indicators(start: dt.datetime, end: dt.datetime) -> dict:
    """The indicators app's headline figures (the five national indicators, reform measures, 好差评, hotline and
    proactive) over the simulated days, from its aggregate rows recomputed for those days first, and the
    catalogue's snapshot on the last day (what the worker's hourly refresh does; the run's worker jobs do not
    include it). Without the snapshot the catalogue's parts of the five would be "no data"."""
    from tongban.indicators.compute import catalog_snapshot, days_recompute
    from tongban.indicators.selectors import indicators_headline

    first, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    days_recompute(first, last)
    catalog_snapshot(last)
    return indicators_headline(first, last)


def _writer_lock_stats() -> dict:
    """This process's figures of SQLite's writers' queue (``core.db.base.writer_lock_stats``); empty on PostgreSQL."""
    if connection.vendor != "sqlite":
        return {}
    from tongban.core.db.base import writer_lock_stats

    return writer_lock_stats()


@contextlib.contextmanager
def _leases_for(processes: int):
    """With several processes, claims of the outbox's deliveries leased for longer than an hour of virtual time.

    A claimed delivery (an event's, a message's) is leased for 5 minutes, after which another worker may take it
    again (its worker is presumed lost). The processes' virtual clocks meet only at each hour's end: within an hour
    one may be up to an hour ahead of another, and would take a delivery the other claimed moments ago (in real
    time) as abandoned and run it a second time. Lost workers are not simulated, so the run leases for two hours."""
    if processes == 1:
        yield
        return
    from django.conf import settings

    from tongban.messaging import services as messaging

    with (
        mock.patch.object(settings, "TONGBAN_EVENT_CLAIM_LEASE_SECONDS", MULTIPROCESS_LEASE.total_seconds()),
        mock.patch.object(messaging, "CLAIM_LEASE", MULTIPROCESS_LEASE),
    ):
        yield


@contextlib.contextmanager
def _stop_on_signals():
    """A flag that SIGINT and SIGTERM set instead of raising: an exception in the middle of a service call could
    be swallowed (Huey's immediate mode catches KeyboardInterrupt in a task) or leave the run's counters behind."""
    import signal
    import threading

    class Stop:
        requested = False

    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def request(signum, frame):
        stop.requested = True

    previous = {sig: signal.signal(sig, request) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class OutboxQueue:
    """What the run's commits queued for the worker: events to deliver, messages whose channel deliveries are due.

    In a deployment a commit queues a Huey job per event (and per message with an SMS or e-mail); the worker runs
    them as they come. Run in the simulation's process one by one, each job claimed its one event in a transaction
    of its own and its delivery in another: the queue's bookkeeping cost more than the subscribers' work. Here the
    jobs wait until the next virtual minute (the worker's own sweep period) and are run together: one claim per
    hundred deliveries (``event_deliver``, ``deliveries_run``), the same subscribers, the same messages."""

    def __init__(self):
        self.events = 0
        self.messages = 0

    def queue_events(self, event_ids) -> None:
        self.events += len(event_ids)

    def queue_message(self, message_id) -> None:
        self.messages += 1

    def flush(self, out: Outcome | None = None) -> None:
        from tongban.messaging.services import deliveries_run

        # Delivering an event may send a message, which emits its own event: until nothing is left.
        while self.events or self.messages:
            if self.events:
                self.events = 0
                event_deliver_due(out)
            if self.messages:
                self.messages = 0
                sent = deliveries_run()
                if out is not None:
                    out.worker["message_deliveries"] += sent["sent"] + sent["failed"]


@contextlib.contextmanager
def outbox_queued() -> Iterator[OutboxQueue]:
    """Queue the prompt delivery jobs of events and messages in ``OutboxQueue`` for the block (instead of running
    each at its commit); ``flush`` delivers them."""
    from tongban.core import events
    from tongban.messaging import services as messaging

    queue = OutboxQueue()
    with (
        mock.patch.object(events, "_enqueue", queue.queue_events),
        mock.patch.object(messaging, "_enqueue", queue.queue_message),
    ):
        yield queue


def event_deliver_due(out: Outcome | None = None) -> int:
    """The worker's outbox sweep (``core.tasks.deliver_due_events``): deliver every due event now."""
    from tongban.core.events import event_deliver

    delivered = event_deliver()
    if out is not None:
        out.worker["event_deliveries"] += delivered
    return delivered


def run_indicators(out: Outcome, *, start: dt.datetime, end: dt.datetime) -> dict:
    """Headline figures of the run, counted from the run itself (its actions) and from the rows it wrote between
    ``start`` and ``end`` (virtual time). The indicators app (issue 15) is the place for the real indicators; point
    this function at it when it exists."""
    from tongban.proactive.models import Offer
    from tongban.supervision.models import Rectification, Warning

    c = out.counts
    completed = c["cases_completed_on_time"] + c["cases_completed_late"]
    warnings = Warning.objects.filter(created_at__gte=start, created_at__lte=end)
    offers = Offer.objects.filter(created_at__gte=start, created_at__lte=end)
    rated = sum(out.ratings.values())
    satisfied = sum(c[f"ticket_satisfaction_{n}"] for n in range(1, 6))
    return {
        "cases_completed": c["cases_completed"],
        "on_time_rate": round(c["cases_completed_on_time"] / completed, 4) if completed else None,
        "cases_rejected": c["cases_rejected"],
        "cases_withdrawn": c["withdraw"],
        "acceptance_refused": c["refuse_acceptance"],
        "supplements_requested": c["supplement_request"],
        "warnings_yellow": warnings.filter(level="yellow").count(),
        "warnings_red": warnings.filter(level="red").count(),
        "ratings": {str(level): out.ratings[level] for level in (5, 4, 3, 2, 1)},
        "good_rating_rate": round((out.ratings[5] + out.ratings[4]) / rated, 4) if rated else None,
        "rectifications_opened": Rectification.objects.filter(
            created_at__gte=start, created_at__lte=end
        ).count(),
        "rectifications_closed": c["rectification_close"],
        "offers_made": offers.exclude(status=Offer.Status.NOTIFIED).count(),
        "offers_accepted": offers.filter(status=Offer.Status.ACCEPTED).count(),
        "offers_declined": offers.filter(status=Offer.Status.DECLINED).count(),
        "tickets_first_contact_rate": (
            round(c["tickets_answered_at_first_contact"] / c["tickets_created"], 4)
            if c["tickets_created"]
            else None
        ),
        "tickets_duplicates_merged": c["tickets_merged"],
        "tickets_reopened": c["ticket_reopen"],
        "tickets_supervised": c["ticket_supervise"],
        "ticket_satisfaction_mean": (
            round(sum(n * c[f"ticket_satisfaction_{n}"] for n in range(1, 6)) / satisfied, 3)
            if satisfied
            else None
        ),
        "spike_alerts": out.worker["spike_alerts"],
    }


def default_start() -> dt.date:
    """The first working day after today and after the latest case (a second run continues the first)."""
    from django.db.models import Max

    from tongban.cases.models import Case

    latest = Case.objects.aggregate(at=Max("submitted_at"))["at"]
    day = calendar.today()
    if latest is not None:
        day = max(day, latest.astimezone(calendar.SHANGHAI).date())
    return calendar.add_working_days(day, 1)
