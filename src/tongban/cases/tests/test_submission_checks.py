"""Submission checks read the registers: the newborn's parents are the applicant and spouse (or the applicant says
why not and provides the document), the seller owns the unit; a refused submission writes no case, and the
lookups made for it stay on record without a case number, marked "submission refused"."""

import dataclasses

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from tongban.cases import services
from tongban.cases.models import Case
from tongban.catalog.selectors import bundle_get
from tongban.conftest import demo_city_fixture
from tongban.core.models import AuditEntry
from tongban.demo.catalog import NEWBORN_BUNDLE, REAL_ESTATE_BUNDLE
from tongban.demo.registries import DEMO_UNITS
from tongban.demo.sample import sample_form_data
from tongban.exchange.checks import submission_check_names
from tongban.exchange.models import DataUse
from tongban.identity.models import Person, User
from tongban.identity.selectors import actor_for
from tongban.workflow.tests.fixtures import pdf_upload

UNRELATED_WOMAN = "310108195503089927"  # born 1955 in the former Zhabei district: nobody's spouse here
MAN_ELSEWHERE = "310104198803092317"  # a man's number (odd 17th digit) that is nobody's here


demo_city = demo_city_fixture(people=60, organisations=4)


@pytest.fixture
def city_with_demo(demo_city, db):
    return demo_city


def _user(username):
    return User.objects.get(username=username)


def _actor(username):
    return actor_for(_user(username))


def _person(username):
    return Person.objects.get(user__username=username)


def _newborn_form(applicant, **overrides):
    form = sample_form_data(bundle_get(NEWBORN_BUNDLE).form_schema, person=applicant)
    form.update(
        {"baby_name": "李乐乐", "mother_name": "陈静", "father_name": "李明", "parents_married": True}
    )
    form["mother_resident_id"] = _person("chen.jing").resident_id
    form["father_resident_id"] = _person("li.ming").resident_id
    form.update(overrides)
    return form


def _refusal(**kwargs):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.case_submit(**kwargs)
    return caught.value.message_dict


def test_the_demo_items_name_registered_checks(city_with_demo):
    newborn, estate = bundle_get(NEWBORN_BUNDLE), bundle_get(REAL_ESTATE_BUNDLE)
    names = set(submission_check_names())
    newborn_checks = {n for link in newborn.bundle_items.all() for n in link.item.submission_checks}
    estate_checks = {n for link in estate.bundle_items.all() for n in link.item.submission_checks}
    assert newborn_checks == {"newborn-parents"} and estate_checks == {"seller-owns-unit"}
    assert newborn_checks | estate_checks <= names


def test_li_ming_naming_his_wife_as_the_mother_is_accepted(city_with_demo):
    case = services.case_submit(
        actor=actor_for(_user("li.ming")),
        service=bundle_get(NEWBORN_BUNDLE),
        form_data=_newborn_form(_person("li.ming")),
    )
    assert Case.objects.filter(pk=case.pk).exists()
    read = DataUse.objects.filter(person=_person("li.ming"), resource_code="marriage-status", case_id=case.pk)
    assert read.filter(case_number=case.number, outcome="").exists()  # the check's read, under the case


def test_an_unrelated_woman_named_as_the_mother_is_refused_on_the_field(city_with_demo):
    cases_before, last_use = (
        Case.objects.count(),
        DataUse.objects.order_by("-id").values_list("id", flat=True)[0],
    )
    errors = _refusal(
        actor=_actor("li.ming"),
        service=bundle_get(NEWBORN_BUNDLE),
        form_data=_newborn_form(_person("li.ming"), mother_resident_id=UNRELATED_WOMAN),
    )
    assert "marriage register" in errors["mother_resident_id"][0]
    assert "father_resident_id" not in errors  # he is the applicant
    assert Case.objects.count() == cases_before
    checked = DataUse.objects.filter(
        id__gt=last_use, person=_person("li.ming"), resource_code="marriage-status"
    )
    assert set(checked.values_list("case_id", "case_number", "outcome")) == {(None, "", "submission_refused")}


