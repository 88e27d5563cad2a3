"""Writes of messaging: templates, sending a message, reading it, preferences, and delivering over gateways.

``message_send`` is the one way any app tells a person or an organisation something. It writes the inbox row,
one Delivery per outside channel asked for (queued, or skipped with the reason), its audit entry and the
``message.sent`` event in the caller's transaction; on commit a Huey task sends the queued deliveries at once.
``deliveries_run`` (the same task, and a periodic one every minute) sends whatever is due and retries failures
with backoff (1, 5, 15, 60 minutes) until the fifth failed attempt marks the delivery failed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.audit import SYSTEM, Actor, audit_record
from tongban.core.db import fast
from tongban.core.events import event_emit
from tongban.identity.models import Organisation, Person, User
from tongban.identity.selectors import UserActor, organisations_for, person_for

from . import selectors
from .gateways import GatewayError, gateway_for
from .models import (
    CHANNELS,
    MANDATORY_INBOX_TOPICS,
    TOPICS,
    Delivery,
    Message,
    MessageTemplate,
    NotificationPreference,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BACKOFF_MINUTES",
    "MAX_ATTEMPTS",
    "deliveries_run",
    "delivery_retry",
    "message_read",
    "message_send",
    "message_template_ensure",
    "preference_set",
    "preferences_set_many",
    "quiet_hours_end",
    "template_render",
]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
BACKOFF_MINUTES = (1, 5, 15, 60)  # after failed attempt 1, 2, 3, 4; the 5th failure is final
MAX_ATTEMPTS = 5
CLAIM_LEASE = dt.timedelta(minutes=5)  # a claimed delivery is not taken by another worker meanwhile
BATCH_SIZE = 100
REASON_OPTED_OUT = "opted out"
REASON_NO_ADDRESS = "no address"
REASON_DAILY_CAP = "daily cap"
WORKER_LOST = "the worker stopped during the last attempt"


# --- templates -----------------------------------------------------------------------------------


@transaction.atomic
def message_template_ensure(
    *,
    actor: Actor = SYSTEM,
    code: str,
    topic: str,
    subject_zh: str,
    body_zh: str,
    subject_en: str,
    body_en: str,
) -> MessageTemplate:
    """Create the template ``code`` or bring it up to date (validated; audited when something changed)."""
    values = {
        "topic": topic,
        "subject_zh": subject_zh,
        "body_zh": body_zh,
        "subject_en": subject_en,
        "body_en": body_en,
    }
    template = MessageTemplate.objects.select_for_update().filter(code=code).first()
    created = template is None
    if created:
        template = MessageTemplate(code=code, **values)
        changed = sorted(values)
    else:
        changed = sorted(k for k, v in values.items() if getattr(template, k) != v)
        if not changed:
            return template
        for key in changed:
            setattr(template, key, values[key])
    template.full_clean()
    template.save()
    audit_record(
        actor=actor,
        action="message_template.created" if created else "message_template.updated",
        subject_type="message_template",
        subject_id=code,
        details={"changed": changed},
    )
    return template


def template_render(template: MessageTemplate, context: dict) -> dict[str, str]:
    """The template's four texts filled from ``context``; ValidationError naming a missing placeholder."""
    rendered = {}
    for field in ("subject_zh", "body_zh", "subject_en", "body_en"):
        try:
            rendered[field] = getattr(template, field).format_map(context)
        except KeyError as exc:
            raise ValidationError(
                {
                    "context": _("Template %(code)s needs the placeholder {%(name)s}.")
                    % {"code": template.code, "name": exc.args[0]}
                },
                code="missing_placeholder",
            ) from exc
        except (ValueError, IndexError, AttributeError) as exc:
            raise ValidationError(
                {
                    "context": _("Template %(code)s cannot be filled: %(error)s")
                    % {"code": template.code, "error": exc}
                }
            ) from exc
    return rendered


# --- quiet hours and the daily cap ---------------------------------------------------------------


def _parse_quiet_hours(spec: str) -> tuple[dt.time, dt.time] | None:
    spec = (spec or "").strip()
    if not spec:
        return None
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in spec.split("-", 1))
    except ValueError as exc:
        raise ValueError(f"TONGBAN_SMS_QUIET_HOURS must look like 22:00-08:00, not {spec!r}") from exc
    return (start, end) if start != end else None


