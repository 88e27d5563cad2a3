"""The one place where Tongban decides who may do what (权限).

Every app asks the same question the same way::

    has_permission(user, "task.approve", department=task.department)        # -> bool
    require_permission(user, "task.approve", department=..., request=request)  # raises, and audits a denial

Policy:

* A user holds roles (``roles_for``): staff roles from the active Staff record, ``citizen`` when linked to a
  Person, ``enterprise_agent`` when acting for an organisation. ``ROLE_PERMISSIONS`` lists what each role may do.
* A permission is *scoped* or not (``PERMISSIONS``). An unscoped one ignores ``department`` (a window clerk
  accepts a case for any department: 全市通办; a dispatcher routes a ticket to any department).
* For a scoped permission with a ``department``: a role whose scope is ``city`` (hotline operator, dispatcher,
  supervisor, platform administrator) acts for every department; a ``department`` role only for the staff
  member's own department. One exception, for reading only: the head (``dept_head``) of a *municipal*
  department may also use the ``.view`` permissions on that department's district branches.
  Without a ``department`` the question is "may this user do this anywhere?" (menus, list pages).
* Citizens and enterprise agents act only for themselves: pass ``owner=`` (a Person or Organisation) and a
  ``self`` role passes only when the owner is the user's own Person or an organisation the user acts for.
* A Django superuser may do everything; an inactive user nothing.

A denial through ``require_permission`` writes an audit entry (``permission.denied``) and raises
``PermissionDenied``. Call it outside the transaction of the refused work, or the entry is rolled back too.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission

from tongban.core.audit import audit_record

from .models import Department, Organisation, Person
from .reference import ROLE_DEFINITIONS
from .selectors import (
    ClientActor,
    UserActor,
    actor_for,
    department_scope_ids,
    is_staff_user,
    roles_for,
    staff_for,
    staff_roles_for,
)

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "ROLE_PERMISSIONS",
    "PermissionRequiredMixin",
    "RolePermission",
    "StaffRequiredMixin",
    "has_permission",
    "permission_required_for",
    "require_permission",
    "staff_required",
]


@dataclass(frozen=True)
class PermissionSpec:
    code: str
    label: str
    scoped: bool


def _p(code, label, *, scoped=True):
    return PermissionSpec(code, label, scoped)


PERMISSIONS = {
    spec.code: spec
    for spec in (
        # Portal (citizens and enterprise agents, for themselves).
        _p("portal.apply", _("apply for a service"), scoped=False),
        _p("portal.rate", _("rate a case or ticket"), scoped=False),
        _p("portal.data_use.view", _("see who used my data"), scoped=False),
        # Cases and tasks.
        _p(
            "case.accept", _("accept a case at a window"), scoped=False
        ),  # 全市通办: any window, any department
        _p("case.view", _("view cases")),
        _p("case.supplement", _("request supplementary materials")),
        _p("task.work", _("work on tasks")),
        _p("task.approve", _("approve or refuse")),
        _p("task.assign", _("assign and reassign tasks")),
        _p("licence.issue", _("issue e-licences")),
        # 12345 hotline.
        _p("ticket.take", _("take hotline requests"), scoped=False),
        _p("ticket.dispatch", _("dispatch tickets to departments"), scoped=False),
        _p("ticket.callback", _("call back and close tickets"), scoped=False),
        _p("ticket.handle", _("handle tickets dispatched to the department")),
        _p("ticket.view", _("view tickets")),
        _p("faq.edit", _("maintain the hotline's knowledge base"), scoped=False),
        # Supervision and evaluation.
        _p("supervision.view", _("view warnings and supervision")),
        _p("supervision.warn", _("raise warnings and cards")),
        _p("rectification.handle", _("handle rectifications")),
        _p("evaluation.view", _("view ratings and indicators")),
        _p("audit.view", _("view the audit log")),
        _p("audit.verify", _("verify the audit chain"), scoped=False),
        # Catalogue and data.
        _p("catalog.design", _("design service items and bundles")),
        _p("catalog.publish", _("publish service items")),
        _p("exchange.catalog", _("maintain data resources")),
        _p("exchange.grant", _("grant data sharing")),
        _p("exchange.request", _("request data sharing")),
        # Enterprise services (the enterprise service office's analytics, 隐形冠军).
        _p("enterprise.analytics", _("view enterprise analytics"), scoped=False),
        # People, organisations, staff and the platform.
        _p("person.view", _("look up persons"), scoped=False),
        _p("organisation.view", _("look up organisations"), scoped=False),
        _p("staff.manage", _("manage staff and roles")),
        _p("calendar.manage", _("maintain the working-day calendar"), scoped=False),
        _p("platform.admin", _("administer the platform"), scoped=False),
    )
}

_CITIZEN = {"portal.apply", "portal.rate", "portal.data_use.view"}
_DEPARTMENT_STAFF = {"case.view", "ticket.view", "person.view", "organisation.view"}

ROLE_PERMISSIONS = {
    "citizen": frozenset(_CITIZEN),
    "enterprise_agent": frozenset(_CITIZEN),
    "window_clerk": frozenset(
        {"case.accept", "case.view", "case.supplement", "person.view", "organisation.view"}
    ),
    "dept_handler": frozenset(_DEPARTMENT_STAFF | {"task.work", "case.supplement", "ticket.handle"}),
    "dept_approver": frozenset(_DEPARTMENT_STAFF | {"task.work", "task.approve", "licence.issue"}),
    "dept_head": frozenset(
        _DEPARTMENT_STAFF
        | {
            "task.work",
            "task.approve",
            "task.assign",
            "licence.issue",
            "ticket.handle",
            "supervision.view",
            "rectification.handle",
            "evaluation.view",
            "audit.view",
            "catalog.publish",
            "staff.manage",
            "enterprise.analytics",
        }
    ),
    "hotline_operator": frozenset(
        {"ticket.take", "ticket.callback", "ticket.view", "person.view", "organisation.view"}
    ),
    "dispatcher": frozenset({"ticket.dispatch", "ticket.view", "ticket.take", "faq.edit"}),
    "supervisor": frozenset(
        {
            "case.view",
            "ticket.view",
            "supervision.view",
            "supervision.warn",
            "evaluation.view",
            "audit.view",
            "audit.verify",
            "enterprise.analytics",
        }
    ),
    "service_designer": frozenset(
        {"catalog.design", "catalog.publish", "evaluation.view", "faq.edit", "enterprise.analytics"}
    ),
    "data_steward": frozenset({"exchange.catalog", "exchange.grant", "exchange.request", "audit.view"}),
    "platform_admin": frozenset(
        {"platform.admin", "staff.manage", "calendar.manage", "audit.view", "audit.verify", "catalog.publish"}
    ),
}


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name_zh: str
    name_en: str
    scope: str
    staff: bool
    permissions: frozenset


# What an API client's token scope lets it do through the services (a client holds no role). A permission not
# listed here is never a client's: a department system cannot approve a task or administer the platform.
CLIENT_SCOPE_PERMISSIONS = {
    "case.view": "cases:read",
    "case.accept": "cases:write",
    "person.view": "lookups:read",
    "organisation.view": "lookups:read",
    "ticket.take": "tickets:write",
    "ticket.view": "tickets:read",
}


ROLES = {
    d.code: RoleSpec(d.code, d.name_zh, d.name_en, d.scope, d.staff, ROLE_PERMISSIONS[d.code])
    for d in ROLE_DEFINITIONS
}


def _department_id(department):
    if department is None:
        return None
    if isinstance(department, Department):
        return department.pk
    if isinstance(department, str):
        found = Department.objects.filter(code=department).values_list("pk", flat=True).first()
        if found is None:
            raise ValueError(f"unknown department code {department!r}")
        return found
    return department  # a primary key


def _owns(user, owner):
    """Whether a citizen or enterprise agent acts for ``owner`` (a Person or Organisation)."""
    if isinstance(owner, Person):
        return owner.user_id is not None and owner.user_id == user.pk
    if isinstance(owner, Organisation):
        return owner.agents.filter(pk=user.pk).exists()
    raise TypeError(f"owner must be a Person or an Organisation, not {type(owner).__name__}")


def has_permission(user, perm, *, department=None, owner=None):
    """Whether ``user`` may use permission ``perm``, for ``department`` and on behalf of ``owner`` if given.

    ``department`` is a Department, its code or its primary key; ``owner`` a Person or Organisation whose
    business it is (only citizens and agents are limited by it).
    """
    spec = PERMISSIONS.get(perm)
    if spec is None:
        raise ImproperlyConfigured(f"unknown permission {perm!r}; add it to identity.permissions.PERMISSIONS")
    if isinstance(user, ClientActor):
        return _client_granted(user, perm, _department_id(department) if spec.scoped else None)
    if isinstance(user, UserActor):
        user = user.user
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    department_id = _department_id(department) if spec.scoped else None
    # Staff roles first: a staff member's permission needs no question about their citizen or agent links.
    staff_roles = staff_roles_for(user)
    if _granted(user, perm, staff_roles, department_id, owner):
        return True
    return _granted(user, perm, roles_for(user) - staff_roles, department_id, owner)


def _client_granted(actor: ClientActor, perm: str, department_id) -> bool:
    """A client may use ``perm`` when its token holds the matching scope, for one of its departments if scoped."""
    user = actor.user
    if user is None or not user.is_active:
        return False
    scope = CLIENT_SCOPE_PERMISSIONS.get(perm)
    if scope is None or not actor.has_scope(scope):
        return False
    return department_id is None or actor.allows_department(department_id)


def _granted(user, perm, codes, department_id, owner) -> bool:
    for code in codes:
        role = ROLES.get(code)
        if role is None or perm not in role.permissions:
            continue
        if role.scope == "self":
            if owner is None or _owns(user, owner):
                return True
            continue
        if department_id is None or role.scope == "city":
            return True
        read_only = perm.endswith(".view")
        if department_id in department_scope_ids(staff_for(user), read_only=read_only):
            return True
    return False


def permission_scope(user, perm: str) -> frozenset | None:
    """The ids of the departments whose work ``user`` may see with ``perm``: None for every department.

    A city-wide role holding ``perm`` (or a superuser) sees all; a department role its own department and, for a
    ``.view`` permission, a municipal head also the district branches. An empty set means nothing. Supervision's
    pages and the hotline's analytics both filter by it.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    for code in staff_roles_for(user):  # city-wide roles are staff roles (a citizen's or agent's is "self")
        role = ROLES.get(code)
        if role is not None and role.scope == "city" and perm in role.permissions:
            return None
    staff = staff_for(user)
    if staff is None or not has_permission(user, perm, department=staff.department_id):
        return frozenset()
    return department_scope_ids(staff, read_only=perm.endswith(".view"))


