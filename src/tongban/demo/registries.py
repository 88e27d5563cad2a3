"""Demo seeding of the registries (基础库), consistent with the seeded persons, households and organisations.

``registries_seed(seed=...)`` runs after the demo city's persons and organisations are written (the demo seed
calls it in its transaction). It reads households in key order, a chunk at a time, infers each member's relation
from the household's structure (``demo.synthetic``: the head is the first adult; a spouse of the other sex and
a similar age; children 15+ years younger; parents 15+ years older), and writes, in batches of ``batch_size``
rows with one multi-row statement a batch:

* population: a membership for every member of every household;
* marriages: the head and spouse, and a couple of parents, married;
* births: a birth record for every child under 16 with a mother in the household (father: her spouse);
* social insurance: most working-age adults active with an employer (a random organisation), a few suspended;
  medical insurance: everyone, the employee scheme for insured workers, the resident scheme otherwise;
* real estate: one flat per household at its address, owned by the head (50/50 with the spouse), about 10%
  mortgaged and 0.5% seized, and the deed tax the head paid when buying it;
* business register: every enterprise, individual business and cooperative; tax: every organisation.

The demo citizens get what the demo bundles need: li.ming and chen.jing (one Huangpu household) are married and
own their flat ``DEMO_UNITS["li.ming"]`` half each; wang.xiuying owns ``DEMO_UNITS["wang.xiuying"]`` alone; no
demo household's flat is mortgaged or seized.

The same database seeded with the same ``seed`` gives the same registries (keys, numbers, dates). Memory stays
bounded: one chunk of households and one batch of rows at a time. No audit entry per row and no events: one
``registries.seed`` audit entry with the counts.
"""

from __future__ import annotations

import datetime
import random
import uuid
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.exchange.models import (
    BirthRecord,
    BusinessRegistration,
    DeedTaxPayment,
    HouseholdMembership,
    MarriageRecord,
    MedicalInsuranceRecord,
    Mortgage,
    PropertyOwnership,
    PropertyUnit,
    Seizure,
    SocialInsuranceRecord,
    TaxRegistration,
)
from tongban.exchange.registry_services import MARRIAGE_AGE, property_certificate_number
from tongban.identity.models import AdminUnit, Household, Organisation, Person

REFERENCE_DATE = datetime.date(2026, 1, 1)  # ages are counted on it, as in demo.synthetic
DEFAULT_BATCH_SIZE = 5_000

# The demo citizens' flats (不动产单元号). Seeded units have a cadastral zone starting with 1-9; these with 0.
DEMO_UNITS = {
    "li.ming": "310101002001GB00012F00030402",  # li.ming and chen.jing, 50/50, Huangpu
    "wang.xiuying": "310106016003GB00108F00020601",  # wang.xiuying alone, Jing'an: she sells it to li.ming
}
DEMO_USERNAMES = ("li.ming", "chen.jing", "wang.xiuying", "zhang.wei")

HOSPITALS = (
    "中国福利会国际和平妇幼保健院",
    "上海市第一妇婴保健院",
    "复旦大学附属妇产科医院",
    "上海交通大学医学院附属仁济医院",
    "上海市第六人民医院",
    "上海市长宁区妇幼保健院",
    "上海市浦东新区妇幼保健院",
    "上海市闵行区中心医院",
)
BANKS = (
    "中国工商银行股份有限公司上海市分行",
    "中国建设银行股份有限公司上海市分行",
    "中国银行股份有限公司上海市分行",
    "中国农业银行股份有限公司上海市分行",
    "交通银行股份有限公司上海市分行",
    "招商银行股份有限公司上海分行",
    "上海浦东发展银行股份有限公司上海分行",
    "上海银行股份有限公司",
)
SCOPES = (
    "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；信息系统集成服务。",
    "食品销售（仅销售预包装食品）；日用百货销售；办公用品销售。",
    "餐饮服务；食品经营。",
    "货物进出口；技术进出口；国内贸易代理。",
    "建设工程施工；住宅室内装饰装修。",
    "企业管理咨询；市场营销策划；会议及展览服务。",
    "道路货物运输（不含危险货物）；国内货物运输代理。",
    "服装服饰零售；鞋帽零售；针纺织品销售。",
)
BIRTH_LETTERS = "ABCDEFGHJKLMNPQRS"  # "T" is left to certificates issued by the birth service
RETIREMENT_AGE = {"M": 60, "F": 55}
REGISTERED_TYPES = {"enterprise", "individual", "coop"}
UUID_BASE_MS = int(datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC).timestamp() * 1000)
_RAND_B = (1 << 62) - 1
_MARKS = (0x7 << 76) | (0b10 << 62)


