"""Material files are kept only while a committed ``CaseMaterial`` names them: no orphan survives a rollback.

A material's file is written under its final name inside the transaction that writes the row naming it. The
row is the commit marker: a file that no committed row names belongs to a transaction that did not commit.
Two things remove such a file:

- a submission that fails removes the files it wrote at once (``removed_unless_committed`` around the
  transaction), keeping any that a committed row does name;
- after a crash (``kill -9`` between the write and the commit) or the rollback of an outer transaction, the
  sweeper (``sweep``; hourly Huey task ``cases.tasks.case_files_sweep``, and ``tongban cases sweep-files``)
  removes the files under ``cases/`` that no row names and that are older than the grace period
  (``TONGBAN_CASE_FILES_GRACE_MINUTES``, 60 by default: far longer than any transaction, so a file whose
  transaction is still running is never taken).

Writing the file only on commit (``transaction.on_commit``) was not chosen: a crash between the commit and the
write would leave a committed row naming a file that never reached the disk, a lost material instead of a
stray file.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import CaseMaterial

logger = logging.getLogger(__name__)

ROOT = "cases"  # CaseMaterial.file's upload_to is cases/%Y/%m/
BATCH = 500
_open = threading.local()


def _storage():
    return CaseMaterial._meta.get_field("file").storage


def _trackers() -> list[list[str]]:
    if not hasattr(_open, "trackers"):
        _open.trackers = []
    return _open.trackers


def note_stored(name: str) -> None:
    """Tell the open ``removed_unless_committed`` blocks that a material file was written under ``name``."""
    for written in _trackers():
        written.append(name)


@contextmanager
def removed_unless_committed() -> Iterator[list[str]]:
    """Remove the material files written inside the block when it fails and no committed row names them.

    Wrap the transaction (not a block inside it): when the block raises, its rows are rolled back and its
    files can go. A file that a row still names (an error raised after the commit) is kept.
    """
    written: list[str] = []
    trackers = _trackers()
    trackers.append(written)
    try:
        yield written
    except BaseException:
        remove_unreferenced(written)
        raise
    finally:
        trackers.remove(written)


def _referenced(names: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(names), BATCH):
        found.update(
            CaseMaterial.objects.filter(file__in=names[start : start + BATCH]).values_list("file", flat=True)
        )
    return found


def remove_unreferenced(names: Iterable[str]) -> list[str]:
    """Delete the files among ``names`` that no ``CaseMaterial`` names; the names deleted.

    Best effort on a failure path: when the database cannot answer (a broken transaction), nothing is deleted
    and the sweeper takes the files later.
    """
    names = [name for name in dict.fromkeys(names) if name]
    if not names:
        return []
    if connection.needs_rollback:
        return []
    try:
        keep = _referenced(names)
    except Exception:  # the original error matters more; the sweeper cleans up later
        logger.warning("could not check %d material files after a failed write", len(names), exc_info=True)
        return []
    storage, removed = _storage(), []
    for name in names:
        if name in keep:
            continue
        try:
            storage.delete(name)
        except OSError:
            logger.warning("could not remove material file %s", name, exc_info=True)
            continue
        removed.append(name)
    return removed


@dataclass
class SweepResult:
    """What a sweep looked at and did."""

    checked: int = 0
    removed: list[str] = field(default_factory=list)
    referenced: int = 0
    young: int = 0


def _directories(storage, since: dt.datetime | None) -> Iterator[str]:
    """``cases`` and its ``YYYY/MM`` directories, skipping months that end well before ``since``."""
    if not storage.exists(ROOT):
        return
    yield ROOT
    earliest = None
    if since is not None:
        month_before = since - dt.timedelta(days=31)  # upload_to dates a file by the server's clock
        earliest = (month_before.year, month_before.month)
    for year in sorted(storage.listdir(ROOT)[0]):
        yield f"{ROOT}/{year}"
        for month in sorted(storage.listdir(f"{ROOT}/{year}")[0]):
            dated = earliest is not None and year.isdigit() and month.isdigit()
            if dated and (int(year), int(month)) < earliest:
                continue
            yield from _walk(storage, f"{ROOT}/{year}/{month}")


def _walk(storage, directory: str) -> Iterator[str]:
    yield directory
    for sub in sorted(storage.listdir(directory)[0]):
        yield from _walk(storage, f"{directory}/{sub}")


def sweep(
    *,
    grace: dt.timedelta | None = None,
    lookback: dt.timedelta | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> SweepResult:
    """Remove material files that no ``CaseMaterial`` names and that were written more than ``grace`` ago.

    ``lookback`` limits the sweep to files written since then (the hourly task looks two days back; an
    operator's ``--all`` looks at every file). A file younger than ``grace`` may belong to a transaction still
    running and is always kept.
    """
    now = now or timezone.now()
    if grace is None:
        grace = dt.timedelta(minutes=settings.TONGBAN_CASE_FILES_GRACE_MINUTES)
    cutoff = now - grace
    since = now - lookback if lookback is not None else None
    storage = _storage()
    result = SweepResult()
    candidates: list[str] = []
    for directory in _directories(storage, since):
        for filename in storage.listdir(directory)[1]:
            name = f"{directory}/{filename}"
            modified = storage.get_modified_time(name)
            if since is not None and modified < since:
                continue
            result.checked += 1
            if modified > cutoff:
                result.young += 1
                continue
            candidates.append(name)
    keep = _referenced(candidates)
    result.referenced = len(keep)
    for name in candidates:
        if name in keep:
            continue
        if not dry_run:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("could not remove material file %s", name, exc_info=True)
                continue
        result.removed.append(name)
    if result.removed and not dry_run:
        logger.info("removed %d material files no case names: %s", len(result.removed), result.removed[:20])
    return result