def quiet_hours_end(moment: dt.datetime) -> dt.datetime | None:
    """When ``moment`` falls inside the SMS quiet hours (Asia/Shanghai), the end of them; else None."""
    hours = _parse_quiet_hours(settings.TONGBAN_SMS_QUIET_HOURS)
    if hours is None:
        return None
    start, end = hours
    local = moment.astimezone(LOCAL_TZ)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # over midnight, e.g. 22:00-08:00
        inside = clock >= start or clock < end
        end_day = local.date() + dt.timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=LOCAL_TZ)


def _local_midnight(moment: dt.datetime) -> dt.datetime:
    local = moment.astimezone(LOCAL_TZ)
    return dt.datetime.combine(local.date(), dt.time(0), tzinfo=LOCAL_TZ)


def _sms_today(recipient, now: dt.datetime, *, limit: int) -> int:
    """SMS deliveries already queued or sent to the recipient since local midnight, counted up to ``limit`` (the
    caller asks whether the daily cap is reached; hand-written: every message with an SMS asks it).

    A delivery is written with its message (``message_send``), so the messages are read from an hour before
    midnight: the recipient's index (``messaging_msg_person_idx``: recipient, created) bounds the read to the
    recipient's last day. Without that bound the databases read every queued or sent delivery of the city by
    status (SQLite's plan) to count one person's: a read that grew with the whole history, at every message. The
    day is read from its start and the read stops at ``limit`` SMS: once a recipient has reached the cap, the
    messages after it (their SMS skipped) are not read again at each new one, so the read does not grow with the
    recipient's day (a window clerk's applicant, a simulated applicant with hundreds of cases a day)."""
    owner = "person_id" if isinstance(recipient, Person) else "organisation_id"
    midnight = _local_midnight(now)
    # The recipient's messages, each asked for an SMS delivery by a subquery: a scalar subquery is not turned into a
    # join, so the read starts from the recipient's index whatever the statistics say. As a join, on PostgreSQL tables
    # grown since their last ANALYZE (a server without autovacuum, a day's burst) drove the plan from the deliveries
    # by status and date: every SMS of the city since midnight read for one person's count, 50-97 ms at 26,000 of
    # them (a simulated Shanghai day; this way 8.8 ms on the same stale statistics; after ANALYZE 0.57 ms, the join
    # 0.31 ms).
    (count,) = fast.fetchone(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {Message._meta.db_table} m "  # noqa: S608
        f"WHERE m.{owner} = %s AND m.created_at >= %s "
        f"AND (SELECT 1 FROM {Delivery._meta.db_table} d WHERE d.message_id = m.id "
        "AND d.channel = %s AND d.status IN (%s, %s) AND d.created_at >= %s LIMIT 1) = 1 "
        "ORDER BY m.created_at LIMIT %s) AS s",
        [
            fast.prep(Message, owner, recipient.pk),
            fast.prep(Message, "created_at", midnight - dt.timedelta(hours=1)),
            Delivery.Channel.SMS,
            Delivery.Status.QUEUED,
            Delivery.Status.SENT,
            fast.prep(Delivery, "created_at", midnight),
            limit,
        ],
    )
    return count


# --- sending -------------------------------------------------------------------------------------


def _address(recipient, channel: str) -> str:
    """The phone number or e-mail address a channel goes to ("" when there is none)."""
    if isinstance(recipient, Person):
        if channel == "sms":
            return recipient.phone or ""
        if not recipient.user_id:
            return ""
        # The account's e-mail address alone (one column by its key): loading the user cost 1.5 % of a simulated
        # day's samples, every case message with e-mail sending it under the outbox's transaction.
        row = fast.fetchone(
            f"SELECT email FROM {User._meta.db_table} WHERE id = %s",  # noqa: S608
            [fast.prep(User, "id", recipient.user_id)],
        )
        return (row[0] or "") if row is not None else ""
    agents = recipient.agents.filter(is_active=True).order_by("pk")
    if channel == "email":
        return agents.exclude(email="").values_list("email", flat=True).first() or ""
    phone = (
        Person.objects.filter(user__in=agents)
        .exclude(phone="")
        .order_by("user_id")
        .values_list("phone", flat=True)
    ).first()
    if not phone and recipient.legal_representative_id:
        phone = recipient.legal_representative.phone
    return phone or ""