def test_saying_the_parents_are_unmarried_against_the_marriage_register_is_refused_on_the_tick(
    city_with_demo,
):
    """li.ming names his wife as the mother but unticks "父母已办理结婚登记": the register has them married, so the
    form may not say otherwise (the handler would read "no" beside a register that says married)."""
    cases_before = Case.objects.count()
    errors = _refusal(
        actor=_actor("li.ming"),
        service=bundle_get(NEWBORN_BUNDLE),
        form_data=_newborn_form(_person("li.ming"), parents_married=False),
    )
    assert "marriage register shows you married" in errors["parents_married"][0]
    assert "mother_resident_id" not in errors and "father_resident_id" not in errors
    assert Case.objects.count() == cases_before
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        services.case_submit(
            actor=_actor("li.ming"),
            service=bundle_get(NEWBORN_BUNDLE),
            form_data=_newborn_form(_person("li.ming"), parents_married=False),
        )
    assert "婚姻登记" in caught.value.message_dict["parents_married"][0]


def test_saying_one_is_not_married_to_ones_spouse_in_the_register_is_refused(city_with_demo):
    """li.ming names his wife as the mother and says the parents are not married to each other: the register has
    them married, so the reason is refused (the parentage document would be asked for nothing)."""
    errors = _refusal(
        actor=_actor("li.ming"),
        service=bundle_get(NEWBORN_BUNDLE),
        form_data=_newborn_form(_person("li.ming"), parents_relation="unmarried", parents_married=False),
    )
    assert "married to the other parent" in errors["parents_relation"][0]
    assert "mother_resident_id" not in errors


def test_a_guardian_applying_is_not_compared_with_the_register(city_with_demo):
    """A guardian names two other people as the parents: nothing of the applicant's to compare; the document."""
    last_use = DataUse.objects.order_by("-id").values_list("id", flat=True)[0]
    errors = _refusal(
        actor=_actor("li.ming"),
        service=bundle_get(NEWBORN_BUNDLE),
        form_data=_newborn_form(
            _person("li.ming"),
            mother_resident_id=UNRELATED_WOMAN,
            father_resident_id=MAN_ELSEWHERE,
            parents_relation="guardian",
            parents_married=False,
        ),
    )
    assert list(errors) == ["materials.parentage-proof"]
    assert not DataUse.objects.filter(id__gt=last_use, resource_code="marriage-status").exists()


def test_a_mans_number_named_as_the_mother_is_refused(city_with_demo):
    errors = _refusal(
        actor=_actor("chen.jing"),
        service=bundle_get(NEWBORN_BUNDLE),
        form_data=_newborn_form(_person("chen.jing"), mother_resident_id=_person("li.ming").resident_id),
    )
    assert "man's resident ID" in errors["mother_resident_id"][0]


def test_unmarried_parents_say_so_and_the_parentage_document_is_asked_instead(city_with_demo):
    bundle = bundle_get(NEWBORN_BUNDLE)
    form = _newborn_form(
        _person("li.ming"),
        mother_resident_id=UNRELATED_WOMAN,
        parents_relation="unmarried",
        parents_married=False,
    )
    errors = _refusal(actor=_actor("li.ming"), service=bundle, form_data=form)
    assert list(errors) == ["materials.parentage-proof"]  # she is not his spouse: the document is asked

    case = services.case_submit(
        actor=actor_for(_user("li.ming")),
        service=bundle,
        form_data=form,
        files={"parentage-proof": pdf_upload("parentage.pdf")},
    )
    assert case.materials.filter(code="parentage-proof", origin="upload").exists()


def _estate_form(seller):
    buyer = _person("li.ming")
    form = sample_form_data(bundle_get(REAL_ESTATE_BUNDLE).form_schema, person=buyer)
    form.update(
        {
            "property_unit": DEMO_UNITS["wang.xiuying"],
            "seller_resident_id": seller.resident_id,
            "buyer_resident_id": buyer.resident_id,
            "price": 3_000_000,
        }
    )
    return form


