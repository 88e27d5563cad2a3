"""Primary keys: time-ordered UUIDs (version 7, RFC 9562), from ``uuid-utils``.

A version-4 UUID is random: each new row's key lands on a random page of its table's primary-key index and of every
index that holds it (a case's id is in its tasks', timeline's, materials', audit entries' and events' indexes). In
SQLite a random insert into a full B-tree page rebalances it with its siblings (three or four pages written), and at
a city's size the page is seldom in memory: a read from disk for every key of every index. A version-7 UUID starts
with its creation time in milliseconds, so new keys go to the right edge of those indexes, where the pages are
already in memory and a transaction's rows share them (the case bench: fewer pages written a transaction,
docs/performance.md). It stays unguessable for what matters: besides the time, every key carries at least 32 random
bits drawn from the operating system (``uuid-utils`` counts up within a millisecond from a random start and adds
fresh random bits; forked processes draw their own — a test forks and compares). It does tell the millisecond its
row was made, which the API already shows as ``created_at``; access is checked on every endpoint whatever the id.
"""

from __future__ import annotations

from uuid_utils.compat import uuid7 as _uuid7


def new_id():
    """A new primary key: a time-ordered ``uuid.UUID`` (version 7)."""
    return _uuid7()
