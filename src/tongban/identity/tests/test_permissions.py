import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from tongban.core.models import AuditEntry
from tongban.identity.permissions import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    ROLES,
    RolePermission,
    has_permission,
    permission_required_for,
    require_permission,
    staff_required,
)
from tongban.identity.reference import ROLE_CODES

from .factories import (
    BranchFactory,
    CitizenFactory,
    DepartmentFactory,
    OrganisationFactory,
    PersonFactory,
    StaffFactory,
    UserFactory,
    login_verified,
)

pytestmark = pytest.mark.django_db


def test_every_role_has_a_permission_table_and_every_permission_is_declared():
    assert set(ROLES) == set(ROLE_CODES) == set(ROLE_PERMISSIONS)
    for spec in ROLES.values():
        assert spec.permissions <= set(PERMISSIONS), spec.code


def test_a_clerk_of_another_department_is_refused_a_scoped_permission():
    health, tax = DepartmentFactory(), DepartmentFactory()
    handler = StaffFactory(department=health, roles=["dept_handler"]).user
    assert has_permission(handler, "task.work", department=health)
    assert has_permission(handler, "task.work", department=health.code)
    assert not has_permission(handler, "task.work", department=tax)
    assert not has_permission(handler, "task.approve", department=health)  # not a right of the role
    assert has_permission(handler, "task.work")  # "anywhere": for menus and lists


def test_an_unscoped_permission_ignores_the_department():
    """全市通办: a window clerk accepts a case for any department."""
    clerk = StaffFactory(department=DepartmentFactory(), roles=["window_clerk"]).user
    assert has_permission(clerk, "case.accept", department=DepartmentFactory())


def test_city_roles_act_for_every_department():
    supervisor = StaffFactory(roles=["supervisor"]).user
    assert has_permission(supervisor, "supervision.view", department=DepartmentFactory())
    assert not has_permission(supervisor, "task.approve", department=DepartmentFactory())


def test_a_municipal_head_may_view_but_not_decide_for_its_district_branches():
    municipal = DepartmentFactory()
    branch = BranchFactory(parent=municipal)
    other_branch = BranchFactory()
    head = StaffFactory(department=municipal, roles=["dept_head"]).user
    assert has_permission(head, "case.view", department=branch)
    assert has_permission(head, "supervision.view", department=branch)
    assert not has_permission(head, "task.approve", department=branch)
    assert not has_permission(head, "case.view", department=other_branch)
    handler = StaffFactory(department=municipal, roles=["dept_handler"]).user
    assert not has_permission(handler, "case.view", department=branch)


def test_a_branch_head_does_not_see_the_municipal_department():
    branch = BranchFactory()
    head = StaffFactory(department=branch, roles=["dept_head"]).user
    assert not has_permission(head, "case.view", department=branch.parent)


def test_citizens_act_only_for_themselves():
    citizen = CitizenFactory()
    other = PersonFactory()
    assert has_permission(citizen, "portal.apply")
    assert has_permission(citizen, "portal.apply", owner=citizen.person)
    assert not has_permission(citizen, "portal.apply", owner=other)
    assert not has_permission(citizen, "case.view")
    org = OrganisationFactory(agents=[citizen])
    assert has_permission(citizen, "portal.apply", owner=org)
    assert not has_permission(citizen, "portal.apply", owner=OrganisationFactory())


def test_inactive_anonymous_and_superusers():
    from django.contrib.auth.models import AnonymousUser

    staff = StaffFactory(roles=["platform_admin"])
    staff.user.is_active = False
    assert not has_permission(staff.user, "platform.admin")
    assert not has_permission(AnonymousUser(), "portal.apply")
    assert has_permission(UserFactory(is_superuser=True), "task.approve", department=DepartmentFactory())


def test_an_unknown_permission_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        has_permission(UserFactory(), "case.teleport")