def _existing(recipient, dedupe_key: str) -> Message | None:
    """The recipient's message with ``dedupe_key`` (not empty), by the partial unique index on (recipient,
    dedupe_key). The ``NOT (t.dedupe_key = '')`` term repeats the index's condition with its literal: SQLite uses
    a partial index only when the query implies its condition, and cannot tell that a bound parameter is not
    ''. Without it, SQLite read every message of the recipient by their (recipient, created) index: a read that
    grew with the recipient's history, at every message sent with a dedupe key."""
    owner = "person_id" if isinstance(recipient, Person) else "organisation_id"
    return fast.first(
        Message,
        f"t.{owner} = %s AND t.dedupe_key = %s AND NOT (t.dedupe_key = '')",
        [fast.prep(Message, owner, recipient.pk), dedupe_key],
        order="t.created_at DESC",
    )


def _template(code: str) -> MessageTemplate | None:
    return fast.first(MessageTemplate, "t.code = %s AND t.active = %s", [code, True])


def _json_safe(context: dict) -> dict:
    return json.loads(json.dumps(context, cls=DjangoJSONEncoder, ensure_ascii=False))


def _enqueue(message_id) -> None:
    from .tasks import deliver_message

    try:
        deliver_message(str(message_id))
    except Exception:
        # The periodic task sends it anyway; a queue outage must not fail the committed request.
        logger.warning("could not queue message %s; the next sweep sends it", message_id, exc_info=True)


@transaction.atomic
def message_send(
    *,
    actor: Actor,
    person: Person | None = None,
    organisation: Organisation | None = None,
    topic: str,
    template: str,
    context: dict,
    channels: tuple[str, ...] = ("inbox",),
    dedupe_key: str = "",
    link: str = "",
) -> Message:
    """Send the template ``template`` to a person or an organisation; return its inbox Message.

    The inbox row is always written; it is hidden from the inbox when the recipient switched the topic's
    inbox off (never for "case"). "sms" and "email" in ``channels`` each get a Delivery: queued, or skipped
    with the reason (opted out, no address, daily cap). With a ``dedupe_key``, a second call for the same
    recipient and key returns the first message and sends nothing. ``link`` (default ``context["link"]``)
    is shown with the message.
    """
    if (person is None) == (organisation is None):
        raise ValidationError(_("A message goes to exactly one person or one organisation."))
    if topic not in TOPICS:
        raise ValidationError({"topic": _("Unknown topic %(topic)s.") % {"topic": topic}})
    unknown = [channel for channel in channels if channel not in CHANNELS]
    if unknown:
        raise ValidationError({"channels": _("Unknown channel %(channel)s.") % {"channel": unknown[0]}})
    recipient = person if person is not None else organisation
    if dedupe_key:
        found = _existing(recipient, dedupe_key)
        if found is not None:
            return found
    message_template = _template(template)
    if message_template is None:
        raise ValidationError({"template": _("Unknown message template %(code)s.") % {"code": template}})
    texts = template_render(message_template, context)
    link = str(link or context.get("link", ""))
    if link and not link.startswith(("/", "https://", "http://")):
        raise ValidationError({"link": _("A link starts with / or http(s)://.")})
    now = timezone.now()
    message = Message(
        person=person,
        organisation=organisation,
        topic=topic,
        template_code=template,
        subject=texts["subject_zh"][:300],
        body=texts["body_zh"],
        subject_en=texts["subject_en"][:300],
        body_en=texts["body_en"],
        context=_json_safe(context),
        link=link[:500],
        in_inbox=topic in MANDATORY_INBOX_TOPICS or selectors.topic_allowed(recipient, topic, "inbox"),
        dedupe_key=dedupe_key,
    )
    # The recipient is an instance in hand and the id a fresh UUID: the fields are validated, without the queries
    # that would look the recipient and the id up again (the database's keys and constraints hold them).
    message.full_clean(
        exclude=["id", "person", "organisation"], validate_unique=False, validate_constraints=False
    )
    try:
        with transaction.atomic():
            fast.save(message)
    except IntegrityError:
        found = _existing(recipient, dedupe_key) if dedupe_key else None
        if found is None:
            raise
        return found  # another process sent it a moment ago
    deliveries = []
    for channel in dict.fromkeys(c for c in channels if c != "inbox"):
        address = _address(recipient, channel)
        delivery = Delivery(message=message, channel=channel, address=address, next_attempt_at=now)
        if not selectors.topic_allowed(recipient, topic, channel):
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, REASON_OPTED_OUT
        elif not address:
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, REASON_NO_ADDRESS
        elif (
            channel == "sms"
            and _sms_today(recipient, now, limit=settings.TONGBAN_SMS_DAILY_CAP)
            >= settings.TONGBAN_SMS_DAILY_CAP
        ):
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, REASON_DAILY_CAP
        elif channel == "sms":
            delivery.next_attempt_at = quiet_hours_end(now) or now
        if delivery.status == Delivery.Status.SKIPPED:
            delivery.next_attempt_at = None
        fast.save(delivery)
        deliveries.append(delivery)
    outcome = {d.channel: d.status if not d.reason else f"{d.status}: {d.reason}" for d in deliveries}
    audit_record(
        actor=actor,
        action="message.sent",
        subject_type="message",
        subject_id=str(message.pk),
        details={
            "recipient_type": "person" if person is not None else "organisation",
            "recipient_id": str(recipient.pk),
            "topic": topic,
            "template": template,
            "in_inbox": message.in_inbox,
            "deliveries": outcome,
        },
    )
    event_emit(
        "message.sent",
        {
            "message": str(message.pk),
            "topic": topic,
            "template": template,
            "person": str(person.pk) if person is not None else "",
            "organisation": str(organisation.pk) if organisation is not None else "",
            "in_inbox": message.in_inbox,
            "deliveries": outcome,
        },
        subject_type="message",
        subject_id=str(message.pk),
    )
    if any(d.status == Delivery.Status.QUEUED and d.next_attempt_at <= now for d in deliveries):
        transaction.on_commit(partial(_enqueue, message.pk))
    return message


