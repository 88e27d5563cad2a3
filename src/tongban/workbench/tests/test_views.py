import pytest
from django.db import transaction
from django.urls import reverse

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.identity import services
from tongban.identity.selectors import actor_for, department_get
from tongban.identity.tests.fixtures import login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english(client):
    """The site speaks Chinese unless the visitor chose English (the language cookie)."""
    client.cookies["django_language"] = "en"


def test_anonymous_visitor_is_sent_to_the_login_page(client, city):
    response = client.get(reverse("workbench:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))


def test_citizen_gets_a_403_page_that_helps(client, citizen):
    client.force_login(citizen)
    response = client.get(reverse("workbench:home"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "The workbench is for government staff" in html
    assert reverse("portal:home") in html
    assert "li.ming" in html


def test_staff_without_second_factor_is_asked_for_the_code(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("workbench:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:otp-verify"))


def record(actor, action):
    with transaction.atomic():
        audit_record(actor=actor, action=action, subject_type="case", subject_id="c-1")


def test_staff_sees_department_roles_and_own_recorded_actions(client, staff_user):
    colleague = Actor(kind="staff", id="98", label="colleague", role="dept_handler", department="health")
    record(actor_for(staff_user), "case.viewed")
    record(colleague, "case.colleague_action")
    login_with_second_factor(client, staff_user)
    response = client.get(reverse("workbench:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Health" in html
    assert "Department handler" in html and "Department approver" in html
    assert "dept_handler" not in html  # roles in words, not codes
    assert "My latest recorded actions" in html
    assert "Case viewed" in html and "case.viewed" not in html
    assert "colleague action" not in html


def test_department_head_sees_the_department_audit_trail_only(client, city):
    head = services.user_create(actor=SYSTEM, username="head", password=None)
    services.staff_create(actor=SYSTEM, user=head, department=department_get("health"), roles=["dept_head"])
    record(
        Actor(kind="staff", id="98", label="colleague", role="dept_handler", department="health"),
        "case.colleague_action",
    )
    record(
        Actor(kind="staff", id="99", label="other", role="dept_handler", department="tax"), "tax.other_action"
    )
    login_with_second_factor(client, head)
    html = client.get(reverse("workbench:home")).content.decode()
    assert "Latest audit entries of my department" in html
    assert "Case: colleague action" in html  # an action with no label of its own: its subject and verb
    assert "other action" not in html


def test_workbench_home_shows_chinese_names_by_default(client, staff_user):
    del client.cookies["django_language"]
    login_with_second_factor(client, staff_user)
    html = client.get(reverse("workbench:home")).content.decode()
    assert "工作台" in html
    assert "卫生健康" in html or "卫健" in html
