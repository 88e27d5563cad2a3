"""Gateways (通道): how a Delivery leaves the platform.

A gateway has one method, ``send(delivery) -> provider_id``; it raises ``GatewayError`` when the message did
not go out, and the delivery is retried with backoff (``services.deliveries_run``). Which gateway a channel
uses is a setting: ``TONGBAN_SMS_GATEWAY`` (file | console | http) and ``TONGBAN_EMAIL_GATEWAY``
(file | console | smtp); either may also be the dotted path of a class of your own.

The HTTP SMS request format is documented in ``docs/messaging.md``.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import mask_address

logger = logging.getLogger(__name__)

__all__ = [
    "ConsoleGateway",
    "FileGateway",
    "Gateway",
    "GatewayError",
    "HttpSmsGateway",
    "SmtpGateway",
    "gateway_for",
    "sms_text",
]


class GatewayError(Exception):
    """The gateway did not accept the message; the delivery will be retried."""


def absolute_link(link: str) -> str:
    """A message's link as a person outside the site can open it: a page path (``/cases/TB…/``) on the platform's
    public address (``TONGBAN_PUBLIC_URL``); empty when no public address is configured (a bare path in an SMS or
    an e-mail opens nothing)."""
    if not link:
        return ""
    if link.startswith(("https://", "http://")):
        return link
    base = (settings.TONGBAN_PUBLIC_URL or "").rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else ""


def sms_text(delivery) -> str:
    """The text of an SMS: the Chinese body and, with a public address configured, the page's link (the sign is
    added by the provider from the ``sign`` field)."""
    message = delivery.message
    link = absolute_link(message.link)
    return f"{message.body} {link}" if link else message.body


def email_parts(delivery) -> tuple[str, str]:
    """Subject and text of an e-mail: Chinese first, then English, then the page's link."""
    message = delivery.message
    body = message.body
    if message.body_en:
        body = f"{message.body}\n\n-- English --\n{message.subject_en}\n\n{message.body_en}"
    link = absolute_link(message.link)
    if link:
        body += f"\n\n{link}"
    return message.subject, body


class Gateway:
    """Send one delivery; return the provider's identifier for it, or raise GatewayError."""

    def send(self, delivery) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def _record(delivery) -> dict:
    message = delivery.message
    record = {
        "channel": delivery.channel,
        "to": delivery.address,
        "template": message.template_code,
        "topic": message.topic,
        "message": str(message.pk),
        "delivery": str(delivery.pk),
    }
    if delivery.channel == "sms":
        record["text"] = sms_text(delivery)
        record["sign"] = settings.TONGBAN_SMS_SIGN
    else:
        record["subject"], record["text"] = email_parts(delivery)
    return record


class ConsoleGateway(Gateway):
    """Writes the message to the log (development)."""

    def send(self, delivery) -> str:
        provider_id = f"console-{uuid.uuid4().hex[:16]}"
        record = _record(delivery)
        logger.info(
            "%s to %s [%s]: %s",
            delivery.channel,
            mask_address(delivery.channel, delivery.address),
            provider_id,
            record.get("text", ""),
        )
        return provider_id


class FileGateway(Gateway):
    """Appends one JSON line a message to ``TONGBAN_MESSAGE_OUTBOX`` (the demo's default)."""

    _lock = threading.Lock()

    def send(self, delivery) -> str:
        provider_id = f"file-{uuid.uuid4().hex[:16]}"
        record = {"id": provider_id, "at": timezone.now().isoformat(), **_record(delivery)}
        path = settings.TONGBAN_MESSAGE_OUTBOX
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, open(path, "a", encoding="utf-8") as outbox:
                outbox.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise GatewayError(f"cannot write {path}: {exc}") from exc
        return provider_id


class SmtpGateway(Gateway):
    """E-mail through Django's mail backend (SMTP: ``TONGBAN_SMTP_*``), from ``TONGBAN_EMAIL_FROM``."""

    def send(self, delivery) -> str:
        subject, body = email_parts(delivery)
        message_id = make_msgid(domain="tongban")
        email = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.TONGBAN_EMAIL_FROM,
            to=[delivery.address],
            headers={"Message-ID": message_id},
        )
        try:
            sent = email.send(fail_silently=False)
        except Exception as exc:  # smtplib and socket errors of every kind
            raise GatewayError(f"{type(exc).__name__}: {exc}") from exc
        if not sent:
            raise GatewayError("the mail backend sent nothing")
        return message_id.strip("<>")


class HttpSmsGateway(Gateway):
    """POSTs ``{"to", "text", "sign", "template"}`` as JSON to ``TONGBAN_SMS_URL``.

    The key goes in the ``X-Api-Key`` header. A 2xx answer is success; its JSON ``id`` (if any) is kept as the
    provider id. Anything else — another status, a timeout, a refused connection — raises GatewayError.
    """

    def send(self, delivery) -> str:
        url = settings.TONGBAN_SMS_URL
        if not url.startswith(("http://", "https://")):
            raise GatewayError("TONGBAN_SMS_URL is not set to an http(s) URL")
        payload = {
            "to": delivery.address,
            "text": sms_text(delivery),
            "sign": settings.TONGBAN_SMS_SIGN,
            "template": delivery.message.template_code,
        }
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "X-Api-Key": settings.TONGBAN_SMS_API_KEY,
                "X-Request-Id": str(delivery.pk),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.TONGBAN_SMS_TIMEOUT) as response:  # noqa: S310
                status = response.status
                content = response.read(65536)
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"HTTP {exc.code} from the SMS gateway: {exc.read(500)!r}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GatewayError(f"SMS gateway unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise GatewayError(f"HTTP {status} from the SMS gateway")
        try:
            answer = json.loads(content or b"{}")
        except ValueError:
            answer = {}
        provider_id = answer.get("id") if isinstance(answer, dict) else None
        return str(provider_id or "")[:128]


BUILTIN = {
    "sms": {"file": FileGateway, "console": ConsoleGateway, "http": HttpSmsGateway},
    "email": {"file": FileGateway, "console": ConsoleGateway, "smtp": SmtpGateway},
}


def gateway_for(channel: str) -> Gateway:
    """The gateway configured for ``channel`` ("sms" or "email")."""
    name = settings.TONGBAN_SMS_GATEWAY if channel == "sms" else settings.TONGBAN_EMAIL_GATEWAY
    cls = BUILTIN.get(channel, {}).get(name)
    if cls is None:
        if "." not in name:
            raise ImproperlyConfigured(
                f"unknown {channel} gateway {name!r}; use one of {sorted(BUILTIN[channel])} or a class path"
            )
        cls = import_string(name)
    return cls()
