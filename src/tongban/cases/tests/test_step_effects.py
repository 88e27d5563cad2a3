"""A case's step runs the effects its items name, whatever the items' codes: no code knows the catalogue."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tongban.cases import services
from tongban.cases.models import Case
from tongban.catalog import services as catalog
from tongban.catalog.models import ServiceItem
from tongban.core.audit import SYSTEM
from tongban.exchange.models import BirthRecord
from tongban.identity.selectors import actor_for
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import newborn_files, newborn_form


def _open(case, step):
    return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)


def test_an_item_of_any_code_that_names_an_effect_has_it_run_when_its_step_is_approved(
    parent, newborn, handlers
):
    item = ServiceItem.objects.get(code="310100-health-birth-cert")  # not a demo code
    catalog.item_update(actor=SYSTEM, item=item, step_effects={"birth_certificate": ["birth.record"]})
    case = services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )

    task = _open(case, "birth_certificate")
    # The form has no baby_sex: the birth register refuses to guess, and the whole step rolls back.
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="sex, birth date or weight") as error,
    ):
        services.case_task_complete(actor=actor_for(handlers["health"]), task_id=task.pk, decision="approve")
    assert list(error.value.message_dict) == ["decision"]
    assert not BirthRecord.objects.exists()
    task.refresh_from_db()
    assert task.state in Task.OPEN_STATES
    assert Case.objects.get(pk=case.pk).status != Case.Status.COMPLETED


def test_a_step_no_item_names_effects_for_changes_no_registry(parent, newborn, handlers):
    case = services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
    )
    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=_open(case, "birth_certificate").pk, decision="approve"
    )
    assert not BirthRecord.objects.exists()
    assert _open(case, "household_registration")
