"""Seeding the demo city (示范城市): streets, demo accounts, persons, households and organisations.

``demo_city_seed`` is the one entry point (``tongban seed`` calls it). It runs in one transaction, so an
interrupted seed leaves nothing behind, and writes one audit entry (``demo.seed``) with the counts
rather than one per row.

Reference data (city, districts, departments, roles) and the few demo accounts go through identity's
services, with their validation and audit entries. The synthetic population goes the fast way: rows
built by ``synthetic.CityGenerator`` (valid by construction, and a test checks a sample with the
validators) are written in batches with one multi-row statement per batch (``executemany`` on SQLite,
``COPY`` on PostgreSQL), without model instances or per-row ``full_clean``. Memory stays bounded: one
batch of rows at a time.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.ids import make_credit_code
from tongban.identity.models import AdminUnit, Department, Household, Organisation, Person, Staff, User
from tongban.identity.services import (
    admin_unit_ensure,
    departments_ensure,
    organisation_agent_add,
    organisation_create,
    person_create,
    staff_create,
    totp_device_ensure,
    user_create,
)

from . import reference as ref
from .models import SeedRun
from .synthetic import CityGenerator, HouseholdDraft, PersonDraft

DEFAULT_BATCH_SIZE = 5_000
Progress = Callable[[int], None]


# --- fast inserts ---------------------------------------------------------------------------------


class BulkWriter:
    """Insert rows of ``model`` given as tuples of ``columns`` (field names), in one statement a batch.

    Values must already be in database form (UUIDs as 32 hex digits, dates as ISO text, foreign keys as
    the prepared primary key). Every other concrete field gets its default (or "now" for ``auto_now``
    timestamps), so a field added to the model later with a default does not break the seed.
    """

    def __init__(self, model, columns):
        self.model = model
        self.columns = list(columns)
        meta = model._meta
        given = set(self.columns)
        # An auto-incremented primary key is left to the database.
        self.constant_fields = [
            f for f in meta.concrete_fields if f.name not in given and f is not meta.auto_field
        ]
        for field in self.constant_fields:
            timestamp = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            empty_text = field.empty_strings_allowed and field.blank  # Django's default for it is ""
            if not timestamp and not field.has_default() and not field.null and not empty_text:
                raise ValueError(f"{meta.label}.{field.name} needs a value: it has no default")
        quote = connection.ops.quote_name
        names = [meta.get_field(name).column for name in self.columns] + [
            f.column for f in self.constant_fields
        ]
        self.table = quote(meta.db_table)
        self.column_sql = ", ".join(quote(name) for name in names)
        self.rows: list[tuple] = []
        self.written = 0

    def _constants(self):
        now = timezone.now()
        values = []
        for field in self.constant_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.has_default() or (field.empty_strings_allowed and field.blank and not field.null):
                value = field.get_default()  # "" for a blank text field without a default
            else:
                value = None
            value = field.get_db_prep_save(value, connection)
            if isinstance(value, datetime.datetime):
                value = (
                    value.isoformat()
                )  # text: cheaper to send a million times, and both databases parse it
            values.append(value)
        return tuple(values)

    def write(self, rows):
        """Insert ``rows`` now; returns how many."""
        self.rows = rows
        return self.flush()

    def flush(self):
        if not self.rows:
            return 0
        constants = self._constants()
        rows = [row + constants for row in self.rows] if constants else self.rows
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {self.table} ({self.column_sql}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * (len(self.columns) + len(constants)))
                # Table and column names come from the model's metadata, quoted; values are parameters.
                sql = f"INSERT INTO {self.table} ({self.column_sql}) VALUES ({placeholders})"  # noqa: S608
                cursor.executemany(sql, rows)
        count = len(self.rows)
        self.written += count
        self.rows = []
        return count


# SQLite's page cache while seeding (KiB): the indexes of a million persons do not fit the default 2 MB, and
# a transaction whose pages keep spilling to the WAL is several times slower. Restored afterwards.
SQLITE_SEED_CACHE_KIB = 131_072


@contextmanager
def bulk_load_cache():
    """A larger SQLite page cache for the duration of a bulk load (nothing to do on PostgreSQL)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_SEED_CACHE_KIB:d}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous):d}")


