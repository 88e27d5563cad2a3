"""Words for the codes the audit trail stores: what staff read instead of ``case.accepted`` or ``dept_handler``.

The audit chain keeps stable codes (they are hashed and compared); pages show these labels. An action with no
entry of its own is named from its subject and verb (``ticket.closed`` → "Ticket: closed"), so a new action
never shows as a bare code; a test keeps every action written by the code base in the table.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

AUDIT_ACTIONS = {
    "admin_unit.created": _("Administrative unit created"),
    "calendar.override.delete": _("Working-day exception removed"),
    "calendar.override.set": _("Working-day exception set"),
    "calendar.year.declare": _("Working-day calendar of a year declared"),
    "calendar.year.undeclare": _("Working-day calendar of a year withdrawn"),
    "case.accepted": _("Case accepted"),
    "case.closed": _("Case closed"),
    "case.completed": _("Case completed"),
    "case.grant_declined": _("Granted service declined"),
    "case.granted": _("Service granted without application"),
    "case.material_downloaded": _("Case material downloaded"),
    "case.material_read": _("Case material read"),
    "case.rated": _("Case rated"),
    "case.rejected": _("Case refused"),
    "case.resubmitted": _("Supplement submitted"),
    "case.submitted": _("Case submitted"),
    "case.supplement_requested": _("Supplement requested"),
    "case.viewed": _("Case viewed"),
    "case.withdrawn": _("Case withdrawn"),
    "catalog.bundle_created": _("Bundle created"),
    "catalog.bundle_published": _("Bundle published"),
    "catalog.item_created": _("Service item created"),
    "catalog.item_published": _("Service item published"),
    "data.lookup": _("Registry data looked up"),
    "data.submission_refused": _("Submission refused by a data check"),
    "data_resource.synced": _("Data resource catalogue updated"),
    "demo.seed": _("Demo city seeded"),
    "department.ensured": _("Department set up"),
    "event.replay": _("Events replayed"),
    "faq.created": _("Knowledge-base answer created"),
    "grant.approved": _("Data sharing grant approved"),
    "grant.refused": _("Data sharing grant refused"),
    "grant.requested": _("Data sharing grant requested"),
    "grant.revoked": _("Data sharing grant revoked"),
    "hotline.history_seed": _("Hotline history seeded"),
    "hotline.spike": _("Hotline spike detected"),
    "licence.issued": _("Licence issued"),
    "licence.revoked": _("Licence revoked"),
    "licence.viewed": _("Licence viewed"),
    "licence_key.created": _("Licence signing key created"),
    "licence_key.rotated": _("Licence signing key rotated"),
    "licence_type.created": _("Licence type created"),
    "licence_type.updated": _("Licence type updated"),
    "login.locked_out": _("Sign-in locked after failed attempts"),
    "login.address_limited": _("Sign-in refused: too many failed attempts from one address"),
    "login.password_accepted": _("Password accepted"),
    "login.succeeded": _("Signed in"),
    "login.failed": _("Sign-in failed"),
    "logout": _("Signed out"),
    "message.delivery_failed": _("Message delivery failed"),
    "message.delivery_retried": _("Message delivery retried"),
    "message.read": _("Message read"),
    "message.sent": _("Message sent"),
    "message_template.created": _("Message template created"),
    "message_template.updated": _("Message template updated"),
    "notification_preference.set": _("Notification preference changed"),
    "open311.client_created": _("Open311 client created"),
    "organisation.agent_added": _("Enterprise agent added"),
    "organisation.agent_removed": _("Enterprise agent removed"),
    "organisation.created": _("Organisation created"),
    "organisation.updated": _("Organisation updated"),
    "otp.device_confirmed": _("Second factor confirmed"),
    "otp.device_created": _("Second factor set up"),
    "otp.device_reset": _("Second factor reset"),
    "otp.failed": _("Wrong second-factor code"),
    "permission.denied": _("Access refused"),
    "person.created": _("Person created"),
    "person.updated": _("Person updated"),
    "proactive.grant": _("Proactive grant made"),
    "proactive.notify": _("Proactive offer sent"),
    "proactive.offers.expired": _("Proactive offers expired"),
    "proactive.rule.created": _("Proactive rule created"),
    "proactive.rule.updated": _("Proactive rule updated"),
    "proactive.sweep": _("Proactive rules run"),
    "process.cancelled": _("Process cancelled"),
    "process.definition_stored": _("Process definition stored"),
    "process.resumed": _("Process resumed"),
    "process.started": _("Process started"),
    "process.suspended": _("Process suspended"),
    "rectification.closed": _("Rectification closed"),
    "rectification.opened": _("Rectification opened"),
    "rectification.responded": _("Rectification answered"),
    "registries.seed": _("Registries seeded"),
    "registry.birth.recorded": _("Birth recorded in the register"),
    "registry.viewed": _("Register record viewed"),
    "role.ensured": _("Role set up"),
    "staff.created": _("Staff member created"),
    "staff.deactivated": _("Staff member deactivated"),
    "staff.moved": _("Staff member moved to another department"),
    "staff.roles_changed": _("Staff roles changed"),
    "task.claimed": _("Task claimed"),
    "task.completed": _("Task completed"),
    "task.released": _("Task released"),
    "task.returned": _("Task returned"),
    "ticket.accepted": _("Ticket accepted"),
    "ticket.attachment_read": _("Ticket attachment read"),
    "ticket.callback": _("Ticket called back"),
    "ticket.closed": _("Ticket closed"),
    "ticket.created": _("Ticket created"),
    "ticket.dispatched": _("Ticket dispatched"),
    "ticket.extension_requested": _("Ticket extension requested"),
    "ticket.merged": _("Ticket merged"),
    "ticket.not_duplicate": _("Ticket marked as not a duplicate"),
    "ticket.reopened": _("Ticket reopened"),
    "ticket.replied": _("Ticket answered"),
    "ticket.returned": _("Ticket returned"),
    "ticket.supervised": _("Ticket supervised"),
    "ticket.viewed": _("Ticket viewed"),
    "user.created": _("Account created"),
}

SUBJECT_TYPES = {
    "admin_unit": _("Administrative unit"),
    "bundle": _("Bundle"),
    "case": pgettext_lazy("audit subject", "Case"),
    "data_resource": _("Data resource"),
    "demo_city": _("Demo city"),
    "department": _("Department"),
    "faq": _("Knowledge-base answer"),
    "licence": _("Licence"),
    "licence_key": _("Licence signing key"),
    "licence_type": _("Licence type"),
    "message": _("Message"),
    "message_template": _("Message template"),
    "offer": _("Offer"),
    "organisation": _("Organisation"),
    "page": _("Page"),
    "permission": _("Permission"),
    "person": _("Person"),
    "proactive_rule": _("Proactive rule"),
    "process": _("Process"),
    "process_definition": _("Process definition"),
    "property_unit": _("Property unit"),
    "rectification": _("Rectification"),
    "registry": _("Register"),
    "service_item": _("Service item"),
    "sharing_grant": _("Data sharing grant"),
    "spike_alert": _("Hotline spike"),
    "staff": _("Staff member"),
    "task": pgettext_lazy("audit subject", "Task"),
    "ticket": _("Ticket"),
    "user": _("Account"),
}


def audit_action_label(code: str) -> str:
    """The readable name of an audit action; an unknown one from its subject's name and its verb."""
    code = code or ""
    label = AUDIT_ACTIONS.get(code)
    if label is not None:
        return str(label)
    subject, _dot, verb = code.partition(".")
    if verb and subject in SUBJECT_TYPES:
        return f"{SUBJECT_TYPES[subject]}: {verb.replace('_', ' ').replace('.', ' ')}"
    return code


def subject_type_label(code: str) -> str:
    """The readable name of an audit entry's subject type (the code itself when unknown)."""
    label = SUBJECT_TYPES.get(code or "")
    return str(label) if label is not None else (code or "")
