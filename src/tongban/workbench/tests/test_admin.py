"""The back office shows cases, processes and tasks read-only: changes go through the services."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.models import ProcessDefinition, Task

from .helpers import submit_online

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, city):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "root-pass-2026")
    return login_with_second_factor(client, user)


def test_a_superuser_views_a_case_with_its_materials_and_timeline_but_cannot_change_it(
    admin_client, parent, newborn, handlers
):
    case = submit_online(parent, newborn)
    listing = admin_client.get(reverse("admin:cases_case_changelist"), {"q": case.number})
    assert listing.status_code == 200 and case.number in listing.content.decode()
    page = admin_client.get(reverse("admin:cases_case_change", args=[case.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "父母结婚证" in html and "submitted" in html
    assert 'name="_save"' not in html
    assert admin_client.get(reverse("admin:cases_case_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"}).status_code
        == 403
    )
    case.refresh_from_db()


def test_tasks_and_definitions_are_read_only_in_the_back_office(admin_client, parent, newborn, handlers):
    submit_online(parent, newborn)
    task = Task.objects.get()
    tasks = admin_client.get(reverse("admin:workflow_task_changelist"), {"state": "ready"})
    assert tasks.status_code == 200 and task.case_number in tasks.content.decode()
    page = admin_client.post(reverse("admin:workflow_task_change", args=[task.pk]), {"state": "completed"})
    assert page.status_code == 403
    task.refresh_from_db()
    assert task.state == Task.State.READY
    definition = ProcessDefinition.objects.get(key="newborn")
    assert (
        admin_client.get(reverse("admin:workflow_processdefinition_change", args=[definition.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:workflow_processdefinition_add")).status_code == 403
    instance_page = admin_client.get(reverse("admin:workflow_processinstance_changelist"))
    assert instance_page.status_code == 200