def test_require_permission_audits_the_denial():
    dept = DepartmentFactory()
    clerk = StaffFactory(roles=["window_clerk"]).user
    request = RequestFactory().post("/workbench/tasks/1/approve/")
    with pytest.raises(PermissionDenied):
        require_permission(clerk, "task.approve", department=dept, request=request)
    entry = AuditEntry.objects.get(action="permission.denied")
    assert entry.actor_id == str(clerk.pk)
    assert entry.actor_kind == "staff"
    assert entry.subject_id == "task.approve"
    assert entry.details_data["department"] == dept.code
    assert entry.details_data["path"] == "/workbench/tasks/1/approve/"
    require_permission(clerk, "case.accept")  # allowed: no exception, no entry
    assert AuditEntry.objects.filter(action="permission.denied").count() == 1


def _request(user, path="/workbench/x/"):
    request = RequestFactory().get(path)
    request.user = user
    request.session = {}
    if not hasattr(user, "is_verified"):
        user.is_verified = lambda: False
    return request


def test_staff_required_refuses_a_citizen_and_audits_it():
    citizen = CitizenFactory()
    view = staff_required(lambda request: HttpResponse("ok"))
    with pytest.raises(PermissionDenied):
        view(_request(citizen))
    entry = AuditEntry.objects.get(action="permission.denied")
    assert entry.actor_kind == "citizen"
    assert entry.details_data["reason"] == "not staff"


def test_staff_required_sends_unverified_staff_to_the_code_page(client):
    staff = StaffFactory(roles=["dept_handler"])
    client.force_login(staff.user)  # password only, no second factor in this session
    response = client.get(reverse("workbench:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:otp-verify"))


def test_staff_required_with_a_permission(client):
    view = staff_required(permission="task.approve")(lambda request: HttpResponse("ok"))
    handler = StaffFactory(roles=["dept_handler"]).user
    handler.is_verified = lambda: True
    with pytest.raises(PermissionDenied):
        view(_request(handler))
    approver = StaffFactory(roles=["dept_approver"]).user
    approver.is_verified = lambda: True
    assert view(_request(approver)).status_code == 200


def test_a_citizen_cannot_reach_the_workbench(client):
    client.force_login(CitizenFactory())
    assert client.get(reverse("workbench:home")).status_code == 403
    assert AuditEntry.objects.filter(action="permission.denied").exists()


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("workbench:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))


def test_verified_staff_reach_the_workbench(client):
    staff = StaffFactory(roles=["dept_handler"])
    login_verified(client, staff.user)
    assert client.get(reverse("workbench:home")).status_code == 200


def test_permission_required_for_decorator_uses_the_department_of_the_view():
    dept = DepartmentFactory()
    view = permission_required_for("task.work", department=lambda request, code: code)(
        lambda request, code: HttpResponse("ok")
    )
    handler = StaffFactory(department=dept, roles=["dept_handler"]).user
    assert view(_request(handler), code=dept.code).status_code == 200
    with pytest.raises(PermissionDenied):
        view(_request(handler), code=DepartmentFactory().code)


class _TaskApi(APIView):
    permission_classes = [RolePermission]
    required_permissions = {"get": "task.work", "post": "task.approve"}

    def get(self, request):
        return HttpResponse("ok")

    def post(self, request):
        return HttpResponse("ok")


def _api(method, user):
    factory = APIRequestFactory()
    request = getattr(factory, method)("/api/test/")
    user.is_verified = lambda: True
    force_authenticate(request, user=user)
    return _TaskApi.as_view()(request)


def test_drf_permission_class_declares_policy_on_the_view_and_audits_denials():
    handler = StaffFactory(roles=["dept_handler"]).user
    assert _api("get", handler).status_code == 200
    assert _api("post", handler).status_code == 403
    assert AuditEntry.objects.filter(action="permission.denied", subject_id="task.approve").exists()


def test_drf_permission_class_refuses_unverified_staff():
    handler = StaffFactory(roles=["dept_handler"]).user
    request = APIRequestFactory().get("/api/test/")
    handler.is_verified = lambda: False
    force_authenticate(request, user=handler)
    assert _TaskApi.as_view()(request).status_code == 403