def _pk_value(model, pk):
    """A primary key in the form the database stores it (hex text for UUIDs on SQLite)."""
    return model._meta.pk.get_db_prep_value(pk, connection)


# --- reference data -------------------------------------------------------------------------------


@transaction.atomic
def streets_ensure(*, actor: Actor = SYSTEM) -> dict[str, AdminUnit]:
    """Create the demo streets and towns below their districts (idempotent); returns them by code."""
    districts = {unit.code: unit for unit in AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT)}
    existing = {unit.code: unit for unit in AdminUnit.objects.filter(level=AdminUnit.Level.STREET)}
    streets = {}
    for district_code, items in ref.STREETS.items():
        for code, name, name_en in items:
            unit = existing.get(code)
            if unit is None or unit.name != name or unit.name_en != name_en:
                unit = admin_unit_ensure(
                    actor=actor,
                    code=code,
                    name=name,
                    name_en=name_en,
                    level=AdminUnit.Level.STREET,
                    parent=districts[district_code],
                )
            streets[code] = unit
    return streets


# --- demo accounts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    kind: str  # "staff" or "citizen"
    roles: tuple[str, ...]
    department: str
    created: bool  # False: the user was there already and was left alone (password unchanged)


def demo_totp_key(username: str, *, seed: int) -> str:
    """The demo TOTP secret of a staff account (40 hex digits), derived from the seed: demo only."""
    return hmac.new(b"tongban-demo-totp", f"{seed}:{username}".encode(), hashlib.sha256).hexdigest()[:40]


def _demo_user(*, actor, username, name, password_hash):
    user = user_create(actor=actor, username=username, password=None, first_name=name, check_password=False)
    user.password = password_hash
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def demo_staff_ensure(
    *, actor: Actor = SYSTEM, seed: int = ref.DEFAULT_SEED, password_hash: str = ""
) -> list[DemoAccount]:
    """One demo staff account for every staff role, each with a confirmed TOTP device (demo keys)."""
    password_hash = password_hash or make_password(ref.DEMO_PASSWORD)
    departments = {d.code: d for d in Department.objects.filter(code__in={row[2] for row in ref.DEMO_STAFF})}
    accounts = []
    for username, name, department_code, roles in ref.DEMO_STAFF:
        department = departments[department_code]
        if User.objects.filter(username=username).exists():
            accounts.append(DemoAccount(username, name, "staff", roles, department.name_zh, created=False))
            continue
        user = _demo_user(actor=actor, username=username, name=name, password_hash=password_hash)
        if username == ref.PLATFORM_ADMIN_USERNAME:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        staff_create(actor=actor, user=user, department=department, roles=roles)
        device = totp_device_ensure(actor=actor, user=user, confirmed=True)
        device.key = demo_totp_key(username, seed=seed)
        device.save(update_fields=["key"])
        accounts.append(DemoAccount(username, name, "staff", roles, department.name_zh, created=True))
    return accounts


def demo_citizen_drafts(generator: CityGenerator) -> list[tuple[str, HouseholdDraft, PersonDraft]]:
    """(username, household, person) of each demo citizen, drawn from the generator before anyone else.

    Citizens listed with the same street share one household.
    """
    drafts, households = [], {}
    for username, name, sex, birth, area_code, district_code, street_code in ref.DEMO_CITIZENS:
        household = households.get(street_code)
        if household is None:
            household = households[street_code] = generator.household(
                district=district_code, street=street_code, members=[]
            )
        person = generator.person(
            sex=sex,
            district=district_code,
            birth_date=datetime.date.fromisoformat(birth),
            area_code=area_code,
            name=name,
        )
        household.members.append(person)
        drafts.append((username, household, person))
    return drafts


