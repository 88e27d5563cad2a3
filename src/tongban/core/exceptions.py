"""Domain exceptions that services raise and the web and API layers map to HTTP answers.

Input that breaks a rule is Django's ``ValidationError`` (→ 400 with field messages). A request that is
well formed but clashes with the current state of things is a ``Conflict`` (→ 409): a case already
accepted, a grant already revoked, a duplicate that must stay unique.
"""

from django.utils.translation import gettext_lazy as _


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
