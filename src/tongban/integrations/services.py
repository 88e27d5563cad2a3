"""Writes of the integrations app: API clients, webhook subscribers, the relay from the outbox and deliveries.

Events out: ``webhooks_relay`` reads the outbox (core's ``OutboxEvent`` rows, through ``core.selectors``) from
where it stopped and writes one ``WebhookDelivery`` per event and subscriber whose types and scopes allow it;
``webhooks_deliver`` posts the due ones as CloudEvents 1.0 (structured JSON over HTTP), signed (``signing``),
retrying failures with exponential backoff until ``TONGBAN_WEBHOOK_MAX_ATTEMPTS``, then keeping them as dead for
``webhook_replay``. The worker runs both every minute (``tasks``); ``tongban webhooks`` runs them by hand.
"""

import datetime as dt
import logging
import re
import secrets

import requests
from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from oauth2_provider.models import Application

from tongban.cases import selectors as case_selectors
from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.ids import validate_resident_id
from tongban.core.masking import mask_resident_id
from tongban.core.selectors import outbox_events_since
from tongban.hotline import selectors as hotline_selectors
from tongban.identity.models import Department
from tongban.identity.permissions import require_permission
from tongban.identity.selectors import SENSITIVITIES, ClientActor, person_get_by_resident_id
from tongban.identity.services import person_update, user_create

from . import signing
from .models import ApiClient, RelayCursor, WebhookDelivery, WebhookSubscriber
from .scopes import scope_names

logger = logging.getLogger(__name__)

RATE_RE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")
RELAY_KEY = "webhooks"
# The relay reads again this far behind where it stopped: an event written by a transaction that committed late
# (its created_at is when it was written, not when it became visible) is still offered. Deliveries are unique
# per (subscriber, event), so reading again sends nothing twice.
RELAY_OVERLAP = dt.timedelta(minutes=2)
RELAY_BATCH = 1000
CLAIM_LEASE = dt.timedelta(minutes=2)
MAX_RETRY_DELAY = dt.timedelta(hours=6)
EVENT_TYPE_PREFIX = "cn.tongban."

# Which scope lets a client-bound subscriber receive an event, by the event name's prefix; every event is
# "internal" data (ids, numbers and states, never personal data). Events not listed (the platform's own
# bookkeeping: grants, calendar, messages, webhooks) go only to subscribers not tied to a client.
EVENT_SCOPES = {
    "case.": "cases:read",
    "task.": "cases:read",
    "ticket.": "tickets:read",
    "licence.": "licences:read",
}
EVENT_SENSITIVITY = "internal"


# --- API clients ---------------------------------------------------------------------------------------------


def api_client_errors(*, scopes, max_sensitivity, rate) -> dict:
    """Messages per field for a client's scopes, sensitivity and rate (the admin's form shows them)."""
    errors = {}
    unknown = sorted(set(scopes) - set(scope_names()))
    if unknown:
        errors["scopes"] = [_("Unknown scope %(scope)s.") % {"scope": ", ".join(unknown)}]
    if max_sensitivity not in SENSITIVITIES:
        errors["max_sensitivity"] = [_("Unknown sensitivity.")]
    if rate and not RATE_RE.match(rate):
        errors["rate"] = [
            _("Write the rate as a number of requests per second, minute, hour or day: 120/minute.")
        ]
    return errors