def _department_label(department):
    if department is None:
        return ""
    if isinstance(department, Department):
        return department.code
    return str(department)


def require_permission(user, perm, *, department=None, owner=None, request=None):
    """Pass silently when ``has_permission`` says yes; otherwise audit the denial and raise PermissionDenied.

    ``user`` is a user or the typed actor a service received (its ``path`` then says what was being done).
    """
    actor = user if isinstance(user, UserActor) else None
    if actor is not None and not isinstance(actor, ClientActor):
        user = actor.user
    if has_permission(user, perm, department=department, owner=owner):
        return
    details = {"permission": perm}
    if department is not None:
        details["department"] = _department_label(department)
    if owner is not None:
        details["owner_type"] = type(owner).__name__.lower()
        details["owner_id"] = str(owner.pk)
    if request is not None:
        details["path"] = request.path[:200]
        details["method"] = request.method
    elif actor is not None and actor.path:
        details["method"], _sep, details["path"] = actor.path.partition(" ")
    with transaction.atomic():
        audit_record(
            actor=actor or actor_for(user),
            action="permission.denied",
            subject_type="permission",
            subject_id=perm,
            details=details,
        )
    raise PermissionDenied(
        _("You do not have the permission to %(what)s.") % {"what": PERMISSIONS[perm].label}
    )


