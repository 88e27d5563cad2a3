"""Record what a deterministic set-up writes to the test database, and write the same rows again next time.

Seeding the demo city takes seconds of CPU (persons, registries, the catalogue, processes, demo cases, a month of
12345 tickets); the tests that walk it need the city, not the seeding, which ``demo/tests/test_seed.py`` tests.
:class:`Replayer` runs a set-up once for real and records the rows it added (or, for a table it changed in
place, the whole table after it). The next time the same set-up is asked for **on a database in the same state
as the recorded one** (every table's rows compared, by digest), the recorded rows are written back in one pass
instead: the same rows, the same primary keys, the same hashes in the audit chain. Any other starting state, or
a set-up that changed the append-only audit tables in place, runs the set-up for real.

The recordings live in a directory shared by the run's xdist workers (each has its own test database, migrated
the same way), so a set-up seeded by one worker is replayed by the other. A lock per set-up keeps the second
worker from seeding it at the same time (it waits, then replays). Rows are read and written in the database's
own representation (SQLite: the stored values, read without Django's converters; PostgreSQL: ``COPY``'s text
format), so a replayed row is byte for byte the recorded one. PostgreSQL's sequences are moved past the
replayed keys (never back).

A recording is used only on the Shanghai day it was made: set-ups that write "today" (tickets of the day, a
birthday) stay true across midnight.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import pickle
from collections import Counter
from collections.abc import Callable, Hashable
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from tongban.core.audit_sql import GUARDED_TABLES

SKIPPED_TABLES = frozenset({"django_migrations", "sqlite_sequence"})


def _tables() -> list[str]:
    """Every table (SQLite's planner statistics, ``sqlite_stat1``, included: a bulk load analyses)."""
    return sorted(name for name in connection.introspection.table_names() if name not in SKIPPED_TABLES)


def _read(table: str) -> list:
    """The table's rows as the database stores them, in their physical order."""
    if connection.vendor == "sqlite":
        raw = connection.connection
        columns = [row[1] for row in raw.execute(f'PRAGMA table_info("{table}")')]
        # Unary + is a no-op that leaves the stored value alone and drops the column's declared type, so the
        # connection's converters (dates, booleans) do not run: the row goes back exactly as it came.
        select = ", ".join(f'+"{column}"' for column in columns)
        return raw.execute(f'SELECT {select} FROM "{table}"').fetchall()  # noqa: S608 - table names of our DB
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
            data = b"".join(bytes(block) for block in copy)
        return data.split(b"\n")[:-1]  # COPY escapes newlines inside values: one line a row
    raise NotImplementedError(connection.vendor)


def _write(table: str, rows: list) -> None:
    if not rows:
        return
    if connection.vendor == "sqlite":
        marks = ", ".join("?" * len(rows[0]))
        connection.connection.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)  # noqa: S608
        return
    with connection.cursor() as cursor, cursor.copy(f'COPY "{table}" FROM STDIN') as copy:
        copy.write(b"\n".join(rows) + b"\n")


def _delete_all(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{table}"')  # noqa: S608


def _sequences_past(tables) -> None:
    """PostgreSQL: each sequence of the replayed tables at least at the table's highest key (never moved back)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            for sequence in connection.introspection.get_sequences(cursor, table):
                column = sequence["column"]
                cursor.execute(
                    f'SELECT setval(%s, GREATEST((SELECT COALESCE(MAX("{column}"), 0) FROM "{table}"), '  # noqa: S608
                    f"(SELECT last_value FROM {connection.ops.quote_name(sequence['name'])})))",
                    [sequence["name"]],
                )


def _state() -> dict[str, list]:
    connection.ensure_connection()
    return {table: _read(table) for table in _tables()}


def _digest(state: dict[str, list]) -> str:
    hasher = hashlib.sha256()
    for table in sorted(state):
        hasher.update(table.encode() + b"\0")
        for row in sorted(map(repr, state[table])):
            hasher.update(row.encode() + b"\n")
    return hasher.hexdigest()


def _new_rows(rows: list, added: Counter) -> list:
    """The rows of ``rows`` counted in ``added``, in their order."""
    out = []
    for row in rows:
        if added[row] > 0:
            added[row] -= 1
            out.append(row)
    return out


class Recording:
    """What a set-up wrote: per table, the rows it added, or (``replace``) the whole table after it."""

    def __init__(self, baseline: str, before: dict[str, list], after: dict[str, list], result):
        self.day = timezone.localdate()
        self.baseline = baseline
        self.added: dict[str, list] = {}
        self.replace: dict[str, list] = {}
        for table, rows in after.items():
            old = Counter(before.get(table, ()))
            if not old:
                if rows:
                    self.added[table] = rows
                continue
            new = Counter(rows)
            if old - new:  # a row changed or went: the table is written whole
                if table in GUARDED_TABLES:
                    raise ValueError(f"{table} is append-only: a set-up that changes it is not replayed")
                self.replace[table] = rows
            elif new - old:
                self.added[table] = _new_rows(rows, new - old)
        self.result = result

    def tables(self) -> list[str]:
        return [*self.replace, *self.added]

    def replay(self) -> None:
        with transaction.atomic():
            for table, rows in self.replace.items():
                _delete_all(table)
                _write(table, rows)
            for table, rows in self.added.items():
                _write(table, rows)
            _sequences_past(self.tables())
            if connection.vendor == "sqlite" and any(t.startswith("sqlite_stat") for t in self.tables()):
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE sqlite_schema")  # the planner rereads the statistics written


class Replayer:
    """``replayer.run(key, build)``: ``build()`` for real the first time (recorded), replayed after.

    ``key`` names the set-up and everything that makes it what it is (its arguments); ``build`` must be
    deterministic in its database effects for that key. What ``build`` returns is kept with the recording
    (keep it small and picklable) and returned by every replay.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.replayed = self.built = 0

    def _stem(self, key: Hashable) -> str:
        return hashlib.sha256(repr((connection.vendor, key)).encode()).hexdigest()[:24]

    @contextlib.contextmanager
    def _locked(self, stem: str):
        with open(self.directory / f"{stem}.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def run(self, key: Hashable, build: Callable[[], object]):
        stem = self._stem(key)
        with self._locked(stem):
            before = _state()
            baseline = _digest(before)
            path = self.directory / f"{stem}-{baseline[:24]}.pickle"
            if path.exists():
                recording = pickle.loads(path.read_bytes())  # noqa: S301 - written by this run's workers
                if recording.day == timezone.localdate() and recording.baseline == baseline:
                    recording.replay()
                    self.replayed += 1
                    return recording.result
            result = build()
            self.built += 1
            try:
                recording = Recording(baseline, before, _state(), result)
            except ValueError:
                return result
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(pickle.dumps(recording, protocol=pickle.HIGHEST_PROTOCOL))
            temporary.replace(path)
            return result