@transaction.atomic
def api_client_create(
    *,
    actor: Actor,
    name: str,
    department: Department,
    scopes,
    departments=(),
    service_items=(),
    max_sensitivity: str = "internal",
    rate: str = "",
) -> tuple[ApiClient, str]:
    """Register another system as an API client; return it with its client secret (shown once, kept hashed)."""
    require_permission(actor, "platform.admin")
    name = (name or "").strip()
    scopes = list(dict.fromkeys(scopes))
    errors = api_client_errors(scopes=scopes, max_sensitivity=max_sensitivity, rate=rate)
    if not name:
        errors["name"] = [_("Give the system a name.")]
    elif ApiClient.objects.filter(name=name).exists():
        errors["name"] = [_("Another API client has this name.")]
    if errors:
        raise ValidationError(errors)
    username = f"client-{slugify(name)[:40] or 'system'}-{secrets.token_hex(3)}"
    user = user_create(actor=actor, username=username, password=None, first_name=name[:150])
    secret = secrets.token_urlsafe(32)
    application = Application(
        name=name[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        user=user,
    )
    application.save()
    client = ApiClient.objects.create(
        name=name,
        application=application,
        user=user,
        department=department,
        scopes=scopes,
        max_sensitivity=max_sensitivity,
        rate=rate,
    )
    client.departments.set(departments)
    client.service_items.set(service_items)
    audit_record(
        actor=actor,
        action="api_client.created",
        subject_type="api_client",
        subject_id=str(client.pk),
        details={"name": name, "department": department.code, "scopes": scopes},
    )
    return client, secret


@transaction.atomic
def api_client_update(
    *, actor: Actor, client: ApiClient, changed: list[str], save: bool = False
) -> ApiClient:
    """Save (``save``) and record an administrator's change of a client's scopes, limits or state (the fields are
    already set on ``client``; the admin form saves its departments and items after)."""
    require_permission(actor, "platform.admin")
    errors = api_client_errors(scopes=client.scopes, max_sensitivity=client.max_sensitivity, rate=client.rate)
    if errors:
        raise ValidationError(errors)
    if save:
        client.save()
    if not client.active:
        # A deactivated system's tokens stop at once, not when they expire.
        client.application.accesstoken_set.all().delete()
    audit_record(
        actor=actor,
        action="api_client.changed",
        subject_type="api_client",
        subject_id=str(client.pk),
        details={
            "name": client.name,
            "fields": sorted(changed),
            "scopes": client.scopes,
            "active": client.active,
        },
    )
    return client


def client_actor(client: ApiClient, *, scopes, path: str = "") -> ClientActor:
    """The typed actor of a request made with one of ``client``'s tokens (holding ``scopes``)."""
    department_ids = {client.department_id, *client.departments.values_list("pk", flat=True)}
    return ClientActor(
        kind="client",
        id=str(client.pk),
        label=client.name[:200],
        role="api_client",
        department=client.department.code,
        user=client.user,
        path=path[:200],
        scopes=frozenset(scopes) & frozenset(client.scopes),
        department_ids=frozenset(department_ids),
        service_item_codes=frozenset(client.service_items.values_list("code", flat=True)),
        max_sensitivity=client.max_sensitivity,
    )


def require_client_scope(
    actor: ClientActor, scope: str, *, department_ids=None, item_codes=None, sensitivity=None
) -> None:
    """Refuse (403, audited) unless the client's token holds ``scope`` and its limits cover the departments (one of
    them is enough), the service items (one is enough) and the data sensitivity given."""
    code, reason = "", ""
    if not actor.has_scope(scope):
        code, reason = "scope", _("This token does not hold the scope %(scope)s.") % {"scope": scope}
    elif department_ids is not None and not any(actor.allows_department(d) for d in department_ids):
        code, reason = "department", _("This system may not act for the departments concerned.")
    elif item_codes is not None and not actor.allows_item(item_codes):
        code, reason = "service_item", _("This system may not act on this service item.")
    elif sensitivity is not None and not actor.allows_sensitivity(sensitivity):
        code, reason = "sensitivity", _("This system may not receive data of this sensitivity.")
    if not code:
        return
    method, _sep, path = actor.path.partition(" ")
    details = {"reason": code, "method": method, "path": path}
    if sensitivity is not None:
        details["sensitivity"] = sensitivity
    with transaction.atomic():
        audit_record(
            actor=actor, action="permission.denied", subject_type="scope", subject_id=scope, details=details
        )
    raise PermissionDenied(reason)


def api_token_issued(*, token) -> None:
    """Put an access token issued to a client on the record (its scopes and expiry; never the token)."""
    client = (
        ApiClient.objects.select_related("department", "user")
        .filter(application_id=token.application_id)
        .first()
    )
    if client is None:
        return
    actor = client_actor(client, scopes=token.scope.split(), path="POST /oauth/token/")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="api_client.token",
            subject_type="api_client",
            subject_id=str(client.pk),
            details={"scopes": sorted(actor.scopes), "expires": token.expires.isoformat()},
        )


