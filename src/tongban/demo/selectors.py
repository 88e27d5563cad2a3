"""Reads of the demo city: its accounts and the last seeding."""

from tongban.identity.models import Staff, User

from . import reference as ref
from .models import SeedRun


def seed_run_latest():
    """The last seeding of the demo city (not of a case history, ``seed --cases``)."""
    return SeedRun.objects.exclude(counts__has_key="history_cases").order_by("-created_at").first()


def demo_account_list() -> list[dict]:
    """The demo accounts present in the database, in the order of ``reference``: staff, then citizens.

    Each is ``{"username", "name", "kind", "roles", "department"}`` (``department``: the organisation an
    enterprise agent acts for).
    """
    staff_names = [row[0] for row in ref.DEMO_STAFF]
    citizen_names = [row[0] for row in ref.DEMO_CITIZENS]
    staff = {
        s.user.username: s
        for s in Staff.objects.select_related("user", "department")
        .prefetch_related("roles")
        .filter(user__username__in=staff_names)
    }
    users = {
        u.username: u for u in User.objects.filter(username__in=citizen_names).prefetch_related("agent_for")
    }
    accounts = []
    for username in staff_names:
        member = staff.get(username)
        if member is not None:
            accounts.append(
                {
                    "username": username,
                    "name": member.user.first_name,
                    "kind": "staff",
                    "roles": sorted(r.code for r in member.roles.all()),
                    "department": member.department.name_zh,
                }
            )
    for username in citizen_names:
        user = users.get(username)
        if user is not None:
            organisations = [o.name for o in user.agent_for.all()]
            accounts.append(
                {
                    "username": username,
                    "name": user.first_name,
                    "kind": "citizen",
                    "roles": ["citizen", "enterprise_agent"] if organisations else ["citizen"],
                    "department": "、".join(organisations),
                }
            )
    return accounts