def _resolve(value, request, *args, **kwargs):
    return value(request, *args, **kwargs) if callable(value) else value


def permission_required_for(perm, *, department=None, owner=None, login_url=None):
    """Decorate a view function so it requires ``perm`` (``department``/``owner`` may be callables of the
    view's arguments). Anonymous users go to the login page; others without the permission get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), login_url)
            require_permission(
                request.user,
                perm,
                department=_resolve(department, request, *args, **kwargs),
                owner=_resolve(owner, request, *args, **kwargs),
                request=request,
            )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _staff_gate(request, permission=None, department=None):
    """None when the request may go on to a staff page; otherwise the response to send instead."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_staff_user(user):
        # A citizen (or anyone without a staff record) at a staff page: refuse and put it on record.
        _deny_staff_page(request)
    if not user.is_verified():
        return redirect(f"{reverse('identity:otp-verify')}?{urlencode({'next': request.get_full_path()})}")
    if permission:
        require_permission(user, permission, department=department, request=request)
    return None


def _deny_staff_page(request):
    with transaction.atomic():
        audit_record(
            actor=actor_for(request.user),
            action="permission.denied",
            subject_type="page",
            subject_id=request.path[:200],
            details={"reason": "not staff", "path": request.path[:200], "method": request.method},
        )
    raise PermissionDenied(_("This page is for staff only."))