def api_call_record(*, actor: ClientActor, method: str, path: str, status: int) -> None:
    """Put one API call of a client on the audit record (who, what, the answer)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="api_client.call",
            subject_type="api_client",
            subject_id=actor.id,
            details={"method": method, "path": path[:200], "status": status, "scopes": sorted(actor.scopes)},
        )


# --- webhook subscribers --------------------------------------------------------------------------------------


@transaction.atomic
def webhook_subscriber_create(
    *, actor: Actor, name: str, url: str, client: ApiClient | None = None, event_types=()
) -> WebhookSubscriber:
    require_permission(actor, "platform.admin")
    types = list(event_types) if isinstance(event_types, list | tuple) else event_types
    subscriber = WebhookSubscriber(name=(name or "").strip(), url=url, client=client, event_types=types)
    subscriber.full_clean()
    subscriber.save()
    audit_record(
        actor=actor,
        action="webhook.subscribed",
        subject_type="webhook_subscriber",
        subject_id=str(subscriber.pk),
        details={"name": subscriber.name, "url": url, "client": client.name if client else ""},
    )
    return subscriber


@transaction.atomic
def webhook_subscriber_update(
    *, actor: Actor, subscriber: WebhookSubscriber, changed: list[str]
) -> WebhookSubscriber:
    """Save and record an administrator's change of a subscriber (its URL, client, types or state)."""
    require_permission(actor, "platform.admin")
    subscriber.full_clean()
    subscriber.save()
    audit_record(
        actor=actor,
        action="webhook.changed",
        subject_type="webhook_subscriber",
        subject_id=str(subscriber.pk),
        details={"name": subscriber.name, "fields": sorted(changed), "active": subscriber.active},
    )
    return subscriber


def _wants(subscriber: WebhookSubscriber, name: str) -> bool:
    if not subscriber.event_types:
        return True
    for pattern in subscriber.event_types:
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return True
        if pattern == name:
            return True
    return False


def _event_scope(name: str) -> str | None:
    for prefix, scope in EVENT_SCOPES.items():
        if name.startswith(prefix):
            return scope
    return None


class _Facts:
    """What a batch of events concerns (departments, service items), read once per batch."""

    def __init__(self, events):
        case_ids, ticket_ids, codes = set(), set(), set()
        for event in events:
            payload = event.payload or {}
            if event.name.startswith(("case.", "task.")):
                case_id = payload.get("case") or (event.subject_id if event.subject_type == "case" else None)
                if case_id:
                    case_ids.add(str(case_id))
            elif event.name.startswith("ticket.") and payload.get("ticket"):
                ticket_ids.add(str(payload["ticket"]))
            elif event.name.startswith("licence.") and payload.get("department"):
                codes.add(payload["department"])
        self.cases = case_selectors.case_scope(case_ids) if case_ids else {}
        self.tickets = hotline_selectors.ticket_departments(ticket_ids) if ticket_ids else {}
        self.departments = (
            dict(Department.objects.filter(code__in=codes).values_list("code", "pk")) if codes else {}
        )

    def of(self, event) -> tuple[set, frozenset | None]:
        """The ids of the departments an event concerns, and its service item codes (None: not about an item)."""
        payload = event.payload or {}
        if event.name.startswith(("case.", "task.")):
            case_id = payload.get("case") or (event.subject_id if event.subject_type == "case" else None)
            departments, codes = self.cases.get(str(case_id), (frozenset(), frozenset()))
            return set(departments), codes
        if event.name.startswith("ticket."):
            department = self.tickets.get(str(payload.get("ticket")))
            return ({department} if department else set()), None
        if event.name.startswith("licence."):
            department = self.departments.get(payload.get("department"))
            return ({department} if department else set()), None
        return set(), None


