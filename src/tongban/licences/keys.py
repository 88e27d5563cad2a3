"""Where the private halves of the departments' signing keys live (密钥存储).

The database holds only public keys. A ``KeyStorage`` keeps the private text of a key under its key id;
``FileKeyStorage`` (the default) writes one file a key, mode 0600, in ``settings.TONGBAN_LICENCE_KEY_DIR``.
A deployment with a hardware module or a secrets service replaces it with its own class that implements
``save`` / ``load`` / ``exists`` and calls ``storage_set`` at startup.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_KEY_ID = re.compile(r"^[0-9a-f]{8,32}$")


class KeyStorage:
    """The interface: keep and give back a private key's text by key id."""

    def save(self, key_id: str, private: str) -> None:
        raise NotImplementedError

    def load(self, key_id: str) -> str:
        """The private text; ``KeyError`` when the storage does not have it."""
        raise NotImplementedError

    def exists(self, key_id: str) -> bool:
        raise NotImplementedError


class FileKeyStorage(KeyStorage):
    """One file a key, ``<dir>/<key_id>.key``, readable by the owner only (0600); the folder is 0700."""

    def __init__(self, directory: Path | str | None = None):
        self._directory = Path(directory) if directory is not None else None

    @property
    def directory(self) -> Path:
        return self._directory or Path(settings.TONGBAN_LICENCE_KEY_DIR)

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise ValueError(f"not a key id: {key_id!r}")
        return self.directory / f"{key_id}.key"

    def save(self, key_id: str, private: str) -> None:
        path = self._path(key_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(private)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)  # O_CREAT's mode does not apply to a file left over from a crash
        os.replace(temporary, path)

    def load(self, key_id: str) -> str:
        try:
            return self._path(key_id).read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyError(key_id) from None

    def exists(self, key_id: str) -> bool:
        return self._path(key_id).exists()


_storage: KeyStorage | None = None


def storage() -> KeyStorage:
    """The configured key storage (a ``FileKeyStorage`` unless ``storage_set`` chose another)."""
    global _storage
    if _storage is None:
        _storage = FileKeyStorage()
    return _storage


def storage_set(value: KeyStorage | None) -> None:
    """Use ``value`` as the key storage (None: back to the default)."""
    global _storage
    if value is not None and not isinstance(value, KeyStorage):
        raise ImproperlyConfigured("the licence key storage must be a KeyStorage")
    _storage = value
