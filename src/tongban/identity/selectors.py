"""Reads of identity: who a user is, departments, persons and organisations.

Every list of personal data takes the user who asks (``for_user``) and returns only what that user may see;
the API and the workbench call these, never the models directly.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q

from tongban.core.audit import SYSTEM, Actor
from tongban.core.db import fast
from tongban.core.masking import mask_resident_id
from tongban.core.refcache import reference_cached

from .models import AdminUnit, Department, Organisation, Person, Role, Staff, User

__all__ = [
    "SENSITIVITIES",
    "SYSTEM",
    "ClientActor",
    "UserActor",
    "actor_for",
    "actor_from_request",
    "admin_unit_cached",
    "admin_unit_list",
    "department_cached",
    "department_get",
    "department_list",
    "department_scope_ids",
    "needs_second_factor",
    "organisation_list_for_user",
    "organisations_for",
    "person_for",
    "person_get_by_resident_id",
    "person_list",
    "role_list",
    "roles_for",
    "staff_for",
    "staff_list",
    "staff_roles_for",
    "user_get_by_login",
]

_ROLES_CACHE = "_identity_roles"
_STAFF_CACHE = "_identity_staff"
_STAFF_ROLES_CACHE = "_identity_staff_roles"


def staff_for(user):
    """The active Staff record of a user, with its department (and that one's parent) and roles loaded, or None.

    Asked on every staff request (the permission checks, the actor, the lists' scopes) and kept on the user object
    for the rest of the request. Two hand-written statements (core.db.fast: the staff member with the department
    and its parent, then the role codes); the ORM's select_related and prefetch cost 2.5 ms of CPU a request.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, _STAFF_CACHE):
        return getattr(user, _STAFF_CACHE)
    staff = _staff_read(user.pk)
    setattr(user, _STAFF_CACHE, staff)
    return staff


def _staff_read(user_id):
    key = ("identity.staff_for", connection.vendor)
    statements = fast._cache.get(key)
    if statements is None:
        s, d, p = fast.columns(Staff, "s"), fast.columns(Department, "d"), fast.columns(Department, "p")
        through = Staff.roles.through._meta
        staff_column = through.get_field("staff").column
        role_column = through.get_field("role").column
        r = fast.columns(Role, "r")
        statements = fast._cache[key] = (
            (s, d, p, r),
            f"SELECT {s.sql}, {d.sql}, {p.sql} FROM {Staff._meta.db_table} s "  # noqa: S608
            f"JOIN {Department._meta.db_table} d ON d.id = s.department_id "
            f"LEFT JOIN {Department._meta.db_table} p ON p.id = d.parent_id "
            "WHERE s.user_id = %s AND s.active ORDER BY s.id LIMIT 1",
            f"SELECT {r.sql} FROM {Role._meta.db_table} r JOIN {through.db_table} sr "  # noqa: S608
            f"ON sr.{role_column} = r.code WHERE sr.{staff_column} = %s ORDER BY r.code",
        )
    (s, d, p, r), staff_sql, roles_sql = statements
    row = fast.fetchone(staff_sql, [user_id])
    if row is None:
        return None
    staff = fast.build(s, row)
    department = fast.build(d, row, s.count)
    parent = fast.build(p, row, s.count + d.count)
    department._state.fields_cache["parent"] = parent
    staff._state.fields_cache["department"] = department
    roles = [
        fast.build(r, role_row) for role_row in fast.fetchall(roles_sql, [fast.prep(Staff, "id", staff.pk)])
    ]
    # What prefetch_related("roles") leaves behind: ``staff.roles.all()`` answers from it without a query.
    cached = Role.objects.none()
    cached._result_cache, cached._prefetch_done = roles, True
    staff._prefetched_objects_cache = {"roles": cached}
    return staff


def person_for(user):
    """The Person a (citizen's) user is linked to, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # Person.objects.filter(user_id=...).select_related("household_district").first(), hand-written
    # (core.db.fast): every submission asks it, and the ORM spent more CPU compiling it than SQLite running it.
    person, district = fast.columns(Person, "p"), fast.columns(AdminUnit, "d")
    row = fast.fetchone(
        f"SELECT {person.sql}, {district.sql} FROM identity_person p "  # noqa: S608
        "LEFT OUTER JOIN identity_adminunit d ON d.id = p.household_district_id WHERE p.user_id = %s",
        [fast.prep(Person, "user", user.pk)],
    )
    if row is None:
        return None
    found = fast.build(person, row)
    found.household_district = fast.build(district, row, person.count)
    return found


def organisations_for(user):
    """The organisations a user acts for as an enterprise agent (企业经办人)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(agents=user).order_by("name")


def roles_for(user):
    """The role codes a user holds now, as a frozenset.

    Staff roles come from the active Staff record. ``citizen`` is held by a user linked to a Person,
    ``enterprise_agent`` by a user who acts for at least one organisation. The answer is cached on the user
    object for the rest of the request; ``forget_roles(user)`` drops it after a change.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, _ROLES_CACHE, None)
    if cached is not None:
        return cached
    roles = set(staff_roles_for(user))
    # One hand-written statement for both questions (every request with a permission check asks them).
    links = dict(zip(("tb_person", "tb_agent"), fast.fetchone(_links_sql(), [user.pk, user.pk]), strict=True))
    if links.get("tb_person"):
        roles.add("citizen")
    if links.get("tb_agent"):
        roles.add("enterprise_agent")
    result = frozenset(roles)
    setattr(user, _ROLES_CACHE, result)
    return result


def _links_sql() -> str:
    """Whether a user is linked to a Person and whether they act for an organisation, in one statement."""
    key = ("identity.roles_for", connection.vendor)
    sql = fast._cache.get(key)
    if sql is None:
        agents = Organisation.agents.through._meta
        sql = fast._cache[key] = (
            f"SELECT EXISTS(SELECT 1 FROM {Person._meta.db_table} WHERE {Person._meta.get_field('user').column} = %s), "  # noqa: S608
            f"EXISTS(SELECT 1 FROM {agents.db_table} WHERE {agents.get_field('user').column} = %s)"
        )
    return sql


def staff_roles_for(user) -> frozenset:
    """The role codes of the user's active Staff record (no query beyond ``staff_for``'s, cached with it)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, _STAFF_ROLES_CACHE, None)
    if cached is not None:
        return cached
    staff = staff_for(user)
    result = frozenset(role.code for role in staff.roles.all()) if staff is not None else frozenset()
    setattr(user, _STAFF_ROLES_CACHE, result)
    return result