@transaction.atomic
def message_read(*, actor: UserActor, message: Message) -> Message:
    """Mark one of the actor's messages read (once; audited). PermissionDenied for anyone else's."""
    if selectors.message_get_for_user(actor.user, message.pk) is None:
        raise PermissionDenied(_("This message is not yours."))
    now = timezone.now()
    if Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now, updated_at=now):
        message.read_at = now
        audit_record(actor=actor, action="message.read", subject_type="message", subject_id=str(message.pk))
    else:
        message.refresh_from_db(fields=["read_at"])
    return message


# --- preferences ---------------------------------------------------------------------------------


def _owner_for(user, organisation):
    if organisation is not None:
        if not organisations_for(user).filter(pk=organisation.pk).exists():
            raise PermissionDenied(_("You do not act for this organisation."))
        return organisation
    person = person_for(user)
    if person is None:
        raise ValidationError(_("Only a person's account has notification settings."))
    return person


def _preference_set(actor: Actor, owner, topic: str, channel: str, enabled: bool) -> NotificationPreference:
    if topic not in TOPICS:
        raise ValidationError({"topic": _("Unknown topic %(topic)s.") % {"topic": topic}})
    if channel not in CHANNELS:
        raise ValidationError({"channel": _("Unknown channel %(channel)s.") % {"channel": channel}})
    if channel == "inbox" and topic in MANDATORY_INBOX_TOPICS and not enabled:
        raise ValidationError(
            {"enabled": _("Messages about your cases always stay in your inbox.")}, code="mandatory"
        )
    owner_kw = {"person": owner} if isinstance(owner, Person) else {"organisation": owner}
    preference = (
        NotificationPreference.objects.select_for_update()
        .filter(**owner_kw, topic=topic, channel=channel)
        .first()
    )
    if preference is None:
        preference = NotificationPreference(**owner_kw, topic=topic, channel=channel, enabled=enabled)
    elif preference.enabled == enabled:
        return preference
    preference.enabled = enabled
    preference.full_clean(validate_constraints=False)
    preference.save()
    audit_record(
        actor=actor,
        action="notification_preference.set",
        subject_type="person" if isinstance(owner, Person) else "organisation",
        subject_id=str(owner.pk),
        details={"topic": topic, "channel": channel, "enabled": enabled},
    )
    return preference


