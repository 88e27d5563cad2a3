"""Identifiers are checked where they are typed: a resident ID or credit code whose check character does not add
up is refused, with a message on its field, by the apply page, the API and the supplement form."""

import copy
import datetime
import json

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from tongban.cases import services
from tongban.cases.models import Case
from tongban.catalog import services as catalog
from tongban.catalog.schema import form_validate
from tongban.core.audit import SYSTEM
from tongban.core.ids import make_credit_code
from tongban.demo.catalog import FIELDS
from tongban.identity.selectors import actor_for
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import newborn_files, newborn_form, pdf_upload

pytestmark = pytest.mark.django_db

BAD_CHECK_DIGIT = "310101199209034866"  # the mother: the first 17 digits give 5, not 6
MATERIAL = "materials.parents-marriage-certificate"


@pytest.fixture
def checked_newborn(newborn):
    """The small newborn bundle, its mother's resident ID field marked ``format: resident-id``."""
    link = newborn.bundle_items.select_related("item").order_by("position").first()
    schema = copy.deepcopy(link.item.form_schema)
    schema["properties"]["mother_resident_id"] = {
        "type": "string",
        "title": "母亲身份证号",
        "format": "resident-id",
    }
    catalog.item_update(actor=SYSTEM, item=link.item, form_schema=schema)
    newborn.refresh_from_db()
    return newborn


def test_every_resident_id_and_credit_code_field_of_the_demo_catalogue_names_its_format():
    for name, prop in FIELDS.items():
        if name.endswith("resident_id"):
            assert prop["format"] == "resident-id", name
        if name.endswith("credit_code"):
            assert prop["format"] == "credit-code", name


def test_a_wrong_check_character_is_refused_with_a_message_naming_it():
    schema = {
        "type": "object",
        "properties": {"id": {"type": "string", "format": "resident-id"}, "code": FIELDS["credit_code"]},
    }
    good_code = make_credit_code("310115", "MA1G7K3X")
    bad_code = good_code[:-1] + ("0" if good_code[-1] != "0" else "1")
    with translation.override("en"):
        errors = form_validate(schema, {"id": BAD_CHECK_DIGIT, "code": bad_code})
        assert "check character" in errors["id"][0]
        assert "check character" in errors["code"][0]
        assert form_validate(schema, {"id": "310101199209034865", "code": good_code}) == {}
        assert form_validate(schema, {"id": "3101011992 09034865"})["id"] == [
            "Enter the 18 characters only, without spaces or separators."
        ]


def test_a_credit_code_on_the_allow_list_passes_the_form_despite_its_check(settings):
    good = make_credit_code("310115", "MA1G7K3X")
    pilot = good[:-1] + ("0" if good[-1] != "0" else "1")
    schema = {"type": "object", "properties": {"code": FIELDS["credit_code"]}}
    assert form_validate(schema, {"code": pilot})
    settings.TONGBAN_CREDIT_CODE_ALLOWLIST = [pilot]
    assert form_validate(schema, {"code": pilot}) == {}


