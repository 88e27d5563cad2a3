"""SQLite with a writers' queue: the embedded default's database backend.

SQLite lets one writer at a time hold the database; a second one that finds it busy sleeps in steps of 1, 2, 5,
10 ... ms (SQLite's busy handler) and tries again, so with two worker processes much of the time goes to
sleeping rather than waiting. Here a write transaction first takes an exclusive ``flock`` on a lock file beside
the database: the kernel hands the lock to the next writer the moment the previous one commits. SQLite's own
locking and busy timeout stay in place underneath (for writers that do not use this backend).

Transactions begin ``IMMEDIATE`` (settings), so every ``atomic()`` block is a write transaction; reads outside a
transaction take no lock.

``writer_lock_stats()`` tells how long this process waited for the lock and held it (from taking it to the end of the
COMMIT or ROLLBACK), in wall-clock time and in the CPU time the thread spent meanwhile: with several writer
processes, the time held is what they cannot do at once (``tongban bench cases`` reports them per transition; on a
busy machine the wall-clock time includes waiting for a core while holding the lock, the CPU time does not).

**Checkpoints after the lock.** In WAL mode SQLite copies the log back into the database (a checkpoint: about 1,000
pages read and written and two fsyncs) inside the COMMIT that crosses ``wal_autocheckpoint`` pages — on the case
path every few commits, while that writer holds the lock. Here each process instead runs a PASSIVE checkpoint on a
connection of its own every ``CHECKPOINT_EVERY`` commits, after releasing the lock: the other writers go on
meanwhile (a passive checkpoint waits for nobody and stops nobody). SQLite's own automatic checkpoint stays as a
safety net at ``AUTOCHECKPOINT_PAGES`` (a writer that commits without this backend, or writes only in autocommit).
"""

import fcntl
import os
import sqlite3
import time

from django.db.backends.sqlite3 import base

# Commits of a process between its passive checkpoints. A checkpoint copies each page changed since the last one
# once, however many commits changed it (the index pages of the newest rows, the tables' last pages): every 64
# commits instead of 8 the checkpoints cost about a third less CPU on the case path (profiled, 2026-12-06), for a
# log of some 6,000 pages (24 MB) at most between them with two writers.
CHECKPOINT_EVERY = 64
AUTOCHECKPOINT_PAGES = (
    16000  # SQLite's own, in the committing writer: only if ours fall behind (64 MB of log)
)


# Per process (each worker process has its own): transactions, seconds waiting for the lock, seconds holding it.
_stats = {"transactions": 0, "wait_s": 0.0, "held_s": 0.0, "held_cpu_s": 0.0}


def writer_lock_stats() -> dict:
    """A copy of this process's writers' queue figures (see the module docstring)."""
    return dict(_stats)


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_fd = None
    _writer_locked = False
    _writer_locked_at = 0.0
    _writer_locked_cpu = 0.0
    _commits = 0
    _checkpointer = None

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        if self._writer_lock_path() is not None:
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        return conn

    def _checkpoint(self):
        """A passive checkpoint on this process's checkpoint connection (see the module docstring)."""
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(
                    str(self.settings_dict["NAME"]), isolation_level=None, check_same_thread=False
                )
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:  # another checkpoint under way, or no WAL: the next one (or SQLite's) does it
            pass

    def checkpointer_close(self):
        """Close this process's checkpoint connection (opened again at the next checkpoint). SQLite changes a
        database's journal mode only when no other connection has it open: a bulk load's switch away from the
        WAL (``demo.cases_history``) needs this one closed first."""
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None

    def _writer_lock_path(self):
        name = str(self.settings_dict["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            return None
        return f"{name}.writers"

    def _writer_lock_acquire(self):
        if self._writer_locked:
            return
        if self._writer_fd is None:
            path = self._writer_lock_path()
            if path is None:
                return
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        asked = time.perf_counter()
        fcntl.flock(self._writer_fd, fcntl.LOCK_EX)
        self._writer_locked_at = time.perf_counter()
        self._writer_locked_cpu = time.thread_time()
        self._writer_locked = True
        _stats["transactions"] += 1
        _stats["wait_s"] += self._writer_locked_at - asked

    def _writer_lock_release(self):
        if self._writer_locked:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
            self._writer_locked = False
            _stats["held_s"] += time.perf_counter() - self._writer_locked_at
            _stats["held_cpu_s"] += time.thread_time() - self._writer_locked_cpu

    def _start_transaction_under_autocommit(self):
        self._writer_lock_acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._writer_lock_release()
            raise

    def _commit(self):
        try:
            result = super()._commit()
        finally:
            self._writer_lock_release()
        if self._writer_fd is not None:
            self._commits += 1
            if self._commits % CHECKPOINT_EVERY == 0:
                self._checkpoint()
        return result

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._writer_lock_release()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._writer_lock_release()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
