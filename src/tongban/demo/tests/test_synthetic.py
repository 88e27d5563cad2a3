"""The synthetic city generator, without the database."""

import datetime
import hashlib
import re
from collections import Counter

import pytest

from tongban.core.ids import (
    DISTRICTS,
    RETIRED_AREA_CODES,
    area_lookup,
    parse_credit_code,
    parse_resident_id,
    resident_id_check_char,
)
from tongban.demo import reference as ref
from tongban.demo.synthetic import REFERENCE_DATE, SEQUENCES_PER_KEY, CityGenerator

PHONE = re.compile(r"^1[3-9]\d{9}$")


def digest(generator, people):
    hasher = hashlib.sha256()
    for household in generator.households(people):
        hasher.update(f"{household.id}|{household.number}|{household.street}|{household.address}".encode())
        for m in household.members:
            hasher.update(
                f"{m.id}|{m.resident_id}|{m.name}|{m.sex}|{m.birth_date}|{m.district}|{m.phone}".encode()
            )
    return hasher.hexdigest()


@pytest.fixture(scope="module")
def city():
    generator = CityGenerator(seed=7)
    generator.representative_target = 300
    households = list(generator.households(6_000))
    organisations = list(generator.organisations(300))
    return generator, households, [m for h in households for m in h.members], organisations


class DeterminismTests:
    def test_the_same_seed_gives_the_same_city(self):
        assert digest(CityGenerator(seed=42), 2_000) == digest(CityGenerator(seed=42), 2_000)

    def test_another_seed_gives_another_city(self):
        assert digest(CityGenerator(seed=42), 500) != digest(CityGenerator(seed=43), 500)

    def test_the_organisation_count_does_not_change_the_people(self):
        few, many = CityGenerator(seed=9), CityGenerator(seed=9)
        few.representative_target, many.representative_target = 5, 500
        assert digest(few, 1_000) == digest(many, 1_000)


class PersonTests:
    def test_the_exact_number_of_persons_is_generated(self, city):
        generator, _households, persons, _orgs = city
        assert len(persons) == 6_000 == generator.person_count

    def test_every_resident_id_is_valid_and_consistent_with_the_person(self, city):
        _generator, _households, persons, _orgs = city
        for person in persons:
            parsed = parse_resident_id(person.resident_id, today=REFERENCE_DATE)
            assert parsed.sex == person.sex
            assert parsed.birth_date == person.birth_date
            assert person.district in DISTRICTS
            if parsed.in_shanghai:
                # The area code is the household district's own code or one of its retired predecessors.
                assert parsed.successor_code == person.district, person
                assert parsed.retired == (person.area_kind == "retired")
            else:
                assert person.area_kind == "other"

    def test_resident_ids_and_phones_are_unique(self, city):
        _generator, _households, persons, _orgs = city
        assert len({p.resident_id for p in persons}) == len(persons)
        phones = [p.phone for p in persons if p.phone]
        assert len(set(phones)) == len(phones)
        assert all(PHONE.match(phone) for phone in phones)
        assert len({p.id for p in persons}) == len(persons)

    def test_children_under_twelve_have_no_phone(self, city):
        _generator, _households, persons, _orgs = city
        for person in persons:
            age = (REFERENCE_DATE - person.birth_date).days // 365
            assert bool(person.phone) == (age >= 12), person

    def test_ages_spread_from_babies_to_the_very_old(self, city):
        _generator, _households, persons, _orgs = city
        ages = [(REFERENCE_DATE - p.birth_date).days / 365.25 for p in persons]
        assert min(ages) >= 0 and max(ages) <= 97
        assert min(ages) < 2 and max(ages) > 88
        share_over_60 = sum(age >= 60 for age in ages) / len(ages)
        share_under_18 = sum(age < 18 for age in ages) / len(ages)
        assert 0.15 < share_over_60 < 0.45
        assert 0.05 < share_under_18 < 0.30

    def test_a_small_share_of_older_residents_carry_a_retired_code(self, city):
        generator, _households, persons, _orgs = city
        retired = [p for p in persons if p.area_kind == "retired"]
        assert 0.02 < len(retired) / len(persons) < 0.2
        assert generator.retired_count == len(retired)
        for person in retired:
            assert person.birth_date.year <= area_lookup(person.resident_id[:6]).last_year()
        assert {p.resident_id[:6] for p in retired} >= {"310108", "310230"}

    def test_sexes_are_balanced_and_surnames_varied(self, city):
        _generator, _households, persons, _orgs = city
        sexes = Counter(p.sex for p in persons)
        assert abs(sexes["M"] - sexes["F"]) < 0.1 * len(persons)
        assert len({p.name[0] for p in persons}) > 40
        assert all(2 <= len(p.name) <= 4 for p in persons)