def test_the_apply_page_refuses_a_mother_id_with_a_wrong_check_digit(
    client, parent, checked_newborn, handlers
):
    client.force_login(parent)
    client.cookies["django_language"] = "en"
    data = {
        "idempotency_key": "k1",
        "applicant": "person",
        **newborn_form(mother_resident_id=BAD_CHECK_DIGIT),
    }
    data[MATERIAL] = pdf_upload("marriage.pdf")
    response = client.post("/cases/apply/bundle/newborn/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="field-mother_resident_id-error"' in html
    assert "check character" in html
    assert Case.objects.count() == 0


def test_the_apply_page_gives_the_browser_a_pattern_for_resident_ids(client, parent, checked_newborn):
    client.force_login(parent)
    html = client.get("/cases/apply/bundle/newborn/").content.decode()
    assert 'name="mother_resident_id"' in html
    assert 'pattern="[0-9]{17}[0-9Xx]"' in html


def test_the_api_answers_a_wrong_check_digit_with_400_on_the_field(parent, checked_newborn, handlers):
    api = APIClient(headers={"accept-language": "en"})
    api.force_login(parent)
    response = api.post(
        reverse("api:cases-api:case-list"),
        {
            "service_type": "bundle",
            "service_code": "newborn",
            "form_data": json.dumps(newborn_form(mother_resident_id=BAD_CHECK_DIGIT)),
            "material.parents-marriage-certificate": pdf_upload("marriage.pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["mother_resident_id"]
    assert "check character" in errors["mother_resident_id"][0]
    assert Case.objects.count() == 0


def _supplement_asking_for_the_mother_id(parent, newborn, handlers):
    case = services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )

    def open_task(step):
        return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)

    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=open_task("birth_certificate").pk, decision="approve"
    )
    services.case_supplement_request(
        actor=actor_for(handlers["public-security"]),
        task_id=open_task("household_registration").pk,
        materials=[],
        fields=[{"field": "mother_resident_id", "reason": "与户籍信息不一致"}],
    )
    return case


def test_the_supplement_form_refuses_a_wrong_check_digit_on_the_field(
    client, parent, checked_newborn, handlers
):
    case = _supplement_asking_for_the_mother_id(parent, checked_newborn, handlers)
    client.force_login(parent)
    client.cookies["django_language"] = "en"
    response = client.post(f"/cases/{case.number}/supplement/", {"mother_resident_id": BAD_CHECK_DIGIT})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="field-mother_resident_id-error"' in html
    assert "check character" in html
    case.refresh_from_db()
    assert case.status == Case.Status.SUPPLEMENT
    assert case.form_data["mother_resident_id"] != BAD_CHECK_DIGIT


def test_the_resubmit_api_refuses_a_wrong_check_digit_with_400(parent, checked_newborn, handlers):
    case = _supplement_asking_for_the_mother_id(parent, checked_newborn, handlers)
    api = APIClient(headers={"accept-language": "en"})
    api.force_login(parent)
    response = api.post(
        reverse("api:cases-api:case-resubmit", args=[case.number]),
        {"form_data": {"mother_resident_id": BAD_CHECK_DIGIT}},
        format="json",
    )
    assert response.status_code == 400
    assert "mother_resident_id" in response.json()["errors"]


def test_a_supplement_is_not_refused_for_a_stored_answer_it_does_not_ask_about(
    client, parent, checked_newborn, handlers
):
    """An answer accepted before a stricter rule (here: the stored mother ID) does not block a supplement that
    asks only for another field: the applicant could not correct it on that page."""
    case = services.case_submit(
        actor=actor_for(parent), service=checked_newborn, form_data=newborn_form(), files=newborn_files()
    )
    Case.objects.filter(pk=case.pk).update(
        form_data={**case.form_data, "mother_resident_id": BAD_CHECK_DIGIT}
    )
    services.case_task_complete(
        actor=actor_for(handlers["health"]),
        task_id=Task.objects.get(case_id=case.pk, bpmn_id="birth_certificate", state__in=Task.OPEN_STATES).pk,
        decision="approve",
    )
    services.case_supplement_request(
        actor=actor_for(handlers["public-security"]),
        task_id=Task.objects.get(
            case_id=case.pk, bpmn_id="household_registration", state__in=Task.OPEN_STATES
        ).pk,
        materials=[],
        fields=[{"field": "baby_name", "reason": "与出生医学证明不一致"}],
    )
    client.force_login(parent)
    response = client.post(f"/cases/{case.number}/supplement/", {"baby_name": "李晓明"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.RESUBMITTED


def test_a_supplement_that_names_another_mother_meets_the_register_check_and_keeps_its_record(
    client, parent, newborn, handlers
):
    """A corrected parent is compared with the registers again; the lookup it made stays on record under the case
    (it is not rolled back with the refused resubmission)."""
    from tongban.core.ids import make_resident_id
    from tongban.exchange.models import DataUse

    link = newborn.bundle_items.select_related("item").order_by("position").first()
    catalog.item_update(actor=SYSTEM, item=link.item, submission_checks=["newborn-parents"])
    case = _supplement_asking_for_the_mother_id(parent, newborn, handlers)
    other_woman = make_resident_id("310104", datetime.date(1985, 3, 8), 222)
    client.force_login(parent)
    client.cookies["django_language"] = "en"
    response = client.post(f"/cases/{case.number}/supplement/", {"mother_resident_id": other_woman})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="field-mother_resident_id-error"' in html
    assert "marriage register" in html
    case.refresh_from_db()
    assert case.status == Case.Status.SUPPLEMENT
    assert DataUse.objects.filter(case_id=case.pk, resource_code="marriage-status").exists()
