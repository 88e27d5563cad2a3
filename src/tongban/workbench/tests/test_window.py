"""The window (一窗受理): a clerk anywhere in the city applies for any applicant (全市通办)."""

import datetime as dt

import pytest
from django.urls import reverse

from tongban.cases import services as cases
from tongban.cases.models import Case, CaseMaterial
from tongban.catalog import services as catalog
from tongban.catalog.selectors import item_get
from tongban.core.audit import SYSTEM
from tongban.core.masking import mask_resident_id
from tongban.core.models import AuditEntry
from tongban.identity.models import Department
from tongban.identity.reference import branch_code
from tongban.identity.selectors import actor_for, person_get_by_resident_id
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workbench.selectors import applicant_token
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import MOTHER_ID, newborn_form, pdf_upload

from .helpers import open_task

pytestmark = pytest.mark.django_db

PUDONG_CENTRE = branch_code("big-data-center", "310115")


@pytest.fixture(autouse=True)
def _in_english(client):
    client.cookies["django_language"] = "en"


def _apply_url(service_kind="bundle", code="newborn"):
    return reverse("workbench:window-apply", args=[service_kind, code])


def _post_form(applicant, *, key="window-key-1", **overrides):
    data = {"applicant": applicant_token(applicant), "idempotency_key": key}
    for name, value in newborn_form(**overrides).items():
        data[f"form-{name}"] = value
    return data


