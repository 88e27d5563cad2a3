"""Helpers the integrations' tests share: an administrator and API clients made through the services."""

from tongban.core.audit import SYSTEM
from tongban.identity import services as identity_services
from tongban.identity.selectors import actor_for, department_get
from tongban.integrations import services


def admin_actor():
    from tongban.identity.models import User

    user = User.objects.filter(username="platform.admin").first()
    if user is None:
        user = identity_services.user_create(actor=SYSTEM, username="platform.admin", password=None)
        user.is_superuser = user.is_staff = True
        user.save(update_fields=["is_superuser", "is_staff"])
    return actor_for(user, second_factor=True)


def make_client(name="District system", department="health", scopes=("cases:read",), **kwargs):
    """An API client and its secret."""
    return services.api_client_create(
        actor=admin_actor(), name=name, department=department_get(department), scopes=list(scopes), **kwargs
    )