def forget_roles(user):
    """Drop the roles and staff record cached on a user object (after its roles changed)."""
    for attribute in (_ROLES_CACHE, _STAFF_CACHE, _STAFF_ROLES_CACHE):
        if hasattr(user, attribute):
            delattr(user, attribute)


def is_staff_user(user):
    """Whether the user works for the platform: an active Staff record, or a Django staff/superuser account."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or staff_for(user) is not None)


def needs_second_factor(user):
    """Staff (and any admin-site account) must prove a second factor (TOTP); citizens need not."""
    return is_staff_user(user)


def _role_label(staff, limit=64):
    """The staff member's role codes, comma-separated, kept within the audit log's column width."""
    label = ""
    for code in sorted(role.code for role in staff.roles.all()):
        candidate = f"{label},{code}" if label else code
        if len(candidate) > limit:
            break
        label = candidate
    return label


@dataclass(frozen=True)
class UserActor(Actor):
    """The typed actor every service takes (``actor=``): who acts, as the audit records them, with the user.

    Built once by the page or API layer (``actor_from_request``) or by a job (``actor_for``); services check the
    permission with it as their first line and never receive an HTTP request. ``second_factor`` tells whether a
    staff member's session passed TOTP; ``path`` is what they were doing, kept on the audit entry of a refusal.
    """

    user: object = field(default=None, compare=False, repr=False)
    second_factor: bool = False
    path: str = ""


# Data sensitivity, lowest first (the field classes of exchange's resource specs use the same words).
SENSITIVITIES = ("public", "internal", "personal", "sensitive")


@dataclass(frozen=True)
class ClientActor(UserActor):
    """An API client (另一部门或区的系统) acting with an OAuth 2 token: ``kind="client"``.

    Built by the API's client authentication (``tongban.integrations``) from the client's admin entry, with the
    scopes of its token (``cases:read`` ...) and its limits: the departments whose cases and tickets it may touch,
    the service items (empty: all) and the highest data sensitivity it may receive. ``user`` is the client's own
    service account (no roles); ``has_permission`` answers for a client from its scopes and limits.
    """

    scopes: frozenset = frozenset()
    department_ids: frozenset = frozenset()
    service_item_codes: frozenset = frozenset()
    max_sensitivity: str = "internal"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def allows_department(self, department_id) -> bool:
        return department_id in self.department_ids

    def allows_item(self, codes) -> bool:
        """Whether the client may act on something of these service items (one of them is enough)."""
        return not self.service_item_codes or bool(self.service_item_codes & frozenset(codes))

    def allows_sensitivity(self, level: str) -> bool:
        return SENSITIVITIES.index(level) <= SENSITIVITIES.index(self.max_sensitivity)


def actor_for(user, *, second_factor: bool | None = None, path: str = "") -> UserActor:
    """The ``Actor`` for a user: staff with role and department, a citizen, or anonymous."""
    if user is None or not getattr(user, "is_authenticated", False):
        return UserActor(kind="anonymous", id="", label="anonymous", user=user, path=path)
    if second_factor is None:
        verified = getattr(user, "is_verified", None)
        second_factor = bool(verified()) if callable(verified) else False
    common = {"id": str(user.pk), "label": user.get_username(), "user": user}
    common.update(second_factor=second_factor, path=path)
    staff = staff_for(user)
    if staff is not None:
        return UserActor(kind="staff", role=_role_label(staff), department=staff.department.code, **common)
    if user.is_staff or user.is_superuser:
        return UserActor(kind="staff", role="admin", **common)
    return UserActor(kind="citizen", role="citizen", **common)


def actor_from_request(request) -> UserActor:
    """The actor of a page or API request (built once per request and kept on it)."""
    cached = getattr(request, "_tongban_actor", None)
    if cached is None:
        path = f"{request.method} {request.path}"[:200]
        cached = actor_for(request.user, path=path)
        request._tongban_actor = cached
    return cached


def department_scope_ids(staff, *, read_only=False):
    """The ids of the departments a staff member acts for.

    Their own department; and, for reading only, a municipal department's head also sees the district
    branches of that department.
    """
    if staff is None:
        return frozenset()
    # Kept on the staff object, which lives as long as the request (``staff_for``): asked up to four times a request.
    cache = staff.__dict__.setdefault("_identity_scope", {})
    found = cache.get(read_only)
    if found is not None:
        return found
    ids = {staff.department_id}
    municipal_head = staff.department.level == Department.Level.CITY and any(
        role.code == "dept_head" for role in staff.roles.all()
    )
    if read_only and municipal_head:
        ids.update(_branch_ids(staff.department_id))
    found = cache[read_only] = frozenset(ids)
    return found


def _branch_ids(department_id) -> list:
    """The ids of a department's branches (its children), in one hand-written statement: a municipal head's every
    request asks it, and the ORM's query cost more to build than to run."""
    key = ("identity.branch_ids", connection.vendor)
    sql = fast._cache.get(key)
    if sql is None:
        meta = Department._meta
        sql = fast._cache[key] = (
            f"SELECT {meta.pk.column} FROM {meta.db_table} "  # noqa: S608 - names from the model
            f"WHERE {meta.get_field('parent').column} = %s"
        )
    return [
        fast.convert(Department, "id", pk)
        for (pk,) in fast.fetchall(sql, [fast.prep(Department, "parent", department_id)])
    ]


