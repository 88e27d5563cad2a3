"""Seeding the demo city into the database (a tiny city, seeded once for the module and rolled back)."""

import io
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.cases.models import Case
from tongban.core.ids import parse_credit_code, parse_resident_id
from tongban.core.models import AuditEntry, OutboxEvent
from tongban.demo import reference as ref
from tongban.demo.models import SeedRun
from tongban.demo.services import demo_citizen_drafts, demo_city_seed, demo_totp_key
from tongban.demo.synthetic import CityGenerator
from tongban.identity.models import AdminUnit, Household, Organisation, Person, Staff, User
from tongban.identity.reference import STAFF_ROLE_CODES

PEOPLE, ORGANISATIONS, SEED = 300, 30, 4242


class RolledBack(Exception):
    pass


@pytest.fixture(scope="class")
def city(django_db_setup, django_db_blocker):
    """One tiny city for the tests of a class, inside a transaction rolled back at the end."""
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                result = demo_city_seed(people=PEOPLE, organisations=ORGANISATIONS, seed=SEED, batch_size=64)
                yield result
                raise RolledBack
        except RolledBack:
            pass


@pytest.mark.django_db
class SeededCityTests:
    def test_the_supervisor_has_a_red_and_a_yellow_card_to_show(self, city):
        from tongban.supervision.models import Warning

        cards = set(Warning.objects.values_list("level", "case_number"))
        levels = {level for level, _number in cards}
        assert {"red", "yellow"} <= levels
        newborn = Case.objects.get(idempotency_key="demo-newborn")
        assert ("red", newborn.number) in cards

    def test_the_city_has_its_districts_and_streets(self, city):
        assert AdminUnit.objects.filter(level="district").count() == 16
        streets = AdminUnit.objects.filter(level="street").select_related("parent")
        assert streets.count() == sum(len(items) for items in ref.STREETS.values())
        assert all(street.code.startswith(street.parent.code) for street in streets)

    def test_the_asked_number_of_persons_and_organisations_is_there_plus_the_demo_citizens(self, city):
        assert Person.objects.count() == PEOPLE + len(ref.DEMO_CITIZENS)
        assert Organisation.objects.count() == ORGANISATIONS + 1
        assert city.run.counts["persons"] == PEOPLE + len(ref.DEMO_CITIZENS)
        assert city.run.counts["seeded_persons"] == PEOPLE

    def test_stored_persons_pass_the_validators_and_match_their_number(self, city):
        persons = list(Person.objects.select_related("household_district", "household__street"))
        for person in random.Random(1).sample(persons, 120):
            person.full_clean()  # the model's validators and clean(), as a service would run them
            parsed = parse_resident_id(person.resident_id)
            assert parsed.sex == person.sex and parsed.birth_date == person.birth_date
            if parsed.in_shanghai:
                assert parsed.successor_code == person.household_district.code
            assert person.household.street.parent_id == person.household_district_id

    def test_persons_are_the_generators_persons_for_the_seed(self, city):
        generator = CityGenerator(seed=SEED)
        demo_citizen_drafts(generator)
        expected = {m.resident_id: m.name for h in generator.households(PEOPLE) for m in h.members}
        stored = dict(Person.objects.exclude(user__isnull=False).values_list("resident_id", "name"))
        assert stored == expected

    def test_households_hold_one_to_five_persons(self, city):
        for household in Household.objects.prefetch_related("members"):
            assert 1 <= household.members.count() <= 5

    def test_organisations_have_valid_codes_and_representatives_among_the_persons(self, city):
        for organisation in Organisation.objects.select_related("legal_representative"):
            parse_credit_code(organisation.credit_code)
            organisation.full_clean()
            assert organisation.legal_representative is not None

    def test_every_staff_role_has_a_demo_account_with_a_confirmed_second_factor(self, city):
        held = set()
        for staff in Staff.objects.select_related("user").prefetch_related("roles"):
            held |= {role.code for role in staff.roles.all()}
            device = TOTPDevice.objects.get(user=staff.user)
            assert device.confirmed
            assert device.key == demo_totp_key(staff.user.username, seed=SEED)
        assert held == set(STAFF_ROLE_CODES)

    def test_demo_accounts_share_the_demo_password_and_the_admin_is_a_superuser(self, city):
        for username in ("clerk.huangpu", "admin", "li.ming"):
            assert User.objects.get(username=username).check_password(ref.DEMO_PASSWORD)
        admin = User.objects.get(username=ref.PLATFORM_ADMIN_USERNAME)
        assert admin.is_superuser and admin.is_staff
        assert not User.objects.get(username="handler.ps").is_superuser

    def test_demo_citizens_are_linked_to_persons_and_one_acts_for_an_enterprise(self, city):
        wang = Person.objects.get(user__username="wang.xiuying")
        assert wang.resident_id.startswith("310108")  # an old 闸北 number ...
        assert wang.household_district.code == "310106"  # ... living in today's 静安
        agent = User.objects.get(username=ref.DEMO_ENTERPRISE["agent"])
        organisation = agent.agent_for.get()
        assert organisation.name == ref.DEMO_ENTERPRISE["name"]
        assert organisation.legal_representative.user == agent
        li, chen = (
            Person.objects.get(user__username="li.ming"),
            Person.objects.get(user__username="chen.jing"),
        )
        assert li.household_id == chen.household_id

    def test_proactive_services_hold_the_grants_to_read_the_registers_they_need(self, city):
        from tongban.exchange.models import SharingGrant
        from tongban.proactive.services import PROACTIVE_PURPOSE, REGISTRY_READS

        granted = set(
            SharingGrant.objects.filter(
                department__code="big-data-center", purpose=PROACTIVE_PURPOSE, status="approved"
            ).values_list("resource__code", flat=True)
        )
        assert granted == {resource for resource, _fields in REGISTRY_READS}

    def test_the_demo_enterprise_grows_is_found_by_a_policy_and_ranks_as_a_champion(self, city):
        from tongban.enterprise.analytics import champions_for
        from tongban.enterprise.services import representative_verify
        from tongban.exchange.models import EmployerQuarterHeadcount
        from tongban.identity.models import Organisation, User
        from tongban.identity.selectors import actor_for
        from tongban.proactive.models import Offer

        enterprise = Organisation.objects.get(name=ref.DEMO_ENTERPRISE["name"])
        assert EmployerQuarterHeadcount.objects.filter(organisation=enterprise).count() == 8
        granted = Offer.objects.get(organisation=enterprise, rule__code="policy-jobs-refund")
        assert granted.status == Offer.Status.GRANTED and granted.case_id
        rows = champions_for(actor_for(User.objects.get(username="designer")))
        assert enterprise.credit_code in [row["credit_code"] for row in rows]
        # The certificate authority may check its legal representative (the demo signs the grant it needs).
        representative_verify(
            actor=actor_for(User.objects.get(username="zhang.wei")), organisation=enterprise
        )

    def test_every_live_market_entity_holds_its_business_licence_as_a_valid_e_licence(self, city):
        from tongban.exchange.models import BusinessRegistration
        from tongban.licences.models import Licence
        from tongban.licences.services import licence_token, licence_verify

        live = set(
            BusinessRegistration.objects.filter(status="active").values_list("organisation_id", flat=True)
        )
        licences = Licence.objects.filter(type__code="business-licence").select_related("holder_organisation")
        assert live and {licence.holder_organisation_id for licence in licences} == live
        assert licences.count() == len(live) == city.run.counts["enterprise"]["business_licences"]
        licence = licences.first()
        assert licence.holder_id_number == licence.holder_organisation.credit_code
        assert licence.data["company_name"] == licence.holder_organisation.name
        assert licence_verify(licence_token(licence)).status == "valid"
        # Imported, not issued: one audit entry a batch and no event telling the holders of news.
        assert AuditEntry.objects.filter(action="licence.imported").exists()
        assert not OutboxEvent.objects.filter(name="licence.issued", subject_id=licence.number).exists()

    def test_one_audit_entry_records_the_seed_with_its_counts(self, city):
        entries = AuditEntry.objects.filter(action="demo.seed")
        assert entries.count() == 1
        entry = entries.get()
        assert entry.actor_kind == "system"
        details = json.loads(entry.details)
        assert details["counts"]["persons"] == PEOPLE + len(ref.DEMO_CITIZENS)
        assert details["seed"] == SEED
        # Not one entry per row: the bulk rows have none.
        assert AuditEntry.objects.filter(action="person.created").count() == len(ref.DEMO_CITIZENS)

    def test_the_summary_is_stored(self, city):
        run = SeedRun.objects.get()
        assert run.seed == SEED and run.people == PEOPLE
        assert run.counts["organisations"] == ORGANISATIONS + 1
        assert run.counts["streets"] == 81

    def test_seeding_again_is_refused(self, city):
        with pytest.raises(ValueError, match="already holds persons"):
            demo_city_seed(people=5, organisations=0, seed=SEED)

    def test_the_command_with_if_empty_skips_and_lists_the_accounts(self, city):
        out = io.StringIO()
        call_command("seed", "--if-empty", stdout=out)
        text = out.getvalue()
        assert "nothing seeded" in text
        assert "clerk.huangpu" in text and "zhang.wei" in text and ref.DEMO_PASSWORD in text
        assert "tongban totp" in text
        assert Person.objects.count() == PEOPLE + len(ref.DEMO_CITIZENS)

    def test_the_command_without_if_empty_refuses_a_seeded_database(self, city):
        with pytest.raises(CommandError, match="already holds"):
            call_command("seed", stdout=io.StringIO())


@pytest.mark.django_db
def test_the_seed_command_builds_a_city_and_prints_its_summary_and_accounts():
    out = io.StringIO()
    call_command("seed", "--people", "40", "--organisations", "5", "--quiet", stdout=out)
    text = out.getvalue()
    assert "Demo city seeded with seed 20261127" in text
    assert "admin" in text and ref.DEMO_PASSWORD in text
    assert Person.objects.count() == 40 + len(ref.DEMO_CITIZENS)
    assert AuditEntry.objects.filter(action="demo.seed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "options",
    [
        ["--people", "-5"],
        ["--organisations", "-1"],
        ["--batch-size", "0"],
        ["--seed", str(2**63)],
        ["--seed", str(-(2**63) - 1)],
    ],
)
def test_the_seed_command_refuses_bad_options_with_a_message_and_writes_nothing(options):
    with pytest.raises(CommandError):
        call_command(
            "seed", "--people", "3", "--organisations", "1", "--quiet", *options, stdout=io.StringIO()
        )
    assert not Person.objects.exists()
    assert not SeedRun.objects.exists()