def _allowed(subscriber: WebhookSubscriber, event, facts: _Facts, actors: dict) -> bool:
    """Whether ``subscriber`` may receive ``event``: its types, and for a client's subscriber its scopes and
    limits (the departments concerned, the service item, the sensitivity), checked at relay time."""
    if event.name.startswith("webhook.") or not _wants(subscriber, event.name):
        return False
    client = subscriber.client
    if client is None:
        return True
    if not client.active:
        return False
    actor = actors.get(client.pk)
    if actor is None:
        actor = actors[client.pk] = client_actor(client, scopes=client.scopes)
    scope = _event_scope(event.name)
    if scope is None or not actor.has_scope(scope) or not actor.allows_sensitivity(EVENT_SENSITIVITY):
        return False
    departments, codes = facts.of(event)
    if not any(actor.allows_department(d) for d in departments):
        return False
    return codes is None or actor.allows_item(codes)


def webhooks_relay(*, now: dt.datetime | None = None, limit: int = RELAY_BATCH) -> int:
    """Offer the outbox's new events to the active subscribers; return how many deliveries were written."""
    now = now or timezone.now()
    subscribers = list(
        WebhookSubscriber.objects.filter(active=True).select_related("client", "client__department")
    )
    written = 0
    with transaction.atomic():
        cursor, _created = RelayCursor.objects.select_for_update().get_or_create(key=RELAY_KEY)
        if not subscribers:
            cursor.position = now
            cursor.save(update_fields=["position"])
            return 0
        start = min(s.created_at for s in subscribers)
        if cursor.position is not None:
            start = max(start, cursor.position - RELAY_OVERLAP)
        facts_actors: dict = {}
        last = None
        while True:
            events = list(outbox_events_since(start, after=last, limit=limit))
            if not events:
                break
            seen = set(
                WebhookDelivery.objects.filter(event__in=[e.pk for e in events]).values_list(
                    "subscriber_id", "event_id"
                )
            )
            facts = _Facts(events)
            rows = [
                WebhookDelivery(subscriber=subscriber, event=event, next_attempt_at=now)
                for event in events
                for subscriber in subscribers
                if event.created_at >= subscriber.created_at
                and (subscriber.pk, event.pk) not in seen
                and _allowed(subscriber, event, facts, facts_actors)
            ]
            WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
            written += len(rows)
            last = events[-1]
            if len(events) < limit:
                break
        if last is not None and (cursor.position is None or last.created_at > cursor.position):
            cursor.position = last.created_at
            cursor.save(update_fields=["position"])
    return written


# --- delivery -------------------------------------------------------------------------------------------------


def cloudevent_for(event) -> CloudEvent:
    """The CloudEvents 1.0 form of an outbox event; its id is the event's, the same on every retry and replay."""
    source = (settings.TONGBAN_PUBLIC_URL or "urn:tongban").rstrip("/") + "/events"
    attributes = {
        "id": str(event.pk),
        "source": source,
        "type": EVENT_TYPE_PREFIX + event.name,
        "time": event.created_at,
        "datacontenttype": "application/json",
    }
    if event.subject_type:
        attributes["subject"] = f"{event.subject_type}/{event.subject_id}"
    return CloudEvent(attributes, dict(event.payload or {}))


def webhook_request(delivery: WebhookDelivery) -> tuple[bytes, dict]:
    """The body and headers of a delivery's POST: a structured-mode CloudEvent, signed with the secret."""
    message = to_structured_event(cloudevent_for(delivery.event))
    body = message.body if isinstance(message.body, bytes) else message.body.encode()
    headers = dict(message.headers)
    headers[signing.HEADER] = signing.sign(delivery.subscriber.secret, body)
    headers["User-Agent"] = "Tongban-Webhooks/1"
    headers["Tongban-Delivery"] = str(delivery.pk)
    return body, headers