class _Writer:
    """Rows of ``model`` as tuples of ``columns`` in database form, inserted one multi-row statement a batch.

    Timestamps get "now"; other fields not given get their default (the demo's BulkWriter, kept here so that
    exchange does not import demo).
    """

    def __init__(self, model, columns, batch_size):
        meta = model._meta
        self.columns = list(columns)
        self.batch_size = batch_size
        self.constant_fields = [f for f in meta.concrete_fields if f.name not in set(columns)]
        quote = connection.ops.quote_name
        names = [meta.get_field(n).column for n in self.columns] + [f.column for f in self.constant_fields]
        self.table = quote(meta.db_table)
        self.column_sql = ", ".join(quote(n) for n in names)
        self.rows: list[tuple] = []
        self.written = 0

    def _constants(self):
        now = timezone.now()
        values = []
        for field in self.constant_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.has_default():
                value = field.get_default()
            else:
                value = None
            value = field.get_db_prep_save(value, connection)
            values.append(value.isoformat() if isinstance(value, datetime.datetime) else value)
        return tuple(values)

    def add(self, row):
        self.rows.append(row)
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self):
        if not self.rows:
            return
        constants = self._constants()
        rows = [row + constants for row in self.rows]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {self.table} ({self.column_sql}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(rows[0]))
                # Table and column names come from the model's metadata, quoted; values are parameters.
                sql = f"INSERT INTO {self.table} ({self.column_sql}) VALUES ({placeholders})"  # noqa: S608
                cursor.executemany(sql, rows)
        self.written += len(self.rows)
        self.rows = []