@transaction.atomic
def demo_citizens_ensure(
    *,
    actor: Actor = SYSTEM,
    generator: CityGenerator,
    streets: dict[str, AdminUnit],
    password_hash: str = "",
) -> list[DemoAccount]:
    """The demo citizens (fixed persons with logins) and the enterprise one of them acts for."""
    password_hash = password_hash or make_password(ref.DEMO_PASSWORD)
    districts = {u.code: u for u in AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT)}
    accounts, persons, households = [], {}, {}
    for username, household_draft, draft in demo_citizen_drafts(generator):
        if User.objects.filter(username=username).exists():
            accounts.append(DemoAccount(username, draft.name, "citizen", ("citizen",), "", created=False))
            continue
        household = households.get(household_draft.id)
        if household is None:
            household = households[household_draft.id] = Household.objects.create(
                id=household_draft.uuid,
                number=household_draft.number,
                district=districts[household_draft.district],
                street=streets[household_draft.street],
                address=household_draft.address,
            )
        user = _demo_user(actor=actor, username=username, name=draft.name, password_hash=password_hash)
        persons[username] = person_create(
            actor=actor,
            resident_id=draft.resident_id,
            name=draft.name,
            sex=draft.sex,
            birth_date=draft.birth_date,
            phone=draft.phone,
            household_district=districts[draft.district],
            household=household,
            user=user,
        )
        accounts.append(DemoAccount(username, draft.name, "citizen", ("citizen",), "", created=True))
    agent = persons.get(ref.DEMO_ENTERPRISE["agent"])
    if agent is not None:
        district = districts[ref.DEMO_ENTERPRISE["district"]]
        organisation = organisation_create(
            actor=actor,
            credit_code=make_credit_code(district.code, "MA7TB001"),
            name=ref.DEMO_ENTERPRISE["name"],
            org_type=Organisation.Type.ENTERPRISE,
            legal_representative=agent,
            district=district,
        )
        organisation_agent_add(actor=actor, organisation=organisation, user=agent.user)
        accounts = [
            DemoAccount(
                a.username, a.name, a.kind, ("citizen", "enterprise_agent"), organisation.name, a.created
            )
            if a.username == agent.user.username
            else a
            for a in accounts
        ]
    return accounts


# --- the synthetic population ---------------------------------------------------------------------


def _row_batches(generator, people, batch_size, districts, streets):
    """(household rows, person rows) in database form, a batch of about ``batch_size`` persons at a time."""
    households, persons = [], []
    add_household, add_person = households.append, persons.append
    for draft in generator.households(people):
        district = districts[draft.district]
        add_household((draft.id, draft.number, district, streets[draft.street], draft.address))
        for m in draft.members:
            add_person(
                (m.id, m.resident_id, m.name, m.sex, m.birth_date.isoformat(), district, draft.id, m.phone)
            )
        if len(persons) >= batch_size:
            yield households, persons
            households, persons = [], []
            add_household, add_person = households.append, persons.append
    if households:
        yield households, persons


def persons_seed(
    *,
    generator: CityGenerator,
    people: int,
    streets: dict[str, AdminUnit],
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> dict:
    """Write ``people`` persons in their households, one batch at a time; returns the counts written.

    Run it inside a transaction (``demo_city_seed`` does): it has no audit entry of its own.
    """
    districts = {
        u.code: _pk_value(AdminUnit, u.pk) for u in AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT)
    }
    street_pks = {code: _pk_value(AdminUnit, unit.pk) for code, unit in streets.items()}
    households = BulkWriter(Household, ["id", "number", "district", "street", "address"])
    persons = BulkWriter(
        Person, ["id", "resident_id", "name", "sex", "birth_date", "household_district", "household", "phone"]
    )
    for household_rows, person_rows in _row_batches(generator, people, batch_size, districts, street_pks):
        households.write(household_rows)
        written = persons.write(person_rows)
        if progress:
            progress(written)
    return {"persons": persons.written, "households": households.written}