class HouseholdTests:
    def test_households_have_one_to_five_members_of_their_district(self, city):
        _generator, households, _persons, _orgs = city
        sizes = Counter(len(h.members) for h in households)
        assert set(sizes) <= {1, 2, 3, 4, 5}
        assert sizes[1] and sizes[5]
        for household in households:
            assert household.street.startswith(household.district)
            assert household.address.startswith(f"上海市{DISTRICTS[household.district][0]}")
            assert all(m.district == household.district for m in household.members)

    def test_household_numbers_are_unique(self, city):
        _generator, households, _persons, _orgs = city
        assert len({h.number for h in households}) == len(households)

    def test_districts_get_households_by_population(self, city):
        _generator, households, _persons, _orgs = city
        per_district = Counter(h.district for h in households)
        assert set(per_district) == set(DISTRICTS)
        assert per_district.most_common(1)[0][0] == "310115"  # Pudong


class SequenceTests:
    def test_many_persons_born_the_same_day_in_the_same_area_get_distinct_numbers(self):
        generator = CityGenerator(seed=1)
        day = datetime.date(1980, 6, 1)
        persons = [
            generator.person(sex="M", district="310101", birth_date=day, area_code="310101", name="甲乙")
            for _ in range(SEQUENCES_PER_KEY + 20)
        ]
        numbers = [p.resident_id for p in persons]
        assert len(set(numbers)) == len(numbers)
        # After 499 men of that day, the next ones are a day older rather than given a clashing number.
        assert {p.birth_date for p in persons} == {day, day - datetime.timedelta(days=1)}
        assert all(int(n[14:17]) % 2 == 1 for n in numbers)

    def test_sequence_numbers_are_not_all_the_first_ones(self, city):
        _generator, _households, persons, _orgs = city
        assert len({p.resident_id[14:17] for p in persons}) > 300

    def test_the_check_character_matches_python_stdnum(self, city):
        from stdnum.cn import ric

        _generator, _households, persons, _orgs = city
        for person in persons[:500]:
            assert resident_id_check_char(person.resident_id[:17]) == ric.calc_check_digit(person.resident_id)


class OrganisationTests:
    def test_credit_codes_are_valid_unique_and_of_the_organisations_district(self, city):
        _generator, _households, _persons, organisations = city
        codes = [o.credit_code for o in organisations]
        assert len(set(codes)) == len(codes)
        for organisation in organisations:
            parsed = parse_credit_code(organisation.credit_code)
            assert parsed.area_code == organisation.district
            assert parsed.allow_listed is False

    def test_organisation_types_match_the_registration_authority(self, city):
        _generator, _households, _persons, organisations = city
        authority = {"enterprise": "9", "individual": "9", "coop": "9", "institution": "1", "social": "5"}
        for organisation in organisations:
            assert organisation.credit_code[0] == authority[organisation.org_type]
        assert Counter(o.org_type for o in organisations).most_common(1)[0][0] == "enterprise"

    def test_legal_representatives_are_distinct_adults_of_the_city(self, city):
        _generator, _households, persons, organisations = city
        adults = {p.id for p in persons if 25 <= (REFERENCE_DATE - p.birth_date).days // 365 <= 70}
        representatives = [o.legal_representative for o in organisations]
        assert None not in representatives
        assert len(set(representatives)) == len(representatives)
        assert set(representatives) <= adults

    def test_organisations_beyond_the_sampled_representatives_have_none(self):
        generator = CityGenerator(seed=3)
        generator.representative_target = 10
        list(generator.households(30))
        organisations = list(generator.organisations(40))
        assert len(generator.representatives) <= 10
        assert organisations[-1].legal_representative is None


class BoundedMemoryTests:
    def test_the_generator_keeps_no_person_once_yielded(self):
        generator = CityGenerator(seed=5)
        generator.representative_target = 50
        size_before = len(generator.counters)
        for _household in generator.households(20_000):
            pass
        assert len(generator.counters) == size_before
        assert len(generator.representatives) == 50
        assert len(generator.days_cache) <= generator.days
        assert len(generator.area_choices) <= len(DISTRICTS) * (generator.days // 365 + 2)


class ReferenceDataTests:
    def test_every_district_has_streets_roads_and_a_population(self):
        assert set(ref.STREETS) == set(DISTRICTS) == set(ref.ROADS) == set(ref.DISTRICT_POPULATION)
        for district, streets in ref.STREETS.items():
            assert len(streets) >= 4
            for code, name, name_en in streets:
                assert code.startswith(district) and len(code) == 9
                assert name.endswith(("街道", "镇", "乡")) and name_en

    def test_predecessors_are_the_retired_codes_of_their_successors(self):
        listed = {code for codes in ref.PREDECESSORS.values() for code in codes}
        assert listed == set(RETIRED_AREA_CODES)
        for district, codes in ref.PREDECESSORS.items():
            assert all(RETIRED_AREA_CODES[code][2] == district for code in codes)

    def test_codes_of_other_provinces_are_current_gbt2260_codes(self):
        for code in ref.OTHER_AREAS:
            area = area_lookup(code)
            assert area is not None and area.last_year() is None and not code.startswith("31")

    def test_every_staff_role_has_a_demo_account(self):
        from tongban.identity.reference import STAFF_ROLE_CODES

        covered = {role for _u, _n, _d, roles in ref.DEMO_STAFF for role in roles}
        assert covered == set(STAFF_ROLE_CODES)
