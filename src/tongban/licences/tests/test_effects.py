"""The licence step effect issues the named type to the right holder, with what the step's effects found."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tongban.core.audit import SYSTEM
from tongban.core.effects import EffectContext, effect_check, effect_get, effect_run
from tongban.identity.selectors import department_get, person_for
from tongban.licences import services
from tongban.licences.models import Licence

from .factories import BIRTH_DATA

pytestmark = pytest.mark.django_db


def _context(citizen, **extra):
    services.licence_types_demo_ensure()
    return EffectContext(
        actor=SYSTEM,
        department=department_get("health"),
        case_id=uuid.uuid4(),
        case_number="TB-TEST-1",
        form=dict(BIRTH_DATA),
        applicant_person=person_for(citizen),
        **extra,
    )


def test_licence_issue_is_registered_by_the_licences_app_with_the_type_as_parameter():
    assert effect_get("licence.issue:birth-medical-certificate").owner == "licences"


def test_it_issues_the_named_type_to_the_applicant_with_what_an_earlier_effect_left(citizen):
    context = _context(citizen, values={"father_name": "李大明"})
    effect_run("licence.issue:birth-medical-certificate", context)
    licence = Licence.objects.get(case_id=context.case_id)
    assert licence.type.code == "birth-medical-certificate"
    assert licence.holder_person == person_for(citizen)
    assert licence.data["father_name"] == "李大明"  # what the step found wins over the form
    assert context.produced == [
        {
            "kind": "licence",
            "type": "birth-medical-certificate",
            "number": licence.number,
            "name": "出生医学证明",
        }
    ]
    effect_run("licence.issue:birth-medical-certificate", context)  # a retried step issues nothing new
    assert Licence.objects.filter(case_id=context.case_id).count() == 1


def test_the_holder_is_the_person_a_form_field_names_or_the_one_an_earlier_effect_left(citizen):
    import datetime

    from tongban.core.ids import make_resident_id
    from tongban.identity.models import Person

    born = datetime.date(2026, 3, 1)
    other = Person.objects.create(
        resident_id=make_resident_id("310101", born, 123), name="李小明", sex="M", birth_date=born
    )
    context = _context(citizen)
    context.values["holder"] = other
    effect_run("licence.issue:birth-medical-certificate", context)
    assert Licence.objects.get(case_id=context.case_id).holder_person == other

    named = _context(citizen)
    named.form["holder_resident_id"] = person_for(citizen).resident_id
    named.values["holder"] = other
    effect_run("licence.issue:birth-medical-certificate:holder_resident_id", named)
    assert Licence.objects.get(case_id=named.case_id).holder_person == person_for(citizen)


def test_an_unknown_licence_type_is_a_decision_error_and_a_design_time_error(citizen):
    context = _context(citizen)
    with translation.override("en"), pytest.raises(ValidationError, match="no-such-licence") as error:
        effect_run("licence.issue:no-such-licence", context)
    assert list(error.value.message_dict) == ["decision"]
    with pytest.raises(ValidationError):
        effect_check("licence.issue:no-such-licence")


def test_a_holder_field_naming_nobody_is_a_decision_error(citizen):
    context = _context(citizen)
    context.form["buyer_resident_id"] = "310101199001011237"
    with translation.override("en"), pytest.raises(ValidationError, match="buyer_resident_id"):
        effect_run("licence.issue:birth-medical-certificate:buyer_resident_id", context)