def test_clerk_finds_the_applicant_by_resident_id_and_sees_masked_data(client, clerk, parent, newborn):
    login_with_second_factor(client, clerk)
    response = client.post(reverse("workbench:window"), {"kind": "person", "id": MOTHER_ID}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert MOTHER_ID not in response.redirect_chain[0][0]
    assert mask_resident_id(MOTHER_ID) in html
    assert MOTHER_ID not in html
    assert "Newborn" in html  # the catalogue to choose from, by name
    assert "<code>newborn</code>" not in html  # not by the bundle's internal code
    person = person_get_by_resident_id(MOTHER_ID)
    assert AuditEntry.objects.filter(action="person.viewed", subject_id=str(person.pk)).exists()


def test_an_unknown_resident_id_is_answered_beside_the_field(client, clerk, newborn):
    login_with_second_factor(client, clerk)
    response = client.post(reverse("workbench:window"), {"kind": "person", "id": "110101199001011234"})
    assert response.status_code == 404
    assert "No applicant with this number" in response.content.decode()


def test_service_search_narrows_the_catalogue(client, clerk, parent, newborn):
    login_with_second_factor(client, clerk)
    person = person_get_by_resident_id(MOTHER_ID)
    response = client.get(
        reverse("workbench:window"), {"applicant": applicant_token(person), "q": "社会保障卡"}
    )
    html = response.content.decode()
    assert "社会保障卡申领" in html
    assert "城乡居民基本医疗保险参保登记" not in html


def test_a_pudong_clerk_applies_for_a_huangpu_resident_and_huangpu_registers_the_household(
    client, clerk, parent, newborn, handlers
):
    person = person_get_by_resident_id(MOTHER_ID)
    login_with_second_factor(client, clerk)
    form_page = client.get(_apply_url(), {"applicant": applicant_token(person)})
    assert form_page.status_code == 200
    assert 'name="form-baby_name"' in form_page.content.decode()
    assert 'name="file-parents-marriage-certificate"' in form_page.content.decode()

    data = _post_form(person)
    data["window_checked"] = ["parents-marriage-certificate"]
    response = client.post(_apply_url(), data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:window-done", args=[case.number])
    assert case.channel == Case.Channel.WINDOW
    assert case.accepting_department.code == PUDONG_CENTRE
    assert case.jurisdiction_district.code == "310101"
    assert case.applicant_person == person
    assert case.status == Case.Status.ACCEPTED
    material = case.materials.get()
    assert (material.origin, material.trust) == (CaseMaterial.Origin.WINDOW, CaseMaterial.Trust.B)

    done = client.get(response["Location"]).content.decode()
    assert case.number in done
    centre = Department.objects.get(code=PUDONG_CENTRE)
    assert (centre.name_en or centre.name_zh) in done  # the accepting unit, by name ...
    assert PUDONG_CENTRE not in done  # ... not by its code
    assert "Huangpu" in done or "黄浦" in done  # ... apart from the district with jurisdiction
    assert f"/cases/{case.number}/receipt.pdf" in done
    receipt = client.get(f"/cases/{case.number}/receipt.pdf")
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"

    cases.case_task_complete(
        actor=actor_for(handlers["health"]),
        task_id=open_task(case, "birth_certificate").pk,
        decision="approve",
    )
    assert open_task(case, "household_registration").department.code == "public-security-310101"


def test_a_file_uploaded_at_the_window_is_kept_as_checked_at_the_window(client, clerk, parent, newborn):
    person = person_get_by_resident_id(MOTHER_ID)
    login_with_second_factor(client, clerk)
    data = _post_form(person)
    data["file-parents-marriage-certificate"] = pdf_upload("marriage.pdf")
    assert client.post(_apply_url(), data).status_code == 302
    material = Case.objects.get().materials.get()
    assert material.file and material.origin == CaseMaterial.Origin.WINDOW
    assert material.trust == CaseMaterial.Trust.B


def test_field_errors_are_shown_beside_the_fields_and_nothing_is_written(client, clerk, parent, newborn):
    person = person_get_by_resident_id(MOTHER_ID)
    login_with_second_factor(client, clerk)
    response = client.post(_apply_url(), _post_form(person, mother_resident_id="123", baby_name=""))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="field-mother_resident_id-errors"' in html
    assert 'id="field-baby_name-errors"' in html
    assert 'id="file-parents-marriage-certificate-errors"' in html
    assert 'value="上海市第一妇婴保健院"' in html  # what the clerk typed is kept
    assert Case.objects.count() == 0
    assert Task.objects.count() == 0


def test_a_retried_window_submission_makes_one_case(client, clerk, parent, newborn):
    person = person_get_by_resident_id(MOTHER_ID)
    login_with_second_factor(client, clerk)
    data = _post_form(person, key="same-key")
    data["window_checked"] = ["parents-marriage-certificate"]
    first = client.post(_apply_url(), data)
    second = client.post(_apply_url(), data)
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1


def test_a_window_form_resent_with_other_answers_is_refused_on_the_form(client, clerk, parent, newborn):
    """The form's key already made a case: other answers under it are a message (409), not a 500."""
    person = person_get_by_resident_id(MOTHER_ID)
    login_with_second_factor(client, clerk)
    data = _post_form(person, key="same-key")
    data["window_checked"] = ["parents-marriage-certificate"]
    assert client.post(_apply_url(), data).status_code == 302
    changed = {**data, "form-baby_name": "李小红"}
    response = client.post(_apply_url(), changed)
    assert response.status_code == 409
    assert "was already used for a different application" in response.content.decode()
    assert response.context["idempotency_key"] != "same-key"  # sent again, it is a new application
    assert Case.objects.count() == 1


def test_a_department_handler_may_not_use_the_window(client, handlers):
    login_with_second_factor(client, handlers["health"])
    assert client.get(reverse("workbench:window")).status_code == 403
    assert AuditEntry.objects.filter(action="permission.denied").exists()


def test_anonymous_visitors_are_sent_to_log_in(client, city):
    response = client.get(reverse("workbench:window"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))


def test_a_citizen_gets_403_at_the_window(client, parent):
    client.force_login(parent)
    assert client.get(reverse("workbench:window")).status_code == 403


@pytest.fixture
def manual_case(parent, newborn, handlers):
    """An online application for an item that staff accept by hand."""
    item = item_get("310100-hrss-ss-card")
    catalog.item_update(actor=SYSTEM, item=item, acceptance="manual")
    return cases.case_submit(actor=actor_for(parent), service=item, form_data={"baby_name": "李小明"})


def test_clerk_accepts_a_case_awaiting_acceptance(client, clerk, manual_case):
    assert manual_case.status == Case.Status.SUBMITTED
    login_with_second_factor(client, clerk)
    listing = client.get(reverse("workbench:window-awaiting")).content.decode()
    assert manual_case.number in listing
    response = client.post(reverse("workbench:window-accept", args=[manual_case.number]))
    assert response.status_code == 302
    manual_case.refresh_from_db()
    assert manual_case.status == Case.Status.ACCEPTED
    assert Task.objects.filter(case_id=manual_case.pk, department__code="hrss").exists()


def test_the_awaiting_list_shows_each_cases_acceptance_day_and_marks_it_past(client, clerk, manual_case):
    """The clerk sees by when to accept (five working days after submission) and which cases are past it: a case
    could wait weeks in the list with nothing to say so."""
    from tongban.core import calendar

    submitted = calendar.as_local_date(manual_case.submitted_at)
    due = calendar.add_working_days(submitted, 5)
    assert manual_case.acceptance_due_on == due
    login_with_second_factor(client, clerk)
    client.cookies["django_language"] = "zh-hans"
    listing = client.get(reverse("workbench:window-awaiting")).content.decode()
    assert f"受理期限：{due:%Y-%m-%d} 前" in listing and "已过受理期限" not in listing
    # The applicant sees the same day on the case page while the case waits.
    client.force_login(manual_case.submitted_by)
    page = client.get(reverse("cases:detail", args=[manual_case.number])).content.decode()
    assert "受理期限" in page and f'data-testid="acceptance-due">{due:%Y-%m-%d}<' in page
    login_with_second_factor(client, clerk)
    late = manual_case.submitted_at - dt.timedelta(days=30)
    Case.objects.filter(pk=manual_case.pk).update(submitted_at=late)
    listing = client.get(reverse("workbench:window-awaiting")).content.decode()
    assert "已过受理期限" in listing


def test_refusing_acceptance_needs_a_reason_and_a_legal_basis(client, clerk, manual_case):
    login_with_second_factor(client, clerk)
    url = reverse("workbench:window-refuse", args=[manual_case.number])
    response = client.post(url, {"reason": "材料不全"})
    assert response.status_code == 400
    assert f'id="basis-{manual_case.number}-errors"' in response.content.decode()
    manual_case.refresh_from_db()
    assert manual_case.status == Case.Status.SUBMITTED
    response = client.post(url, {"reason": "非本市户籍", "basis": "《社会保险法》第五十八条"})
    assert response.status_code == 302
    manual_case.refresh_from_db()
    assert manual_case.status == Case.Status.REJECTED
    assert manual_case.rejection_basis == "《社会保险法》第五十八条"


def test_home_counts_cases_awaiting_acceptance_for_clerks(client, clerk, manual_case):
    login_with_second_factor(client, clerk)
    html = client.get(reverse("workbench:home")).content.decode()
    assert 'id="count-awaiting">1<' in html
    assert "count-awaiting-late" not in html  # submitted today: days to go


def test_home_says_how_many_waiting_cases_are_past_their_acceptance_day(client, clerk, manual_case):
    from tongban.core import calendar
    from tongban.workbench.selectors import inbox_summary

    due = manual_case.acceptance_due_on
    assert inbox_summary(clerk, today=due)["awaiting_late"] == 0  # the day itself is still in time
    assert inbox_summary(clerk, today=due + dt.timedelta(days=1))["awaiting_late"] == 1
    Case.objects.filter(pk=manual_case.pk).update(
        submitted_at=manual_case.submitted_at - dt.timedelta(days=30)
    )
    login_with_second_factor(client, clerk)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("workbench:home")).content.decode()
    assert 'id="count-awaiting-late">1 件已过受理期限<' in html
    assert calendar.today() > Case.objects.get(pk=manual_case.pk).acceptance_due_on
