"""Shared steps of the workbench page tests."""

from tongban.cases import services
from tongban.identity.selectors import actor_for
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import newborn_files, newborn_form


def submit_online(parent, newborn, **kwargs):
    return services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files(), **kwargs
    )


def open_task(case, step):
    return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)
