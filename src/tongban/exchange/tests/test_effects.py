"""The registries' step effects: registered by name, reading the form by documented names, never inventing."""

import types

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tongban.core.audit import SYSTEM
from tongban.core.effects import EffectContext, effect_get, effect_run
from tongban.exchange.models import BirthRecord

REGISTRY_EFFECTS = (
    "birth.record",
    "household.register_newborn",
    "medical_insurance.enrol_newborn",
    "social_security.enrol_and_issue_card",
    "real_estate.check_owner_and_free",
    "tax.record_deed_tax",
    "real_estate.transfer",
    "real_estate.certificate_details",
)


def _context(form, **extra):
    return EffectContext(actor=SYSTEM, department=None, case_id=None, case_number="", form=form, **extra)


def test_the_registry_effects_are_registered_by_the_exchange_app_with_their_owners():
    owners = {name: effect_get(name).owner for name in REGISTRY_EFFECTS}
    assert owners["birth.record"] == "health"
    assert owners["household.register_newborn"] == "public-security"
    assert owners["tax.record_deed_tax"] == "tax"
    assert all(owners.values())


@pytest.mark.parametrize("missing", ["baby_sex", "birth_date", "birth_weight_g"])
def test_a_birth_is_not_recorded_with_a_guessed_sex_date_or_weight(db, missing):
    mother = types.SimpleNamespace(pk=None)
    form = {"baby_name": "李小明", "baby_sex": "male", "birth_date": "2026-11-20", "birth_weight_g": 3300}
    form.pop(missing)
    with pytest.raises(ValidationError) as error:
        effect_run("birth.record", _context(form, applicant_person=mother))
    assert list(error.value.message_dict) == ["decision"]
    assert not BirthRecord.objects.exists()


def test_a_mother_named_by_the_form_but_not_in_the_register_is_a_decision_error(db):
    form = {"baby_name": "李小明", "mother_resident_id": "310101199209031247"}
    with translation.override("en"), pytest.raises(ValidationError, match="mother_resident_id") as error:
        effect_run("birth.record", _context(form))
    assert list(error.value.message_dict) == ["decision"]


def test_a_newborn_without_a_name_is_not_looked_for(db):
    mother = types.SimpleNamespace(pk=None)
    with translation.override("en"), pytest.raises(ValidationError, match="baby_name"):
        effect_run("household.register_newborn", _context({}, applicant_person=mother))


def test_a_transfer_of_a_unit_missing_from_the_register_is_refused(db):
    with translation.override("en"), pytest.raises(ValidationError, match="property_unit"):
        effect_run("real_estate.transfer", _context({"property_unit": "NOPE"}))


def test_a_newborn_whose_name_differs_from_the_certificate_is_refused_naming_the_certificate(db):
    """The form's name changed after health issued the certificate (by a supplement, say): the refusal says which
    certificate of the mother bears which name, not a bare "not found", so the handler knows what to correct."""
    from tongban.exchange.tests.factories_registries import BirthRecordFactory

    record = BirthRecordFactory(baby_name="李小安")
    form = {"baby_name": "李晓安"}
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        effect_run("household.register_newborn", _context(form, applicant_person=record.mother))
    (message,) = error.value.message_dict["decision"]
    assert "李晓安" in message and record.certificate_number in message and "“李小安”" in message
    assert "2025-10-08" in message
    record.baby_name = (
        "李晓安"  # once the names agree, the search goes on (here: no household for the mother)
    )
    record.save()
    with translation.override("en"), pytest.raises(ValidationError, match="no household"):
        effect_run("household.register_newborn", _context(form, applicant_person=record.mother))


def test_a_newborn_without_any_birth_record_of_the_mother_is_not_found(db):
    from tongban.identity.tests.factories import PersonFactory

    mother = PersonFactory(sex="F")
    with translation.override("en"), pytest.raises(ValidationError, match="No birth record was found"):
        effect_run("household.register_newborn", _context({"baby_name": "李晓安"}, applicant_person=mother))