def user_get_by_login(login):
    """The user for a login name: a username, or a resident ID number of a person who has an account."""
    value = (login or "").strip()
    if not value:
        return None
    user = User.objects.filter(username=value).first()
    if user is not None:
        return user
    if len(value) == 18:
        person = Person.objects.filter(resident_id=value.upper()).select_related("user").first()
        if person is not None and person.user_id:
            return person.user
    return None


def actor_names(labels) -> dict[str, str]:
    """The people behind actor labels (the audit's usernames: ``handler.health``) by name, for timelines: the
    citizen's name from the population register, a staff member's from the account; a label that is not a user
    (``system``) is left out."""
    labels = {label for label in labels if label}
    if not labels:
        return {}
    names = {}
    for user in User.objects.filter(username__in=labels).select_related("person"):
        person = getattr(user, "person", None)
        name = person.name if person is not None else f"{user.last_name}{user.first_name}".strip()
        if name:
            names[user.username] = name
    return names


def department_get(code):
    """A department by its code, or None."""
    return Department.objects.select_related("admin_unit", "parent").filter(code=code).first()


def department_cached(code: str) -> Department | None:
    """A department by its code (its own fields only), or None: for the hot paths that only attach it (a ticket's
    department, its branch in a district when there is one). Not to be changed by the caller."""
    return _departments_by_code().get(code)


