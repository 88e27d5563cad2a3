"""SQLite with a writers' queue: the embedded default's database backend.

SQLite lets one writer at a time hold the database; a second one that finds it busy sleeps in steps of 1, 2, 5,
10 ... ms (SQLite's busy handler) and tries again, so with two worker processes much of the time goes to
sleeping rather than waiting. Here a write transaction first takes an exclusive ``flock`` on a lock file beside
the database: the kernel hands the lock to the next writer the moment the previous one commits. SQLite's own
locking and busy timeout stay in place underneath (for writers that do not use this backend).

Transactions begin ``IMMEDIATE`` (settings), so every ``atomic()`` block is a write transaction; reads outside a
transaction take no lock.
"""

import fcntl
import os

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_fd = None
    _writer_locked = False

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
        fcntl.flock(self._writer_fd, fcntl.LOCK_EX)
        self._writer_locked = True

    def _writer_lock_release(self):
        if self._writer_locked:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
            self._writer_locked = False

    def _start_transaction_under_autocommit(self):
        self._writer_lock_acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._writer_lock_release()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._writer_lock_release()

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
