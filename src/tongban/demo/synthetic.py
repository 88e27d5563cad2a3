"""The synthetic population of the demo city, generated without touching the database.

``CityGenerator`` turns a seed into households with their members, and organisations with their legal
representatives, always the same for the same seed. It streams: memory stays bounded whatever the
number of persons (a fixed table of sequence counters, a reservoir of candidate legal representatives
the size of the organisation count, and one batch at a time in the caller).

Resident ID numbers are valid by construction and unique without any lookup: the sequence number of a
person is drawn, per (area code, birth date, sex), from a fixed permutation of the 499 odd (men) or even
(women) numbers, so two persons never get the same one. Ages are counted on ``REFERENCE_DATE`` rather
than today, so that a city seeded next year is the same city.
"""

from __future__ import annotations

import datetime
import random
import uuid
from array import array
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate

from tongban.core.ids import (
    DISTRICTS,
    RETIRED_AREA_CODES,
    area_lookup,
    make_credit_code,
    resident_id_check_char,
)

from . import reference as ref

REFERENCE_DATE = datetime.date(2026, 1, 1)
MAX_AGE = 95
SEQUENCES_PER_KEY = 499  # odd numbers 1..997 for men, even numbers 2..998 for women
ALPHABET31 = "0123456789ABCDEFGHJKLMNPQRTUWXY"
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "184",
    "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip
N_PREFIXES = len(MOBILE_PREFIXES)
OTHER_AREAS = ref.OTHER_AREAS
GIVEN_MALE, GIVEN_FEMALE = ref.GIVEN_MALE, ref.GIVEN_FEMALE
HOUSEHOLD_SIZES = ((1, 27), (2, 33), (3, 24), (4, 9), (5, 7))  # mean ≈ 2.4, as in the 2020 census
HEAD_AGE_BANDS = (
    (22, 29, 12),
    (30, 39, 18),
    (40, 49, 16),
    (50, 59, 17),
    (60, 69, 18),
    (70, 79, 12),
    (80, 89, 6),
    (90, 95, 1),
)
ORGANISATION_KINDS = (
    # (Organisation.Type value, authority, institution type, body prefix, weight)
    ("enterprise", "9", "1", "MA1", 80),
    ("individual", "9", "2", "MA1", 10),
    ("coop", "9", "3", "MA1", 2),
    ("institution", "1", "2", "MB0", 3),
    ("social", "5", "1", "MJ0", 2),
    ("social", "5", "2", "MJ0", 2),
    ("social", "5", "3", "MJ0", 1),
)


@dataclass(slots=True)
class PersonDraft:
    id: str  # 32 hex digits (a UUID, see ordered_uuid_hex), as stored
    resident_id: str
    name: str
    sex: str
    birth_date: datetime.date
    district: str  # the household district (a current district code)
    phone: str
    area_kind: str = ""  # "retired": a retired Shanghai code; "other": a code of another province

    @property
    def uuid(self):
        return uuid.UUID(self.id)


@dataclass(slots=True)
class HouseholdDraft:
    id: str
    number: str
    district: str
    street: str
    address: str
    members: list[PersonDraft] = field(default_factory=list)

    @property
    def uuid(self):
        return uuid.UUID(self.id)


@dataclass(slots=True)
class OrganisationDraft:
    id: str
    credit_code: str
    name: str
    org_type: str
    district: str
    legal_representative: str | None  # a PersonDraft.id

    @property
    def uuid(self):
        return uuid.UUID(self.id)


# Primary keys are UUIDs in the version 7 layout: a 48-bit "millisecond" that counts up (from the
# reference date, one per row) and 74 random bits. Rows therefore arrive in key order, so the primary key
# index (and the foreign key indexes pointing at it) grow at their end instead of being written all over,
# which is what keeps a million-row seed fast; the random bits keep the keys unguessable.
UUID7_BASE_MS = int(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).timestamp() * 1000)
_RAND_B_MASK = (1 << 62) - 1
_UUID7_MARKS = (0x7 << 76) | (0b10 << 62)


def ordered_uuid_hex(index: int, rng: random.Random) -> str:
    """The ``index``-th key of a table as 32 hex digits (UUID version 7 layout, see above)."""
    rand = rng.getrandbits(74)
    return f"{((UUID7_BASE_MS + index) << 80) | ((rand >> 62) << 64) | (rand & _RAND_B_MASK) | _UUID7_MARKS:032x}"


def _cumulative(weights):
    return list(accumulate(weights))


