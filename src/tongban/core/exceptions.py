"""Domain exceptions that services raise and the web and API layers map to HTTP answers.

Input that breaks a rule is Django's ``ValidationError`` (→ 400 with field messages). A request that is
well formed but clashes with the current state of things is a ``Conflict`` (→ 409): a case already
accepted, a grant already revoked, a duplicate that must stay unique.
"""

from django.db import InterfaceError, OperationalError, connection
from django.utils.translation import gettext_lazy as _

DATABASE_UNAVAILABLE_MESSAGE = _("The service is briefly unavailable; nothing was saved. Please try again.")
DATABASE_RETRY_AFTER = 1  # seconds, in the 503's Retry-After


def database_unavailable(exc) -> bool:
    """A lost or refused database connection, a lock or a cancelled statement: worth a retry, not a bug.

    On PostgreSQL these are psycopg's ``OperationalError`` (``InterfaceError`` once the connection is closed); on
    SQLite ``OperationalError`` also means a missing table or column, so only a lock counts there. The API's
    exception handler answers them 503 ``database_unavailable``, and so does the 500 handler for an API request
    whose connection was lost outside a view (in a middleware's session or user read).
    """
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    return connection.vendor != "sqlite" or "locked" in str(exc)


class DomainError(Exception):
    """Base of the errors a service raises on purpose; ``code`` is a stable machine-readable name."""

    default_message = _("The request cannot be carried out.")
    default_code = "domain_error"

    def __init__(self, message=None, *, code=None, params=None):
        self.message = message if message is not None else self.default_message
        self.code = code or self.default_code
        self.params = params or {}
        super().__init__(self.message)

    def __str__(self):
        return str(self.message)


class Conflict(DomainError):
    """The request clashes with the current state of the subject (HTTP 409)."""

    default_message = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"