def test_a_seller_who_does_not_own_the_unit_is_refused_at_submission(city_with_demo):
    cases_before = Case.objects.count()
    errors = _refusal(
        actor=_actor("li.ming"),
        service=bundle_get(REAL_ESTATE_BUNDLE),
        form_data=_estate_form(_person("chen.jing")),
    )
    assert errors["seller_resident_id"] == [
        "The seller named here is not an owner of this unit in the real-estate register."
    ]
    assert Case.objects.count() == cases_before


def test_the_owner_selling_passes_the_check(city_with_demo):
    case = services.case_submit(
        actor=actor_for(_user("li.ming")),
        service=bundle_get(REAL_ESTATE_BUNDLE),
        form_data=_estate_form(_person("wang.xiuying")),
    )
    assert Case.objects.filter(pk=case.pk).exists()


def test_a_refused_submission_writes_no_case_and_its_lookups_say_submission_refused(city_with_demo, client):
    mother = _person("chen.jing")
    cases_before, last_use = (
        Case.objects.count(),
        DataUse.objects.order_by("-id").values_list("id", flat=True)[0],
    )
    errors = _refusal(
        actor=_actor("chen.jing"),
        service=bundle_get(NEWBORN_BUNDLE),
        form_data=_newborn_form(mother, baby_name="", birth_hospital=""),
    )
    assert {"baby_name", "birth_hospital"} <= set(errors)
    assert Case.objects.count() == cases_before
    uses = DataUse.objects.filter(id__gt=last_use, person=mother, purpose="办件受理核验")
    assert uses.count() >= 3  # the registry materials were looked up: that happened, and stays on record
    assert set(uses.values_list("case_number", "outcome")) == {("", "submission_refused")}
    assert not uses.filter(case_id__isnull=False).exists()
    assert AuditEntry.objects.filter(action="data.submission_refused").count() == 1

    client.force_login(_user("chen.jing"))
    client.cookies["django_language"] = "en"
    page = client.get(reverse("exchange:uses"))
    assert page.status_code == 200
    assert "submission refused" in page.content.decode()


def test_loading_the_apply_page_twice_in_a_day_records_the_prefill_once(city_with_demo, client):
    mother = _person("chen.jing")
    client.force_login(_user("chen.jing"))
    prefills = DataUse.objects.filter(person=mother, purpose="表单预填")
    reads = AuditEntry.objects.filter(action="data.lookup", purpose="表单预填")
    before, audited_before = prefills.count(), reads.count()

    assert client.get("/cases/apply/bundle/newborn/").status_code == 200
    first, audited_first = prefills.count(), reads.count()
    assert first > before
    assert client.get("/cases/apply/bundle/newborn/").status_code == 200
    assert prefills.count() == first  # one line a day per person and set of fields
    assert reads.count() > audited_first > audited_before  # the audit trail keeps every read


def test_the_checks_read_the_registers_outside_a_write_transaction_and_are_recorded_with_the_case(
    city_with_demo, monkeypatch
):
    """A submission's lookups read without holding the write lock (no transaction of their own), and their records
    (audit entry and data-use lines, with the time of the lookup) are written in the transaction of the case."""
    from django.db import connection

    from tongban.exchange import resources

    depths = []
    spec = resources.resource_spec("marriage-status")

    def fetch(*args, **kwargs):
        depths.append(len(connection.atomic_blocks))
        return spec.fetch(*args, **kwargs)

    monkeypatch.setitem(resources.RESOURCES, spec.code, dataclasses.replace(spec, fetch=fetch))
    outside = len(connection.atomic_blocks)  # the test's own transaction
    case = services.case_submit(
        actor=actor_for(_user("li.ming")),
        service=bundle_get(NEWBORN_BUNDLE),
        form_data=_newborn_form(_person("li.ming")),
    )
    assert depths and set(depths) == {outside}
    uses = list(DataUse.objects.filter(resource_code="marriage-status", case_id=case.pk))
    assert uses and {u.case_number for u in uses} == {case.number}
    entries = AuditEntry.objects.filter(
        action="data.lookup", case_id=str(case.pk), details__contains='"marriage-status"'
    )
    # Recorded later, with the time the register was read: each line's time is its lookup entry's.
    assert {u.at for u in uses} <= {e.at for e in entries}