def staff_required(view=None, *, permission=None, department=None):
    """Decorate a staff page: logged in, a staff member, second factor verified, and ``permission`` if given.

    Anonymous users go to the login page, staff who have not yet given their TOTP code to the code page,
    and anyone else gets 403 (audited). Use as ``@staff_required`` or ``@staff_required(permission="...")``.
    """

    def decorator(view_func):
        @wraps(view_func)
        def wrapped(request, *args, **kwargs):
            response = _staff_gate(request, permission, _resolve(department, request, *args, **kwargs))
            if response is not None:
                return response
            return view_func(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator


def second_factor_required(view_func):
    """Decorate a portal page a staff member may also open as a resident (their own data): staff who have not
    given their TOTP code this session go to the code page first; residents pass. Put under ``login_required``."""

    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and is_staff_user(user) and not user.is_verified():
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('identity:otp-verify')}?{query}")
        return view_func(request, *args, **kwargs)

    return wrapped


class PermissionRequiredMixin:
    """Class-based view policy: ``required_permission`` (and ``get_permission_department``/``_owner``)."""

    required_permission = None

    def get_required_permission(self):
        if self.required_permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must set required_permission")
        return self.required_permission

    def get_permission_department(self):
        return None

    def get_permission_owner(self):
        return None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        require_permission(
            request.user,
            self.get_required_permission(),
            department=self.get_permission_department(),
            owner=self.get_permission_owner(),
            request=request,
        )
        return super().dispatch(request, *args, **kwargs)


class StaffRequiredMixin:
    """Class-based staff page: like ``staff_required``; set ``required_permission`` to also check one."""

    required_permission = None

    def get_permission_department(self):
        return None

    def dispatch(self, request, *args, **kwargs):
        response = _staff_gate(request, self.required_permission, self.get_permission_department())
        if response is not None:
            return response
        return super().dispatch(request, *args, **kwargs)


class RolePermission(BasePermission):
    """DRF permission class built on ``has_permission``; the view declares its policy on the class::

        class CaseViewSet(viewsets.ModelViewSet):
            permission_classes = [RolePermission]
            required_permissions = {"list": "case.view", "retrieve": "case.view", "create": "case.accept"}
            # or one for every action: required_permission = "case.view"

            def get_permission_department(self, obj):   # optional; default: obj.department if it has one
                return obj.department

    A mapping value of ``None`` lets any authenticated user through for that action. An action with no
    declaration is a configuration error, so a new endpoint cannot be open by omission. Denials are audited.
    Staff using the API must have a verified second factor in their session.
    """

    message = _("You do not have permission to perform this action.")

    @staticmethod
    def _required(request, view):
        method = request.method.lower()
        if method not in view.http_method_names or getattr(view, method, None) is None:
            # TRACE or a method the view does not serve: DRF's 405, before asking for a policy it never needs.
            raise MethodNotAllowed(request.method)
        if method == "options":
            # A description of the endpoint (DRF's metadata, which itself only lists the actions the caller may
            # take): any signed-in caller, never a policy of its own to declare.
            return None
        mapping = getattr(view, "required_permissions", None)
        verb = "get" if method == "head" else method  # HEAD is a GET without the body
        action = getattr(view, "action", None) or verb
        if mapping is not None:
            if action in mapping:
                return mapping[action]
            if verb in mapping:
                return mapping[verb]
            raise ImproperlyConfigured(
                f"{type(view).__name__}.required_permissions has no entry for {action!r}"
            )
        if hasattr(view, "required_permission"):
            return view.required_permission
        raise ImproperlyConfigured(f"{type(view).__name__} must declare required_permission(s)")

    def _check(self, request, view, department=None, owner=None):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if is_staff_user(user) and not user.is_verified():
            return False
        perm = self._required(request, view)
        if perm is None:
            return True
        try:
            require_permission(user, perm, department=department, owner=owner, request=request)
        except PermissionDenied:
            return False
        return True

    def has_permission(self, request, view):
        return self._check(request, view)

    def has_object_permission(self, request, view, obj):
        getter = getattr(view, "get_permission_department", None)
        department = getter(obj) if getter else getattr(obj, "department", None)
        owner_getter = getattr(view, "get_permission_owner", None)
        owner = owner_getter(obj) if owner_getter else None
        if owner is None and isinstance(obj, Person | Organisation):
            owner = obj
        return self._check(request, view, department=department, owner=owner)
