"""Webhook signatures (HMAC-SHA256), and the helper a receiver uses to check them.

Each request carries ``Tongban-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
``HMAC-SHA256(secret, "<t>." + body)`` over the exact bytes of the body. A receiver recomputes it with the
subscriber's secret, compares in constant time, and refuses a timestamp older than a few minutes (a replayed
request). This module needs only the standard library, so a receiver can copy it (docs/integration.md).
"""

import hashlib
import hmac
import time

HEADER = "Tongban-Signature"
TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or does not match."""


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The header value for ``body`` signed with ``secret`` at ``timestamp`` (now by default)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str, body: bytes, header: str | None, *, tolerance: int = TOLERANCE_SECONDS, now=None
) -> int:
    """Check a request's signature header; return its timestamp, or raise ``SignatureError`` saying why."""
    if not header:
        raise SignatureError("no signature header")
    parts = dict(item.strip().partition("=")[::2] for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise SignatureError("malformed signature header") from exc
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("signature timestamp too old or in the future")
    expected = sign(secret, body, timestamp=timestamp).partition(",v1=")[2]
    if not hmac.compare_digest(expected, given):
        raise SignatureError("signature does not match")
    return timestamp