@transaction.atomic
def preference_set(
    *, actor: UserActor, topic: str, channel: str, enabled: bool, organisation: Organisation | None = None
) -> NotificationPreference:
    """Switch one (topic, channel) on or off for the actor's person, or for an organisation they act for."""
    return _preference_set(actor, _owner_for(actor.user, organisation), topic, channel, enabled)


@transaction.atomic
def preferences_set_many(
    *, actor: UserActor, values: dict[tuple[str, str], bool], organisation: Organisation | None = None
) -> int:
    """Set several (topic, channel) → enabled at once (all or nothing); return how many changed."""
    owner = _owner_for(actor.user, organisation)
    current = selectors.preferences_for(owner)
    changed = 0
    for (topic, channel), enabled in values.items():
        if current.get((topic, channel)) == bool(enabled):
            continue
        _preference_set(actor, owner, topic, channel, bool(enabled))
        changed += 1
    return changed


# --- delivering ----------------------------------------------------------------------------------


def _claim(*, now: dt.datetime, message_id, limit: int) -> list[Delivery]:
    """Take due queued deliveries: postpone SMS inside quiet hours, count the attempt, lease the rest.

    Hand-written statements (``core.db.fast``): the worker claims after every message with an SMS or e-mail."""
    table = Delivery._meta.db_table
    stamp = fast.prep(Delivery, "updated_at", now)
    where = "status = %s AND next_attempt_at <= %s"
    params = [Delivery.Status.QUEUED, fast.prep(Delivery, "next_attempt_at", now)]
    if message_id is not None:
        where += " AND message_id = %s"
        params.append(fast.prep(Delivery, "message_id", message_id))
    with transaction.atomic():
        quiet_end = quiet_hours_end(now)
        if quiet_end is not None:
            fast.execute(
                f"UPDATE {table} SET next_attempt_at = %s, updated_at = %s WHERE {where} AND channel = %s",  # noqa: S608
                [fast.prep(Delivery, "next_attempt_at", quiet_end), stamp, *params, Delivery.Channel.SMS],
            )
        skip = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        ids = [
            row[0]
            for row in fast.fetchall(
                f"SELECT id FROM {table} WHERE {where} ORDER BY next_attempt_at LIMIT %s{skip}",  # noqa: S608
                [*params, limit],
            )
        ]
        if not ids:
            return []
        marks = ", ".join(["%s"] * len(ids))
        fast.execute(
            f"UPDATE {table} SET status = %s, last_error = %s, next_attempt_at = NULL, updated_at = %s "  # noqa: S608
            f"WHERE id IN ({marks}) AND attempts >= %s",
            [Delivery.Status.FAILED, WORKER_LOST, stamp, *ids, MAX_ATTEMPTS],
        )
        fast.execute(
            f"UPDATE {table} SET attempts = attempts + 1, next_attempt_at = %s, updated_at = %s "  # noqa: S608
            f"WHERE id IN ({marks}) AND status = %s",
            [fast.prep(Delivery, "next_attempt_at", now + CLAIM_LEASE), stamp, *ids, Delivery.Status.QUEUED],
        )
    parts = (
        fast.columns(Delivery, "d"),
        fast.columns(Message, "m"),
        fast.columns(Person, "p"),
        fast.columns(Organisation, "o"),
    )
    rows = fast.fetchall(
        f"SELECT {', '.join(cols.sql for cols in parts)} FROM {table} d "  # noqa: S608
        f"INNER JOIN {Message._meta.db_table} m ON m.id = d.message_id "
        f"LEFT OUTER JOIN {Person._meta.db_table} p ON p.id = m.person_id "
        f"LEFT OUTER JOIN {Organisation._meta.db_table} o ON o.id = m.organisation_id "
        f"WHERE d.id IN ({marks}) AND d.status = %s ORDER BY d.created_at DESC",
        [*ids, Delivery.Status.QUEUED],
    )
    claimed = []
    for row in rows:
        delivery = fast.build(parts[0], row)
        start = parts[0].count
        message = fast.build(parts[1], row, start)
        start += parts[1].count
        message.person = fast.build(parts[2], row, start)
        start += parts[2].count
        message.organisation = fast.build(parts[3], row, start)
        delivery.message = message
        claimed.append(delivery)
    return claimed