@reference_cached(Department)
def _departments_by_code() -> dict[str, Department]:
    """Every department by code (a city has hundreds), kept a minute per process and forgotten when a department is
    saved here: a missing branch is known without a statement too."""
    return {department.code: department for department in Department.objects.all()}


@reference_cached(AdminUnit)
def admin_unit_cached(code: str, level: str) -> AdminUnit | None:
    """An administrative unit of ``level`` by its code, kept like ``department_cached``."""
    return AdminUnit.objects.filter(code=code, level=level).first()


@reference_cached(Department)
def department_names() -> dict[str, tuple[str, str]]:
    """Every department's ``(Chinese name, English name)`` by code, for lines that name departments by code (kept a
    minute per process, forgotten when a department is saved here)."""
    return {code: (zh, en) for code, zh, en in Department.objects.values_list("code", "name_zh", "name_en")}


def department_list(*, level=None, parent=None, admin_unit=None, search=None):
    """Departments, municipal first then branches, optionally filtered."""
    qs = Department.objects.select_related("admin_unit", "parent")
    if level:
        qs = qs.filter(level=level)
    if parent is not None:
        qs = qs.filter(parent__code=parent) if isinstance(parent, str) else qs.filter(parent=parent)
    if admin_unit is not None:
        qs = (
            qs.filter(admin_unit__code=admin_unit)
            if isinstance(admin_unit, str)
            else qs.filter(admin_unit=admin_unit)
        )
    if search:
        qs = qs.filter(
            Q(code__icontains=search) | Q(name_zh__icontains=search) | Q(name_en__icontains=search)
        )
    return qs.order_by("level", "code")


def admin_unit_list(*, level=None, parent=None):
    qs = AdminUnit.objects.all()
    if level:
        qs = qs.filter(level=level)
    if parent is not None:
        qs = qs.filter(parent__code=parent) if isinstance(parent, str) else qs.filter(parent=parent)
    return qs.order_by("code")


def role_list():
    return Role.objects.order_by("code")


def staff_list(*, department=None, role=None, active=True):
    qs = Staff.objects.select_related("user", "department").prefetch_related("roles")
    if department is not None:
        qs = (
            qs.filter(department__code=department)
            if isinstance(department, str)
            else qs.filter(department=department)
        )
    if role:
        qs = qs.filter(roles__code=role).distinct()
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("department__code", "user__username")


def person_get_by_resident_id(resident_id):
    return Person.objects.filter(resident_id=(resident_id or "").strip().upper()).first()


def person_list(*, for_user, search=None, district=None):
    """Persons the user may see: a citizen only themself; staff with ``person.view`` everyone (searchable).

    Reads of other people's data by staff are audited by the caller with the purpose of the read.
    """
    from .permissions import has_permission

    qs = Person.objects.select_related("household_district")
    if not has_permission(for_user, "person.view"):
        return qs.filter(user_id=for_user.pk) if getattr(for_user, "is_authenticated", False) else qs.none()
    if search:
        search = search.strip()
        if len(search) == 18:
            qs = qs.filter(resident_id=search.upper())
        else:
            qs = qs.filter(name__startswith=search)
    if district:
        qs = qs.filter(household_district__code=district)
    return qs.order_by("name", "resident_id")


def organisation_list_for_user(*, for_user, search=None):
    """Organisations the user may see: an agent those they act for; staff with ``organisation.view`` all."""
    from .permissions import has_permission

    qs = Organisation.objects.select_related("district", "legal_representative")
    if not has_permission(for_user, "organisation.view"):
        return qs.filter(agents=for_user) if getattr(for_user, "is_authenticated", False) else qs.none()
    if search:
        qs = qs.filter(Q(credit_code=search.strip().upper()) | Q(name__icontains=search.strip()))
    return qs.order_by("name")


def masked_login(login):
    """A login name as it may appear in the audit log: a resident ID number is masked."""
    value = (login or "").strip()[:150]
    if len(value) == 18 and value[:17].isdigit():
        return mask_resident_id(value.upper())
    return value
