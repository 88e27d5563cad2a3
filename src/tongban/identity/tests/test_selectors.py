"""Lists of personal data show each user only what they may see."""

import pytest
from django.contrib.auth.models import AnonymousUser

from tongban.identity.selectors import organisation_list_for_user, person_list

from .factories import CitizenFactory, OrganisationFactory, PersonFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_a_citizen_sees_only_their_own_person_record():
    citizen = CitizenFactory()
    PersonFactory()
    assert list(person_list(for_user=citizen)) == [citizen.person]
    assert list(person_list(for_user=citizen, search=PersonFactory().resident_id)) == [citizen.person]


def test_anonymous_users_see_no_persons_or_organisations():
    PersonFactory()
    OrganisationFactory()
    assert not person_list(for_user=AnonymousUser()).exists()
    assert not organisation_list_for_user(for_user=AnonymousUser()).exists()


def test_staff_with_person_view_find_anyone_by_id_number():
    clerk = StaffFactory(roles=["window_clerk"]).user
    other = PersonFactory()
    assert list(person_list(for_user=clerk, search=other.resident_id.lower())) == [other]


def test_staff_without_person_view_see_nobody():
    dispatcher = StaffFactory(roles=["dispatcher"]).user
    PersonFactory()
    assert not person_list(for_user=dispatcher).exists()


def test_an_agent_sees_only_the_organisations_they_act_for():
    agent = CitizenFactory()
    own = OrganisationFactory(agents=[agent])
    OrganisationFactory()
    assert list(organisation_list_for_user(for_user=agent)) == [own]
    clerk = StaffFactory(roles=["window_clerk"]).user
    assert organisation_list_for_user(for_user=clerk).count() == 2


def test_person_for_reads_the_person_the_orm_reads_with_the_district_in_one_statement():
    from django.db import connection
    from django.forms.models import model_to_dict
    from django.test.utils import CaptureQueriesContext

    from tongban.identity.models import Person
    from tongban.identity.selectors import person_for

    citizen = CitizenFactory()
    PersonFactory()  # someone else
    expected = Person.objects.select_related("household_district").get(user=citizen)
    assert expected.household_district is not None
    with CaptureQueriesContext(connection) as queries:
        found = person_for(citizen)
        district = found.household_district  # read with the person: no statement of its own
    assert len(queries) == 1
    assert found.pk == expected.pk and not found._state.adding
    assert model_to_dict(found) == model_to_dict(expected)
    assert (found.created_at, found.updated_at) == (expected.created_at, expected.updated_at)
    assert model_to_dict(district) == model_to_dict(expected.household_district)
    assert person_for(StaffFactory().user) is None  # a user without a person
    assert person_for(AnonymousUser()) is None
    expected.household_district = None
    expected.save(update_fields=["household_district"])
    assert person_for(citizen).household_district is None
