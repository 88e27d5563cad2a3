"""Savepoints only where a caller can use them.

A write service is atomic (``service_atomic``): called on its own it is one transaction, called inside another it
opens a savepoint, so that a caller can catch its refusal and go on (two statements: SAVEPOINT, RELEASE).

A hot path that calls several services which must all succeed or all fail (a case step's effects: the birth
record, the household, the insurance, the licences) does not need those savepoints: ``all_or_nothing()`` marks the
block, and the services inside it join the transaction without one. A refusal then marks the whole transaction for
rollback, so code inside the block must let it propagate (not catch it and go on querying).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps

from django.db import transaction
from django.db.transaction import TransactionManagementError

_FLAG = "_tongban_all_or_nothing"


@contextmanager
def all_or_nothing():
    """Inside a transaction: the ``service_atomic`` services called in the block open no savepoint."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise TransactionManagementError("all_or_nothing() is used inside transaction.atomic()")
    previous = getattr(connection, _FLAG, False)
    setattr(connection, _FLAG, True)
    try:
        yield
    finally:
        setattr(connection, _FLAG, previous)


def joins_without_savepoint() -> bool:
    """Whether a service called now joins the caller's transaction without a savepoint."""
    connection = transaction.get_connection()
    return connection.in_atomic_block and getattr(connection, _FLAG, False)


def service_atomic(function):
    """Run ``function`` atomically: its own transaction, a savepoint in a caller's, none in ``all_or_nothing()``."""

    @wraps(function)
    def wrapped(*args, **kwargs):
        with transaction.atomic(savepoint=not joins_without_savepoint()):
            return function(*args, **kwargs)

    return wrapped