def _send(delivery: Delivery, now: dt.datetime) -> bool:
    try:
        provider_id = gateway_for(delivery.channel).send(delivery)
    except GatewayError as exc:
        _fail(delivery, str(exc) or type(exc).__name__, now)
        return False
    except Exception as exc:  # a bug in a gateway must not stop the others; it counts as a failure
        logger.exception("gateway for %s raised", delivery.channel)
        _fail(delivery, f"{type(exc).__name__}: {exc}", now)
        return False
    # Hand-written (``core.db.fast``): one per SMS and e-mail sent.
    fast.execute(
        f"UPDATE {Delivery._meta.db_table} SET status = %s, sent_at = %s, provider_id = %s, "  # noqa: S608
        "last_error = %s, next_attempt_at = NULL, updated_at = %s WHERE id = %s",
        [
            Delivery.Status.SENT,
            fast.prep(Delivery, "sent_at", now),
            str(provider_id or "")[:128],
            "",
            fast.prep(Delivery, "updated_at", now),
            fast.prep(Delivery, "id", delivery.pk),
        ],
    )
    return True


def _fail(delivery: Delivery, error: str, now: dt.datetime) -> None:
    if delivery.attempts >= MAX_ATTEMPTS:
        with transaction.atomic():
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.FAILED, last_error=error[:2000], next_attempt_at=None, updated_at=now
            )
            audit_record(
                actor=SYSTEM,
                action="message.delivery_failed",
                subject_type="delivery",
                subject_id=str(delivery.pk),
                details={
                    "message": str(delivery.message_id),
                    "channel": delivery.channel,
                    "attempts": delivery.attempts,
                    "error": error[:300],
                },
            )
        logger.error(
            "%s delivery %s failed after %d attempts: %s",
            delivery.channel,
            delivery.pk,
            delivery.attempts,
            error,
        )
        return
    delay = dt.timedelta(minutes=BACKOFF_MINUTES[min(delivery.attempts, len(BACKOFF_MINUTES)) - 1])
    Delivery.objects.filter(pk=delivery.pk).update(
        last_error=error[:2000], next_attempt_at=now + delay, updated_at=now
    )
    logger.warning(
        "%s delivery %s failed (attempt %d), retrying", delivery.channel, delivery.pk, delivery.attempts
    )


def deliveries_run(
    *, now: dt.datetime | None = None, limit: int = BATCH_SIZE, message_id=None
) -> dict[str, int]:
    """Send every queued delivery due at ``now`` (of one message, or all); return counts of sent and failed.

    Safe with several workers at once: each delivery is claimed by one of them for a lease. The gateway is
    called outside any transaction, so a slow provider holds no database lock.
    """
    counts = {"sent": 0, "failed": 0}
    while True:
        moment = now or timezone.now()
        batch = _claim(now=moment, message_id=message_id, limit=limit)
        for delivery in batch:
            counts["sent" if _send(delivery, moment) else "failed"] += 1
        if len(batch) < limit:
            return counts


@transaction.atomic
def delivery_retry(*, actor: Actor, delivery_ids) -> int:
    """Queue failed deliveries again with fresh attempts (an operator's decision, audited); return how many."""
    failed = list(
        Delivery.objects.select_for_update().filter(pk__in=list(delivery_ids), status=Delivery.Status.FAILED)
    )
    now = timezone.now()
    for delivery in failed:
        audit_record(
            actor=actor,
            action="message.delivery_retried",
            subject_type="delivery",
            subject_id=str(delivery.pk),
            details={
                "message": str(delivery.message_id),
                "channel": delivery.channel,
                "attempts": delivery.attempts,
            },
        )
    Delivery.objects.filter(pk__in=[d.pk for d in failed]).update(
        status=Delivery.Status.QUEUED, attempts=0, next_attempt_at=now, updated_at=now
    )
    for message_id in {d.message_id for d in failed}:
        transaction.on_commit(partial(_enqueue, message_id))
    return len(failed)
