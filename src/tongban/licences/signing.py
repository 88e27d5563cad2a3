"""What a licence's signature covers, and the token that carries it (the QR code's content).

The canonical payload is the JSON text of ``{v, number, type, holder_name, holder_id, data, issued_at,
valid_until, issuer, key_id}`` with sorted keys, no spaces and non-ASCII kept as UTF-8; the signature covers
exactly these bytes. ``issued_at`` is UTC to the second (``2026-03-01T08:00:00Z``), ``valid_until`` a date or
null, ``issuer`` the issuing department's code, ``key_id`` the fingerprint of the signing key.

The token is ``base64url(payload) "." base64url(signature)``, without padding. It is parsed strictly: any
character outside the alphabet, a non-canonical base64 ending, or a payload that is not canonical JSON is
refused, so a one-byte change anywhere cannot slip through as "the same" document.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder

PAYLOAD_VERSION = 1
PAYLOAD_KEYS = frozenset(
    {
        "v",
        "number",
        "type",
        "holder_name",
        "holder_id",
        "data",
        "issued_at",
        "valid_until",
        "issuer",
        "key_id",
    }
)
_PART = re.compile(r"^[A-Za-z0-9_-]+$")


def canonical_json(value) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def json_ready(data: dict) -> dict:
    """``data`` as plain JSON values (dates, decimals and UUIDs become strings), as stored and signed."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, allow_nan=False))


def issued_at_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def payload_dict(licence) -> dict:
    """The signed fields of a Licence (with its type, department and key loaded)."""
    return {
        "v": PAYLOAD_VERSION,
        "number": licence.number,
        "type": licence.type.code,
        "holder_name": licence.holder_name,
        "holder_id": licence.holder_id_number,
        "data": licence.data,
        "issued_at": issued_at_text(licence.issued_at),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "issuer": licence.department.code,
        "key_id": licence.key.key_id,
    }


def canonical_payload(licence) -> bytes:
    return canonical_json(payload_dict(licence))


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    """The bytes of a base64url text; ``ValueError`` unless it is exactly what ``b64`` makes of them."""
    if not _PART.match(text):
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if b64(data) != text:  # unused low bits set in the last character: another text for the same bytes
        raise ValueError("not canonical base64url")
    return data


def token_encode(payload: bytes, signature: bytes) -> str:
    return f"{b64(payload)}.{b64(signature)}"


class TokenMalformed(ValueError):
    """The text has the shape of a token but cannot be one that was issued (so it was altered)."""


class NotAToken(ValueError):
    """The text is not a licence token at all."""


@dataclass(frozen=True)
class ParsedToken:
    payload: bytes
    signature: bytes
    fields: dict

    @property
    def number(self) -> str:
        return self.fields["number"]

    @property
    def key_id(self) -> str:
        return self.fields["key_id"]


def token_parse(token: str) -> ParsedToken:
    """The payload, signature and payload fields of ``token``; raises ``NotAToken`` or ``TokenMalformed``."""
    token = (token or "").strip()
    parts = token.split(".")
    if len(parts) != 2 or not all(parts) or len(token) > 20_000:
        raise NotAToken("not a licence token")
    if not all(_PART.match(part) for part in parts):
        raise TokenMalformed("a character outside base64url")
    try:
        payload, signature = unb64(parts[0]), unb64(parts[1])
        fields = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenMalformed(str(exc)) from exc
    if not isinstance(fields, dict) or set(fields) != PAYLOAD_KEYS:
        raise TokenMalformed("not a licence payload")
    if not isinstance(fields["number"], str) or not isinstance(fields["key_id"], str):
        raise TokenMalformed("not a licence payload")
    try:
        canonical = canonical_json(fields)
    except ValueError as exc:
        raise TokenMalformed(str(exc)) from exc
    if canonical != payload:
        raise TokenMalformed("payload is not canonical JSON")
    return ParsedToken(payload=payload, signature=signature, fields=fields)
