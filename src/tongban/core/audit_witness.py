"""Witnesses: where every audit checkpoint is also written, outside the database.

Someone with full access to the database can delete or re-sign the checkpoint rows; they cannot (by the
deployment's design) write the witness. ``tongban audit verify`` reads the witness and checks every checkpoint it
holds against the database: the checkpoint rows must match it one for one (no gap, none added), and every chain
head it recorded must still be in its chain with the same hash.

A witness is a class with ``append(record: dict)`` and ``records() -> list[dict]``
(``TONGBAN_AUDIT_WITNESS``, a dotted path; ``TONGBAN_AUDIT_WITNESS_DIR`` for the default). The default,
:class:`DirectoryWitness`, appends JSON lines to one file a month in a directory that the database account cannot
write (a separate mount, another host's share, a WORM volume); each line carries the SHA-256 of the line before
it, so a line taken out of the middle of a file is noticed as well.
"""

import hashlib
import json
import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

GENESIS = "0" * 64


class WitnessError(Exception):
    """The witness cannot be written or read: no checkpoint is made without it."""


class DirectoryWitness:
    """Append-only JSON-lines files, ``checkpoints-YYYY-MM.jsonl``, in a directory outside the database."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory or settings.TONGBAN_AUDIT_WITNESS_DIR)

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("checkpoints-*.jsonl"))

    def _last_line_hash(self) -> str:
        files = self._files()
        for path in reversed(files):
            lines = path.read_bytes().splitlines()
            if lines:
                return hashlib.sha256(lines[-1]).hexdigest()
        return GENESIS

    def append(self, record: dict) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            line = json.dumps(
                {**record, "prev": self._last_line_hash()}, sort_keys=True, separators=(",", ":")
            )
            path = self.directory / f"checkpoints-{timezone.now():%Y-%m}.jsonl"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            try:
                os.write(fd, line.encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise WitnessError(f"cannot write the audit witness in {self.directory}: {exc}") from exc

    def records(self) -> list[dict]:
        """Every record in order; a line that does not follow from the one before is marked ``broken``."""
        records = []
        previous = GENESIS
        for path in self._files():
            for raw in path.read_bytes().splitlines():
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except ValueError:
                    record = {"broken": f"unreadable line in {path.name}"}
                if record.get("prev") != previous and "broken" not in record:
                    record["broken"] = f"{path.name}: a line before this one was removed or changed"
                previous = hashlib.sha256(raw).hexdigest()
                records.append(record)
        return records


def witness():
    """The configured witness (``TONGBAN_AUDIT_WITNESS``), or ``None`` when set to ``none``."""
    dotted = settings.TONGBAN_AUDIT_WITNESS
    if not dotted or dotted == "none":
        return None
    return import_string(dotted)()