def retry_delay(attempts: int) -> dt.timedelta:
    delay = dt.timedelta(seconds=settings.TONGBAN_WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1))
    return min(delay, MAX_RETRY_DELAY)


def _claim(*, limit: int, now: dt.datetime, subscriber=None) -> list[WebhookDelivery]:
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, subscriber__active=True
        )
        if subscriber is not None:
            due = due.filter(subscriber=subscriber)
        ids = list(
            due.order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE, updated_at=now
        )
    return list(
        WebhookDelivery.objects.filter(pk__in=ids)
        .select_related("event", "subscriber")
        .order_by("event__created_at", "created_at")
    )


def webhooks_deliver(*, limit: int = 100, subscriber=None) -> int:
    """Send the due deliveries (of one subscriber if given); return how many were attempted."""
    attempted = 0
    with requests.Session() as session:  # one connection per receiver, kept alive across its deliveries
        while True:
            batch = _claim(limit=limit, now=timezone.now(), subscriber=subscriber)
            for delivery in batch:
                _send(delivery, session)
            attempted += len(batch)
            if len(batch) < limit:
                return attempted


def _send(delivery: WebhookDelivery, session: requests.Session) -> None:
    body, headers = webhook_request(delivery)
    status_code, error = None, ""
    try:
        response = session.post(
            delivery.subscriber.url,
            data=body,
            headers=headers,
            timeout=settings.TONGBAN_WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {response.text[:500]}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    if error:
        _failed(delivery, status_code, error)
    else:
        _delivered(delivery, status_code)


def _delivered(delivery: WebhookDelivery, status_code: int) -> None:
    now = timezone.now()
    subscriber = delivery.subscriber
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED,
            delivered_at=now,
            last_status_code=status_code,
            last_error="",
            updated_at=now,
        )
        recovered = WebhookSubscriber.objects.filter(pk=subscriber.pk, failing_since__isnull=False).update(
            failing_since=None
        )
        WebhookSubscriber.objects.filter(pk=subscriber.pk).update(consecutive_failures=0, last_success_at=now)
        if recovered:
            audit_record(
                actor=SYSTEM,
                action="webhook.recovered",
                subject_type="webhook_subscriber",
                subject_id=str(subscriber.pk),
                details={"name": subscriber.name},
            )


