"""The keys of the audit chain's HMAC, held outside the database.

Each entry's hash is ``HMAC-SHA256(key, text)`` with the key named by the entry's ``key_id``: someone who can
write the database but cannot read this file cannot make an entry (edited, inserted, appended at a head) that
verifies. The file (``TONGBAN_AUDIT_CHAIN_KEY_FILE``) holds one key a line, ``<key id> <base64 of 32 bytes>``; the
last line is the key new entries use. Rotating appends a line and keeps the old ones, so every entry stays
verifiable. The demo creates the file on first use (mode 0600); production keeps it outside ``var/`` and out of
the database account's reach (docs/deployment.md).
"""

import base64
import os
import secrets
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["chain_key", "chain_keys", "current_chain_key", "rotate_chain_key"]

_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, bytes], str]] = {}
# The append path asks for the key on every entry: the file is looked at again at most once a second
# (a rotation by another process is picked up within that second; its entries name their key anyway).
_RECHECK_SECONDS = 1.0
_checked: dict[str, float] = {}


def _path() -> Path:
    return Path(settings.TONGBAN_AUDIT_CHAIN_KEY_FILE)


def _parse(text: str, path: Path) -> tuple[dict[str, bytes], str]:
    keys: dict[str, bytes] = {}
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key_id, encoded = line.split()
            key = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{path}, line {number}: expected '<key id> <base64 key>'") from exc
        if len(key) < 32 or not key_id.isalnum() or len(key_id) > 16:
            raise ImproperlyConfigured(f"{path}, line {number}: a key id of up to 16 letters and 32+ bytes")
        keys[key_id] = key
        current = key_id
    return keys, current


def _append_key(path: Path) -> str:
    key_id = secrets.token_hex(4)
    line = f"{key_id} {base64.b64encode(secrets.token_bytes(32)).decode()}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return key_id


def _load() -> tuple[dict[str, bytes], str]:
    path = _path()
    name = str(path)
    cached = _cache.get(name)
    if cached is not None and time.monotonic() - _checked.get(name, 0.0) < _RECHECK_SECONDS:
        return cached[1], cached[2]
    with _lock:
        _checked[name] = time.monotonic()
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            _append_key(path)  # the demo's first use; production provisions the file
            mtime = path.stat().st_mtime
        if cached and cached[0] == mtime:
            return cached[1], cached[2]
        keys, current = _parse(path.read_text(), path)
        if not keys:
            raise ImproperlyConfigured(f"{path} holds no audit chain key")
        _cache[str(path)] = (mtime, keys, current)
        return keys, current


def chain_keys() -> dict[str, bytes]:
    """Every key by id (retired ones too: old entries verify with them)."""
    return _load()[0]


def current_chain_key() -> tuple[str, bytes]:
    """The key id and key that new entries use."""
    keys, current = _load()
    return current, keys[current]


def chain_key(key_id: str) -> bytes | None:
    return chain_keys().get(key_id)


def rotate_chain_key() -> str:
    """Add a new key and make it the current one; the old keys stay for verification. Returns its id."""
    path = _path()
    _load()
    with _lock:
        key_id = _append_key(path)
        _cache.pop(str(path), None)
        _checked.pop(str(path), None)
    return key_id