def _age(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _birthday(born: datetime.date, years: int) -> datetime.date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return born.replace(year=born.year + years, day=28)


def unit_number_for(district_code: str, index: int) -> str:
    """The ``index``-th seeded unit number of a district: valid, unique per index, zone not starting with 0."""
    return (
        f"{district_code}{100 + (index // 10**7) % 900:03d}{(index // 10**5) % 100:03d}"
        f"GB{(index // 100) % 1000:05d}F{(index // 10) % 10 + 1:04d}{index % 10 + 1:04d}"
    )


def infer_relations(members, on: datetime.date) -> list[str]:
    """Relations to the head for a household's members in registration order (the head: the first adult)."""
    ages = [_age(m["birth_date"], on) for m in members]
    head = next((i for i, age in enumerate(ages) if age >= 18), 0)
    head_age, head_sex = ages[head], members[head]["sex"]
    # A partner below the legal age of marriage (or of a head below it) is registered as "other".
    spouse = head_age < MARRIAGE_AGE[head_sex]
    relations = []
    for i, member in enumerate(members):
        age = ages[i]
        if i == head:
            relations.append("head")
        elif (
            not spouse
            and member["sex"] != head_sex
            and age >= MARRIAGE_AGE[member["sex"]]
            and abs(age - head_age) <= 10
        ):
            relations.append("spouse")
            spouse = True
        elif age <= head_age - 15:
            relations.append("child")
        elif age >= head_age + 15:
            relations.append("parent")
        else:
            relations.append("other")
    return relations


class _Seeder:
    def __init__(self, *, seed, batch_size, reference_date):
        self.rng = random.Random(f"tongban:{seed}:registries")
        self.on = reference_date
        self.index = 0
        self.counters = dict.fromkeys(("unit", "marriage", "birth", "card", "receipt", "certificate"), 0)
        self.batch_size = batch_size
        w = lambda model, cols: _Writer(model, cols, batch_size)  # noqa: E731
        self.memberships = w(HouseholdMembership, ["id", "household", "person", "relation", "since"])
        self.marriages = w(
            MarriageRecord,
            ["id", "party_a", "party_b", "registered_on", "certificate_number", "status", "office"],
        )
        self.births = w(
            BirthRecord,
            ["id", "certificate_number", "baby_name", "baby_sex", "birth_date", "birth_time", "weight_g",
             "hospital", "mother", "father", "baby", "recorded_at"],
        )  # fmt: skip
        self.si = w(
            SocialInsuranceRecord,
            ["id", "person", "employer", "status", "since", "card_number", "card_issued_on"],
        )
        self.mi = w(MedicalInsuranceRecord, ["id", "person", "scheme", "status", "since"])
        self.units = w(
            PropertyUnit,
            ["id", "unit_number", "district", "address", "use", "floor_area", "certificate_number"],
        )
        self.ownerships = w(PropertyOwnership, ["id", "unit", "owner_person", "share", "since"])
        self.mortgages = w(Mortgage, ["id", "unit", "creditor", "amount", "registered_on"])
        self.seizures = w(Seizure, ["id", "unit", "court", "reference", "ordered_on"])
        self.deed_tax = w(DeedTaxPayment, ["id", "unit", "payer", "amount", "paid_on", "receipt_number"])
        self.business = w(
            BusinessRegistration,
            ["id", "organisation", "registered_on", "business_scope", "registered_capital", "status"],
        )
        self.tax = w(TaxRegistration, ["id", "organisation", "taxpayer_number", "registered_on"])
        self.districts = {
            u["pk"].hex: (u["code"], u["name"])
            for u in AdminUnit.objects.filter(level=AdminUnit.Level.DISTRICT).values("pk", "code", "name")
        }
        self.employers = [pk.hex for pk in Organisation.objects.order_by("pk").values_list("pk", flat=True)]

    @property
    def writers(self):
        return (self.memberships, self.marriages, self.births, self.si, self.mi, self.units, self.ownerships,
                self.mortgages, self.seizures, self.deed_tax, self.business, self.tax)  # fmt: skip

    def key(self) -> str:
        """A new primary key (UUID version 7 layout: rows arrive in key order, as in the demo seed)."""
        rand = self.rng.getrandbits(74)
        self.index += 1
        return (
            f"{((UUID_BASE_MS + self.index) << 80) | ((rand >> 62) << 64) | (rand & _RAND_B) | _MARKS:032x}"
        )

    def next(self, counter: str) -> int:
        self.counters[counter] += 1
        return self.counters[counter]

    def day_between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        if end <= start:
            return start
        return start + datetime.timedelta(days=int(self.rng.random() * (end - start).days))

    # --- one household ---------------------------------------------------------------------------

    def household(self, household, members, demo_unit):
        on = self.on
        members.sort(key=lambda m: (m["created_at"], m["pk"]))
        relations = infer_relations(members, on)
        hid = household["pk"]
        district_pk = household["district_id"]
        district_code, district_name = self.districts[district_pk]
        head = spouse = None
        parents = []
        for member, relation in zip(members, relations, strict=True):
            member["relation"] = relation
            if relation == "head":
                head = member
            elif relation == "spouse":
                spouse = member
            elif relation == "parent":
                parents.append(member)
            born = member["birth_date"]
            since = (
                born
                if relation == "child" and _age(born, on) < 18
                else self.day_between(max(_birthday(born, 16), datetime.date(1990, 1, 1)), on)
            )
            self.memberships.add((self.key(), hid, member["pk"], relation, since.isoformat()))
        couples = []
        if head and spouse:
            couples.append((head, spouse))
        if len(parents) == 2 and parents[0]["sex"] != parents[1]["sex"]:
            couples.append((parents[0], parents[1]))
        for a, b in couples:
            adult = max(
                _birthday(a["birth_date"], MARRIAGE_AGE[a["sex"]]),
                _birthday(b["birth_date"], MARRIAGE_AGE[b["sex"]]),
            )
            registered = self.day_between(adult, min(_birthday(adult, 6), on))
            number = f"J{district_code}-{registered.year}-{self.next('marriage'):07d}"
            self.marriages.add(
                (self.key(), a["pk"], b["pk"], registered.isoformat(), number, "married", district_pk)
            )
        self._births(members, head, spouse)
        for member in members:
            self._insurance(member)
        self._property(household, district_pk, district_code, district_name, head, spouse, demo_unit)

    def _births(self, members, head, spouse):
        pair = [p for p in (head, spouse) if p is not None]
        mother = next((p for p in pair if p["sex"] == "F"), None)
        if mother is None:
            return
        father = next((p for p in pair if p["sex"] == "M"), None)
        rng = self.rng
        for child in members:
            if child["relation"] != "child" or _age(child["birth_date"], self.on) >= 16:
                continue
            born = child["birth_date"]
            number = f"{BIRTH_LETTERS[born.year % len(BIRTH_LETTERS)]}{self.next('birth'):09d}"
            time = datetime.time(int(rng.random() * 24), int(rng.random() * 60))
            weight = max(1500, min(4800, int(rng.gauss(3300, 420))))
            recorded = datetime.datetime.combine(
                born + datetime.timedelta(days=1 + int(rng.random() * 3)),
                datetime.time(10, 0),
                tzinfo=datetime.UTC,
            )
            self.births.add(
                (
                    self.key(), number, child["name"], child["sex"], born.isoformat(), time.isoformat(), weight,
                    HOSPITALS[int(rng.random() * len(HOSPITALS))], mother["pk"],
                    father["pk"] if father else None, child["pk"], recorded.isoformat(),
                )
            )  # fmt: skip

    def _insurance(self, member):
        rng, on = self.rng, self.on
        born = member["birth_date"]
        age = _age(born, on)
        employed = False
        if 18 <= age < RETIREMENT_AGE[member["sex"]]:
            draw = rng.random()
            if draw < 0.92:
                since = self.day_between(max(_birthday(born, 22), datetime.date(1995, 1, 1)), on)
                active = draw < 0.88 and bool(self.employers)
                employer = self.employers[int(rng.random() * len(self.employers))] if active else None
                card, issued = None, None
                if rng.random() < 0.95:
                    card = f"S{self.next('card'):08d}"
                    issued = self.day_between(since, on).isoformat()
                status = "active" if active else "suspended"
                self.si.add((self.key(), member["pk"], employer, status, since.isoformat(), card, issued))
                employed = active
                if employed:
                    self.mi.add((self.key(), member["pk"], "employee", "active", since.isoformat()))
        if not employed:
            since = max(born, datetime.date(2016, 1, 1))  # the city-rural resident scheme since 2016
            self.mi.add((self.key(), member["pk"], "resident", "active", since.isoformat()))

    def _property(self, household, district_pk, district_code, district_name, head, spouse, demo_unit):
        if head is None or _age(head["birth_date"], self.on) < 18:
            return
        rng, on = self.rng, self.on
        index = self.next("unit")
        unit_number = demo_unit or unit_number_for(district_code, index)
        owners = [head, spouse] if spouse else [head]
        start = max(_birthday(head["birth_date"], 22), datetime.date(1995, 1, 1))
        bought = self.day_between(start, on - datetime.timedelta(days=30))
        area = Decimal(40 + int(rng.random() * 120)) + Decimal(int(rng.random() * 100)) / 100
        certificate = property_certificate_number(district_code, bought.year, self.next("certificate"))
        unit = self.key()
        self.units.add(
            (unit, unit_number, district_pk, household["address"], "residential", str(area), certificate)
        )
        shares = ["50.00", "50.00"] if spouse else ["100.00"]
        for owner, share in zip(owners, shares, strict=True):
            self.ownerships.add((self.key(), unit, owner["pk"], share, bought.isoformat()))
        price = area * Decimal(20_000 + int(rng.random() * 60_000))
        rate = Decimal("0.01") if area <= 90 else Decimal("0.015")
        receipt = f"{bought.year}31{self.next('receipt'):012d}"
        tax = (price * rate).quantize(Decimal("0.01"))
        self.deed_tax.add((self.key(), unit, head["pk"], str(tax), bought.isoformat(), receipt))
        if demo_unit:
            return  # the demo citizens' flats stay free of mortgages and seizures
        draw = rng.random()
        if draw < 0.10:
            amount = (price * Decimal("0.6")).quantize(Decimal("1"))
            self.mortgages.add(
                (self.key(), unit, BANKS[int(rng.random() * len(BANKS))], str(amount), bought.isoformat())
            )
        if rng.random() < 0.005:
            ordered = self.day_between(bought, on)
            reference = f"({ordered.year})沪{district_code[-2:]}执{int(rng.random() * 9000) + 1000}号"
            self.seizures.add(
                (self.key(), unit, f"上海市{district_name}人民法院", reference, ordered.isoformat())
            )

    # --- organisations ---------------------------------------------------------------------------

    def organisation(self, organisation):
        rng, on = self.rng, self.on
        registered = self.day_between(datetime.date(1995, 1, 1), on - datetime.timedelta(days=60))
        if organisation["org_type"] in REGISTERED_TYPES:
            kind = organisation["org_type"]
            capital = {"enterprise": (10, 5000), "individual": (0, 10), "coop": (5, 200)}[kind]
            draw = rng.random()
            status = "active" if draw < 0.97 else ("revoked" if draw < 0.99 else "cancelled")
            self.business.add(
                (
                    self.key(),
                    organisation["pk"],
                    registered.isoformat(),
                    SCOPES[int(rng.random() * len(SCOPES))],
                    str(capital[0] + int(rng.random() * (capital[1] - capital[0] + 1))),
                    status,
                )
            )
        taxed = registered + datetime.timedelta(days=int(rng.random() * 30))
        self.tax.add(
            (self.key(), organisation["pk"], organisation["credit_code"], min(taxed, on).isoformat())
        )


def _rows(queryset):
    """The rows of a query as the database driver returns them: no per-value converters (UUIDs, dates)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _hex(value) -> str:
    """A UUID as 32 hex digits, whether the driver gave text (SQLite) or a UUID (PostgreSQL)."""
    return value if isinstance(value, str) else value.hex


def _date(value) -> datetime.date:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _demo_households() -> dict[str, str]:
    """household id (hex) → demo unit number, for the demo citizens' households that get a known flat."""
    rows = Person.objects.filter(user__username__in=DEMO_USERNAMES).values_list(
        "user__username", "household_id"
    )
    return {
        household.hex: DEMO_UNITS[username]
        for username, household in rows
        if household and username in DEMO_UNITS
    }


@transaction.atomic
def registries_seed(
    *,
    seed: int,
    actor: Actor = SYSTEM,
    batch_size: int = DEFAULT_BATCH_SIZE,
    reference_date: datetime.date = REFERENCE_DATE,
    progress=None,
) -> dict:
    """Fill the registries from the persons, households and organisations in the database; returns counts.

    Refuses (``ValueError``) when registry rows exist already. ``progress(n)`` is called with the number of
    persons done after each chunk.
    """
    if (
        HouseholdMembership.objects.exists()
        or PropertyUnit.objects.exists()
        or TaxRegistration.objects.exists()
    ):
        raise ValueError("the registries hold data already; they are seeded once, after the persons")
    seeder = _Seeder(seed=seed, batch_size=batch_size, reference_date=reference_date)
    demo = _demo_households()
    chunk = max(1, batch_size // 2)
    last = None
    persons = 0
    while True:
        query = Household.objects.order_by("pk")
        if last is not None:
            query = query.filter(pk__gt=last)
        households = [
            {"pk": _hex(pk), "district_id": _hex(district), "address": address}
            for pk, district, address in _rows(query.values_list("pk", "district_id", "address")[:chunk])
        ]
        if not households:
            break
        first, last = households[0]["pk"], households[-1]["pk"]
        members: dict = {}
        people = (
            Person.objects.filter(household_id__gte=uuid.UUID(first), household_id__lte=uuid.UUID(last))
            .order_by()
            .values_list("pk", "name", "sex", "birth_date", "household_id", "created_at")
        )
        for pk, name, sex, born, household, created in _rows(people):
            members.setdefault(_hex(household), []).append(
                {
                    "pk": _hex(pk),
                    "name": name,
                    "sex": sex,
                    "birth_date": _date(born),
                    "created_at": str(created),
                }
            )
        for household in households:
            found = members.get(household["pk"])
            if found:
                seeder.household(household, found, demo.get(household["pk"]))
                persons += len(found)
        last = uuid.UUID(last)
        if progress:
            progress(persons)
    last = None
    while True:
        query = Organisation.objects.order_by("pk")
        if last is not None:
            query = query.filter(pk__gt=last)
        organisations = [
            {"pk": _hex(pk), "org_type": org_type, "credit_code": credit_code}
            for pk, org_type, credit_code in _rows(
                query.values_list("pk", "org_type", "credit_code")[:batch_size]
            )
        ]
        if not organisations:
            break
        last = uuid.UUID(organisations[-1]["pk"])
        for organisation in organisations:
            seeder.organisation(organisation)
    for writer in seeder.writers:
        writer.flush()
    counts = {
        "memberships": seeder.memberships.written,
        "marriages": seeder.marriages.written,
        "birth_records": seeder.births.written,
        "social_insurance": seeder.si.written,
        "medical_insurance": seeder.mi.written,
        "property_units": seeder.units.written,
        "ownerships": seeder.ownerships.written,
        "mortgages": seeder.mortgages.written,
        "seizures": seeder.seizures.written,
        "deed_tax_payments": seeder.deed_tax.written,
        "business_registrations": seeder.business.written,
        "tax_registrations": seeder.tax.written,
    }
    audit_record(
        actor=actor, action="registries.seed", subject_type="registry", details={"seed": seed, **counts}
    )
    return counts