def _failed(delivery: WebhookDelivery, status_code, error: str) -> None:
    now = timezone.now()
    subscriber = delivery.subscriber
    dead = delivery.attempts >= settings.TONGBAN_WEBHOOK_MAX_ATTEMPTS
    changes = (
        {"status": WebhookDelivery.Status.DEAD}
        if dead
        else {"next_attempt_at": now + retry_delay(delivery.attempts)}
    )
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            last_status_code=status_code, last_error=error, updated_at=now, **changes
        )
        WebhookSubscriber.objects.filter(pk=subscriber.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        failures = WebhookSubscriber.objects.filter(pk=subscriber.pk).values_list(
            "consecutive_failures", flat=True
        )[0]
        if failures >= settings.TONGBAN_WEBHOOK_ALERT_AFTER:
            _alert(subscriber, failures, error, now)
    logger.warning(
        "webhook %s to %s failed (attempt %d%s): %s",
        delivery.event.name,
        subscriber.name,
        delivery.attempts,
        ", dead" if dead else "",
        error[:200],
    )


def _alert(subscriber: WebhookSubscriber, failures: int, error: str, now: dt.datetime) -> None:
    """Flag a subscriber failing ``TONGBAN_WEBHOOK_ALERT_AFTER`` times in a row, once until it recovers: the flag
    shows in the admin's list of subscribers, and the audit entry and the ``webhook.failing`` event tell whoever
    watches (the event is not itself sent to webhooks)."""
    flagged = WebhookSubscriber.objects.filter(pk=subscriber.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    if not flagged:
        return
    details = {"name": subscriber.name, "url": subscriber.url, "failures": failures, "error": error[:200]}
    audit_record(
        actor=SYSTEM,
        action="webhook.failing",
        subject_type="webhook_subscriber",
        subject_id=str(subscriber.pk),
        details=details,
    )
    event_emit("webhook.failing", details, subject_type="webhook_subscriber", subject_id=subscriber.pk)
    logger.error("webhook subscriber %s has failed %d times in a row", subscriber.name, failures)


@transaction.atomic
def webhook_replay(*, actor: Actor, delivery_ids, checked: bool = False) -> int:
    """Send deliveries again (dead ones, or delivered ones a receiver lost) with fresh attempts; return how many.

    ``checked``: the operator's command line (``tongban webhooks replay``), whose user is the machine's operator;
    pages and the admin pass the signed-in administrator, whose permission is checked here.
    """
    if not checked:
        require_permission(actor, "platform.admin")
    deliveries = list(
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("event", "subscriber")
        .filter(pk__in=list(delivery_ids))
        .exclude(status=WebhookDelivery.Status.PENDING)
    )
    for delivery in deliveries:
        audit_record(
            actor=actor,
            action="webhook.replay",
            subject_type="webhook_delivery",
            subject_id=str(delivery.pk),
            details={
                "event": delivery.event.name,
                "event_id": str(delivery.event_id),
                "subscriber": delivery.subscriber.name,
                "status": delivery.status,
                "attempts": delivery.attempts,
            },
        )
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        status=WebhookDelivery.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return len(deliveries)


# --- federated sign-in ---------------------------------------------------------------------------------------

# Who creates an account on a first federated sign-in: the platform, on the identity provider's word.
OIDC_ACTOR = Actor(kind="system", id="oidc", label="federated sign-in")


class SignInRefused(Exception):
    """A federated sign-in the platform refuses; ``code`` says why (the refusal page words it)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


def _refuse(code: str, *, resident_id: str = "", subject: str = "") -> SignInRefused:
    with transaction.atomic():
        audit_record(
            actor=Actor(kind="anonymous", id="", label="federated sign-in"),
            action="oidc.refused",
            subject_type="",
            subject_id="",
            details={"reason": code, "resident_id": mask_resident_id(resident_id), "sub": subject[:64]},
        )
    return SignInRefused(code)


def resident_sign_in(*, resident_id, verified: bool, subject: str = ""):
    """The account of the person whose resident ID the identity provider vouches for.

    Refused (``SignInRefused``, audited) when the provider sent no resident ID, did not say it verified it, the
    number is not a valid GB 11643 resident ID, or no person has it in the population register. On the person's
    first sign-in their account is created and linked to them (audited); a person's existing account is used.
    """
    resident_id = str(resident_id or "").strip()
    if not resident_id:
        raise _refuse("no_resident_id", subject=subject)
    if verified is not True:
        raise _refuse("not_verified", resident_id=resident_id, subject=subject)
    try:
        number = validate_resident_id(resident_id)
    except ValidationError:
        raise _refuse("invalid", subject=subject) from None
    person = person_get_by_resident_id(number)
    if person is None:
        raise _refuse("not_registered", resident_id=number, subject=subject)
    if person.user_id is not None:
        if not person.user.is_active:
            raise _refuse("inactive", resident_id=number, subject=subject)
        return person.user
    with transaction.atomic():
        user = user_create(
            actor=OIDC_ACTOR, username=f"r{secrets.token_hex(6)}", password=None, first_name=person.name[:150]
        )
        person_update(actor=OIDC_ACTOR, person=person, user=user)
        audit_record(
            actor=OIDC_ACTOR,
            action="oidc.account_created",
            subject_type="person",
            subject_id=str(person.pk),
            details={"user": str(user.pk), "sub": subject[:64]},
        )
    return user


def oidc_signed_in(*, actor: Actor, subject: str = "") -> None:
    """Put a federated sign-in on the record (the session is made by the login view)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="oidc.signed_in",
            subject_type="user",
            subject_id=actor.id,
            details={"sub": subject[:64]},
        )
