"""The two demo bundles of the catalogue, end to end through the case services, as staff would work them."""

import pytest
from django.core.exceptions import PermissionDenied

from tongban.cases import services
from tongban.cases.models import Case
from tongban.cases.sample import sample_form_data
from tongban.cases.tests.fixtures import _staff, pdf_upload
from tongban.catalog.demo import NEWBORN_BUNDLE, REAL_ESTATE_BUNDLE, catalog_demo_ensure
from tongban.catalog.selectors import bundle_get
from tongban.catalog.services import required_materials
from tongban.core import calendar
from tongban.core.audit import SYSTEM
from tongban.identity.models import Person
from tongban.identity.reference import branch_code
from tongban.workflow.models import Task
from tongban.workflow.services import definitions_ensure_builtin


@pytest.fixture
def demo_catalogue(city):
    catalog_demo_ensure(actor=SYSTEM)
    definitions_ensure_builtin(actor=SYSTEM)


def _apply(user, bundle, person, **extra):
    form = sample_form_data(bundle.form_schema, person=person)
    files = {m.code: pdf_upload(f"{m.code}.pdf") for m in required_materials(bundle, form)}
    return services.case_submit(user=user, service=bundle, form_data=form, files=files, **extra)


def _ready(case):
    return {t.bpmn_id: t for t in Task.objects.filter(case_id=case.pk, state__in=Task.OPEN_STATES)}


def test_real_estate_transfer_runs_three_departments_in_parallel_then_registers(demo_catalogue, parent):
    bundle = bundle_get(REAL_ESTATE_BUNDLE)
    assert (bundle.promised_limit_days, bundle.legal_limit_days) == (5, 30)
    staff = {
        "planning-resources": _staff("pr.handler", "planning-resources", ["dept_handler"]),
        "pr-approver": _staff("pr.approver", "planning-resources", ["dept_approver"]),
        "tax": _staff("tax.handler", "tax", ["dept_handler"]),
        "housing": _staff("housing.handler", "housing", ["dept_handler"]),
    }
    case = _apply(parent, bundle, Person.objects.get(user=parent))
    case.refresh_from_db()
    assert case.due_date == calendar.add_working_days(calendar.as_local_date(case.accepted_at), 5)
    ready = _ready(case)
    assert set(ready) == {"registration_review", "deed_tax", "transaction_filing"}
    assert {t.department.code for t in ready.values()} == {"planning-resources", "tax", "housing"}
    services.case_task_complete(user=staff["tax"], task_id=ready["deed_tax"].pk, decision="approve")
    services.case_task_complete(
        user=staff["housing"], task_id=ready["transaction_filing"].pk, decision="approve"
    )
    assert "registration" not in _ready(case)  # the join waits for the third department
    services.case_task_complete(
        user=staff["planning-resources"], task_id=ready["registration_review"].pk, decision="approve"
    )
    registration = _ready(case)["registration"]
    assert registration.role == "dept_approver"
    with pytest.raises(PermissionDenied):  # a handler may not take the approver's step
        services.case_task_complete(
            user=staff["planning-resources"], task_id=registration.pk, decision="approve"
        )
    services.case_task_complete(user=staff["pr-approver"], task_id=registration.pk, decision="approve")
    services.case_task_complete(
        user=staff["planning-resources"], task_id=_ready(case)["certificate_issue"].pk, decision="approve"
    )
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert len(case.result) == 3
    assert case.steps == 5
    assert set(case.departments_involved) == {"planning-resources", "tax", "housing"}


def test_the_demo_newborn_bundle_asks_no_upload_of_what_it_produces(demo_catalogue, parent):
    handlers = {
        "health": _staff("nb.health", "health", ["dept_handler"]),
        "public-security": _staff("nb.ps", branch_code("public-security", "310101"), ["dept_handler"]),
        "medical-insurance": _staff("nb.mi", "medical-insurance", ["dept_handler"]),
        "hrss": _staff("nb.hrss", "hrss", ["dept_handler"]),
    }
    bundle = bundle_get(NEWBORN_BUNDLE)
    form = sample_form_data(bundle.form_schema, person=Person.objects.get(user=parent))
    codes = {m.code for m in required_materials(bundle, form)}
    assert "birth-medical-certificate" not in codes
    case = _apply(parent, bundle, Person.objects.get(user=parent))
    for step, department in (
        ("birth_certificate", "health"),
        ("household_registration", "public-security"),
        ("social_security_card", "hrss"),
        ("medical_insurance", "medical-insurance"),
    ):
        services.case_task_complete(
            user=handlers[department], task_id=_ready(case)[step].pk, decision="approve"
        )
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert len(case.result) == 4
