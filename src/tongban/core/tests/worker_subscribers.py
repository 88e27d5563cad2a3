"""A subscriber for the real-worker tests.

Test-only: the worker that ``test_worker.py`` starts loads it through the ordinary
``TONGBAN_EVENT_MODULES`` setting, and the test process imports it so that its emits create a delivery.
"""

import os
import time

from tongban.core.events import event_emit, subscriber
from tongban.core.models import OutboxEvent

PING = "test.worker.ping"
PONG = "test.worker.pong"
SLOW = "test.worker.slow"
DONE = "test.worker.done"


@subscriber(PING, name="tests.worker.answer_ping")
def answer_ping(event):
    """Record a pong event naming the process that delivered the ping (once: handlers are idempotent)."""
    if not OutboxEvent.objects.filter(name=PONG, subject_id=str(event.pk)).exists():
        event_emit(PONG, {"pid": os.getpid()}, subject_type="event", subject_id=str(event.pk))


@subscriber(SLOW, name="tests.worker.count_slowly")
def count_slowly(event):
    """Take a while, then record that the event was handled: not idempotent on purpose, so that a delivery run
    twice to its end would show as two records."""
    time.sleep(float(event.payload.get("seconds", 0.2)))
    event_emit(DONE, {"pid": os.getpid()}, subject_type="event", subject_id=str(event.pk))