def organisations_seed(*, generator: CityGenerator, count: int, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Write ``count`` organisations with their legal representatives (sampled while seeding persons)."""
    districts = {
        u.code: _pk_value(AdminUnit, u.pk) for u in AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT)
    }
    writer = BulkWriter(
        Organisation, ["id", "credit_code", "name", "org_type", "legal_representative", "district"]
    )
    for draft in generator.organisations(count):
        writer.rows.append(
            (
                draft.id,
                draft.credit_code,
                draft.name,
                draft.org_type,
                draft.legal_representative,
                districts[draft.district],
            )
        )
        if len(writer.rows) >= batch_size:
            writer.flush()
    writer.flush()
    return writer.written


# --- the whole city -------------------------------------------------------------------------------


@dataclass
class SeedResult:
    run: SeedRun
    accounts: list[DemoAccount]


def demo_city_counts() -> dict:
    """What the database holds now, for the summary."""
    units = dict(AdminUnit.objects.values_list("level").annotate(n=Count("pk")).values_list("level", "n"))
    return {
        "admin_units": sum(units.values()),
        "districts": units.get(AdminUnit.Level.DISTRICT, 0),
        "streets": units.get(AdminUnit.Level.STREET, 0),
        "departments": Department.objects.count(),
        "staff": Staff.objects.count(),
        "users": User.objects.count(),
        "persons": Person.objects.count(),
        "households": Household.objects.count(),
        "organisations": Organisation.objects.count(),
    }


@transaction.atomic
def demo_city_seed(
    *,
    actor: Actor = SYSTEM,
    people: int = ref.DEFAULT_PEOPLE,
    organisations: int = ref.DEFAULT_ORGANISATIONS,
    seed: int = ref.DEFAULT_SEED,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> SeedResult:
    """Build the demo city into an empty database: the same city for the same seed.

    Refuses (``ValueError``) when persons exist already: ID numbers are unique by construction only
    within one seeding. ``people`` counts the synthetic persons; the demo citizens come on top.
    """
    if people < 0 or organisations < 0:
        raise ValueError("people and organisations must not be negative")
    if not -(2**63) <= seed < 2**63:
        # SeedRun.seed is a 64-bit integer: refuse before the work, not when the run is stored.
        raise ValueError("the seed must be a 64-bit integer")
    if Person.objects.exists():
        raise ValueError("the database already holds persons; the demo city is seeded into an empty one")
    started = time.perf_counter()
    departments_ensure(actor=actor)
    streets = streets_ensure(actor=actor)
    password_hash = make_password(ref.DEMO_PASSWORD)
    generator = CityGenerator(seed=seed)
    accounts = demo_staff_ensure(actor=actor, seed=seed, password_hash=password_hash)
    accounts += demo_citizens_ensure(
        actor=actor, generator=generator, streets=streets, password_hash=password_hash
    )
    generator.representative_target = organisations
    persons_started = time.perf_counter()
    with bulk_load_cache():
        written = persons_seed(
            generator=generator, people=people, streets=streets, batch_size=batch_size, progress=progress
        )
        persons_seconds = time.perf_counter() - persons_started
        organisations_written = organisations_seed(
            generator=generator, count=organisations, batch_size=batch_size
        )
        from tongban.demo.registries import registries_seed  # the departments' registries, from the same city

        registries = registries_seed(seed=seed, actor=actor, batch_size=batch_size)
    from .scenarios import demo_services_ensure  # the catalogue, processes and demo cases

    demo_services_ensure(actor=actor)
    from .enterprise import enterprise_demo_ensure  # enterprise figures, policies, a first check (惠企政策)

    enterprise = enterprise_demo_ensure(seed=seed, actor=actor, batch_size=batch_size)
    seconds = time.perf_counter() - started
    counts = {
        **demo_city_counts(),
        "seeded_persons": written["persons"],
        "seeded_households": written["households"],
        "seeded_organisations": organisations_written,
        "registries": registries,
        "enterprise": enterprise,
        "retired_area_codes": generator.retired_count,
        "other_province_codes": generator.other_province_count,
        "persons_seconds": round(persons_seconds, 3),
    }
    run = SeedRun.objects.create(
        seed=seed, people=people, organisations=organisations, counts=counts, seconds=round(seconds, 3)
    )
    audit_record(
        actor=actor,
        action="demo.seed",
        subject_type="demo_city",
        subject_id=str(run.pk),
        details={"seed": seed, "people": people, "organisations": organisations, "counts": counts},
    )
    return SeedResult(run=run, accounts=accounts)
