"""Step effects write registries only with what the application says: nothing is invented."""

import types

import pytest
from django.core.exceptions import ValidationError

from tongban.cases.effects import newborn_birth_certificate
from tongban.core.audit import SYSTEM
from tongban.exchange.models import BirthRecord


@pytest.mark.parametrize("missing", ["baby_sex", "birth_date", "birth_weight_g"])
def test_a_birth_is_not_recorded_with_a_guessed_sex_date_or_weight(db, missing):
    form = {"baby_name": "李小明", "baby_sex": "male", "birth_date": "2026-11-20", "birth_weight_g": 3300}
    form.pop(missing)
    case = types.SimpleNamespace(pk=None, form_data=form, applicant_person=None)
    with pytest.raises(ValidationError) as error:
        newborn_birth_certificate(case, None, SYSTEM)
    assert list(error.value.message_dict) == ["decision"]
    assert not BirthRecord.objects.exists()