class CityGenerator:
    """Deterministic generator of the demo city's people and organisations for one seed."""

    def __init__(self, *, seed: int = ref.DEFAULT_SEED, reference_date: datetime.date = REFERENCE_DATE):
        self.seed = seed
        self.reference_date = reference_date
        self.rng = random.Random(f"tongban:{seed}:people")
        self.reservoir_rng = random.Random(f"tongban:{seed}:representatives")
        self.ref_ord = reference_date.toordinal()
        self.min_ord = datetime.date(reference_date.year - MAX_AGE - 2, 1, 1).toordinal()
        self.days = self.ref_ord - self.min_ord + 1
        self.areas = [*DISTRICTS, *RETIRED_AREA_CODES, *ref.OTHER_AREAS]
        self.area_index = {code: index for index, code in enumerate(self.areas)}
        # Two counters (women, men) per area code and day: about 6 MB, whatever the population.
        self.counters = array("H", bytes(2 * 2 * len(self.areas) * self.days))
        self.days_cache: dict[int, tuple[str, int, datetime.date]] = {}
        self.person_count = 0
        self.household_count = 0
        self.retired_count = 0
        self.other_province_count = 0
        self.representatives: list[tuple[str, str]] = []
        self.representative_target = 0
        self._representative_seen = 0

        self.district_codes = list(ref.DISTRICT_POPULATION)
        self.district_cum = _cumulative(ref.DISTRICT_POPULATION.values())
        self.surnames = [name for name, _w in ref.SURNAMES]
        self.surname_cum = _cumulative(w for _n, w in ref.SURNAMES)
        self.surname_total = self.surname_cum[-1]
        self.area_choices: dict[tuple[str, int], tuple[tuple[str, ...], float]] = {}
        self.size_values = [size for size, _w in HOUSEHOLD_SIZES]
        self.size_cum = _cumulative(w for _s, w in HOUSEHOLD_SIZES)
        self.head_bands = [(low, high) for low, high, _w in HEAD_AGE_BANDS]
        self.head_cum = _cumulative(w for _l, _h, w in HEAD_AGE_BANDS)
        # Predecessor codes of each district with the last year each was in use.
        self.predecessors = {
            district: [(code, area_lookup(code).last_year()) for code in codes]
            for district, codes in ref.PREDECESSORS.items()
        }
        # The first year of the current code (None: older than any ID card).
        self.district_start = {code: area_lookup(code).periods[-1].start for code in DISTRICTS}
        self.phone_offset = self.rng.randrange(10**8)

    @property
    def stats(self):
        return {
            "persons": self.person_count,
            "households": self.household_count,
            "retired_area_codes": self.retired_count,
            "other_province_codes": self.other_province_count,
        }

    # --- small draws -----------------------------------------------------------------------------

    def _pick(self, values, cumulative):
        return values[bisect(cumulative, self.rng.random() * cumulative[-1])]

    def _between(self, low, high):
        """An integer in [low, high], like ``randint`` but cheaper."""
        return low + int(self.rng.random() * (high - low + 1))

    def _surname(self):
        return self._pick(self.surnames, self.surname_cum)

    def _day(self, ordinal):
        """(YYYYMMDD, year, date) of a day, cached: at most ~36,000 days."""
        day = self.days_cache.get(ordinal)
        if day is None:
            date = datetime.date.fromordinal(ordinal)
            day = self.days_cache[ordinal] = (
                f"{date.year:04d}{date.month:02d}{date.day:02d}",
                date.year,
                date,
            )
        return day

    # --- resident ID numbers ---------------------------------------------------------------------

    def _area_choices(self, district, birth_year):
        """(retired codes possible for a birth year, the share of people carrying one), cached."""
        key = (district, birth_year)
        choice = self.area_choices.get(key)
        if choice is None:
            candidates = tuple(
                code for code, last in self.predecessors.get(district, ()) if last >= birth_year
            )
            start = self.district_start[district]
            # Those who got their card before the district's code existed more often kept the old one.
            share = (0.3 if start is not None and birth_year + 16 < start else 0.05) if candidates else 0.0
            choice = self.area_choices[key] = (candidates, share)
        return choice

    def _sequence(self, area_code, ordinal, male):
        """A (birth ordinal, sequence) pair never handed out before for this area code and sex."""
        area = self.area_index[area_code]
        while True:
            slot = ((area * self.days) + (ordinal - self.min_ord)) * 2 + male
            taken = self.counters[slot]
            if taken < SEQUENCES_PER_KEY:
                self.counters[slot] = taken + 1
                # A fixed permutation of 0..498 per slot (499 is prime), so numbers do not all end in 001.
                offset = (slot * 2654435761 + self.seed) % SEQUENCES_PER_KEY
                index = (taken * 37 + offset) % SEQUENCES_PER_KEY
                return ordinal, 2 * index + (1 if male else 2)
            ordinal -= 1  # all 499 numbers of that day are used: the person is one day older

    def person(self, *, sex, district, age=None, birth_date=None, surname=None, area_code=None, name=None):
        """One person of ``district`` (a current district code), aged ``age`` or born on ``birth_date``.

        The area code on the number is the district's own, one of its retired predecessors (for those
        born while it was in use), or, for a few, a code of another province.
        """
        random_ = self.rng.random
        if birth_date is None:
            ordinal = self.ref_ord - int((age + random_()) * 365.2425)
            if ordinal < self.min_ord:
                ordinal = self.min_ord
        else:
            ordinal = birth_date.toordinal()
        age = (self.ref_ord - ordinal) // 365
        kind = ""
        if area_code is None:
            if random_() < (0.05 if age >= 18 else 0.02):
                area_code, kind = OTHER_AREAS[int(random_() * len(OTHER_AREAS))], "other"
            else:
                area_code = district
                day = self.days_cache.get(ordinal) or self._day(ordinal)
                candidates, share = self.area_choices.get((district, day[1])) or self._area_choices(
                    district, day[1]
                )
                if share and random_() < share:
                    area_code, kind = candidates[int(random_() * len(candidates))], "retired"
        elif area_code in RETIRED_AREA_CODES:
            kind = "retired"
        elif not area_code.startswith("31"):
            kind = "other"
        ordinal, sequence = self._sequence(area_code, ordinal, sex == "M")
        ymd, _year, date = self.days_cache.get(ordinal) or self._day(ordinal)
        first17 = f"{area_code}{ymd}{sequence:03d}"
        index = self.person_count
        self.person_count = index + 1
        if age >= 12:
            # An affine map of the person's index modulo 10^8 (the factor is prime to 10): unique suffixes.
            phone = f"{MOBILE_PREFIXES[int(random_() * N_PREFIXES)]}{(index * 7_654_321 + self.phone_offset) % 100_000_000:08d}"
        else:
            phone = ""
        if kind:
            if kind == "retired":
                self.retired_count += 1
            else:
                self.other_province_count += 1
        if name is None:
            pool = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
            size = len(pool)
            given = pool[int(random_() * size)]
            if random_() >= 0.25:
                given += pool[int(random_() * size)]
            if surname is None:
                surname = self.surnames[bisect(self.surname_cum, random_() * self.surname_total)]
            name = surname + given
        draft = PersonDraft(
            ordered_uuid_hex(index, self.rng),
            first17 + resident_id_check_char(first17),
            name,
            sex,
            date,
            district,
            phone,
            kind,
        )
        if self.representative_target and 25 <= age <= 70:
            self._offer_representative(draft)
        return draft

    def _offer_representative(self, draft):
        """Reservoir sampling: a uniform choice of legal representatives among adults, in bounded memory."""
        self._representative_seen += 1
        if len(self.representatives) < self.representative_target:
            self.representatives.append((draft.id, draft.district))
            return
        slot = self.reservoir_rng.randrange(self._representative_seen)
        if slot < self.representative_target:
            self.representatives[slot] = (draft.id, draft.district)

    # --- households ------------------------------------------------------------------------------

    def household(self, *, district=None, street=None, size=None, members=None):
        """One household; its members are a family of ``size`` unless ``members`` are given."""
        rng = self.rng
        district = district or self._pick(self.district_codes, self.district_cum)
        streets = ref.STREETS[district]
        street = street or streets[int(rng.random() * len(streets))][0]
        roads = ref.ROADS[district]
        road = roads[int(rng.random() * len(roads))]
        between = self._between
        address = (
            f"上海市{DISTRICTS[district][0]}{road}{between(1, 1200)}弄"
            f"{between(1, 40)}号{between(1, 28)}{between(1, 6):02d}室"
        )
        index = self.household_count
        self.household_count += 1
        draft = HouseholdDraft(
            ordered_uuid_hex(index, rng), f"{district}{index:09d}", district, street, address
        )
        draft.members = members if members is not None else self._family(size or 1, district)
        return draft

    def _family(self, size, district):
        rng = self.rng
        between = self._between
        low, high = self._pick(self.head_bands, self.head_cum)
        head_age = between(low, high)
        if size >= 3:
            head_age = max(head_age, 26)
        head_sex = "M" if rng.random() < 0.5 else "F"
        head_surname = self._surname()
        members = [self.person(sex=head_sex, age=head_age, surname=head_surname, district=district)]
        if size == 1:
            return members
        couple = size >= 3 or rng.random() < 0.75
        father_surname = head_surname if head_sex == "M" else None
        if couple:
            spouse_sex = "F" if head_sex == "M" else "M"
            spouse_age = max(20, min(MAX_AGE, head_age + between(-4, 4)))
            spouse = self.person(sex=spouse_sex, age=spouse_age, district=district)
            members.append(spouse)
            if spouse_sex == "M":
                father_surname = self._surname_of(spouse.name)
        slots = size - len(members)
        grandparents = 0
        if size == 4 and rng.random() < 0.3:
            grandparents = 1
        elif size == 5:
            grandparents = 2
        children = slots - grandparents
        for _ in range(children):
            child_age = max(0, head_age - between(22, 38))
            surname = father_surname if father_surname and rng.random() < 0.9 else head_surname
            sex = "M" if rng.random() < 0.515 else "F"
            members.append(self.person(sex=sex, age=child_age, surname=surname, district=district))
        for number in range(grandparents):
            age = min(MAX_AGE, head_age + between(22, 34))
            sex = "M" if number == 0 else "F"
            surname = head_surname if sex == "M" else None
            members.append(self.person(sex=sex, age=age, surname=surname, district=district))
        return members

    def _surname_of(self, name):
        return name[:2] if name[:2] in self.surnames else name[:1]

    def households(self, people: int):
        """Households until exactly ``people`` persons are generated (the last one may be smaller)."""
        remaining = people
        while remaining > 0:
            size = min(self._pick(self.size_values, self.size_cum), remaining)
            draft = self.household(size=size)
            remaining -= len(draft.members)
            yield draft

    # --- organisations ---------------------------------------------------------------------------

    def organisations(self, count: int):
        """``count`` organisations; the i-th gets the i-th sampled legal representative, if any."""
        rng = random.Random(f"tongban:{self.seed}:organisations")
        kinds = ORGANISATION_KINDS
        kind_cum = _cumulative(k[-1] for k in kinds)
        offset = rng.randrange(31**5)
        for index in range(count):
            org_type, authority, institution_type, prefix, _w = kinds[
                bisect(kind_cum, rng.random() * kind_cum[-1])
            ]
            representative = self.representatives[index] if index < len(self.representatives) else None
            if representative is not None and rng.random() < 0.7:
                district = representative[1]
            else:
                district = self.district_codes[
                    bisect(self.district_cum, rng.random() * self.district_cum[-1])
                ]
            serial = (index * 20_261_127 + offset) % 31**5  # the factor is prime to 31
            body = prefix + "".join(ALPHABET31[(serial // 31**power) % 31] for power in range(4, -1, -1))
            yield OrganisationDraft(
                id=ordered_uuid_hex(index, rng),
                credit_code=make_credit_code(
                    district, body, authority=authority, institution_type=institution_type
                ),
                name=self._organisation_name(rng, org_type, authority, institution_type, district),
                org_type=org_type,
                district=district,
                legal_representative=representative[0] if representative else None,
            )

    @staticmethod
    def _organisation_name(rng, org_type, authority, institution_type, district):
        chars = ref.TRADE_NAME_CHARS
        trade = rng.choice(chars) + rng.choice(chars)
        district_name = DISTRICTS[district][0]
        if org_type == "enterprise":
            suffix = "股份有限公司" if rng.random() < 0.05 else "有限公司"
            return f"上海{trade}{rng.choice(ref.INDUSTRIES)}{suffix}"
        if org_type == "individual":
            return f"{district_name}{trade}{rng.choice(ref.SHOPS)}"
        if org_type == "coop":
            return f"上海{trade}{rng.choice(ref.COOP_KINDS)}专业合作社"
        if org_type == "institution":
            street = rng.choice(ref.STREETS[district])[1]
            return f"上海市{district_name}{street}{rng.choice(ref.STREET_INSTITUTIONS)}"
        if institution_type == "1":
            return f"上海市{district_name}{rng.choice(ref.ASSOCIATION_TOPICS)}协会"
        if institution_type == "2":
            return f"上海市{district_name}{trade}{rng.choice(ref.NON_ENTERPRISE_KINDS)}"
        return f"上海{trade}公益基金会"
