"""Writes put off to the transaction that follows, so that work which only reads runs without the write lock.

On SQLite a write transaction holds the whole database (``core/db/base.py``): whatever a process computes between
BEGIN and COMMIT, no other process can write meanwhile. A submission's checks read the registers through the data
hub (grants, records, the persons concerned) and validate the form, and each lookup must be recorded (its audit
entry, the persons' data-use lines); run in a transaction, all of that work held the lock. Inside
``writes_deferred()`` the lookups read without a transaction and hand their records here instead; the caller writes
them with the change they led to (``writes_run`` inside the case's transaction), or on their own when there is no
such change (a refused submission) — in every outcome they are written, with the time the lookup was made.

Only writes that nothing inside the block reads back may be put off (records of what happened); a service opts in
by calling ``defer`` and writing at once when it returns False. A transaction opened inside the block (deeper than
the block's own level) holds the lock anyway: what is written in it is written at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager

from django.db import transaction

_local = threading.local()


def _depth() -> int:
    return len(transaction.get_connection().atomic_blocks)


@contextmanager
def writes_deferred():
    """Collect, in the block, the writes services put off (``defer``); yields the list, for ``writes_run``."""
    pending: list[Callable[[], object]] = []
    previous = getattr(_local, "pending", None)
    _local.pending = (pending, _depth())
    try:
        yield pending
    finally:
        _local.pending = previous


def defer(write: Callable[[], object]) -> bool:
    """Put ``write`` off when a ``writes_deferred()`` block is collecting at this transaction level; False
    otherwise (the caller writes now)."""
    found = getattr(_local, "pending", None)
    if found is None or _depth() != found[1]:
        return False
    found[0].append(write)
    return True


def writes_run(pending) -> None:
    """Run the collected writes in order, in the caller's transaction (again after a rollback: each is whole)."""
    for write in pending:
        write()
