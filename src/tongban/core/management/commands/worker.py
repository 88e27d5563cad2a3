import logging

from django.conf import settings
from django.db import connection
from huey.contrib.djhuey.management.commands import run_huey


def queue_description(huey):
    """Where the queue lives, for the start-up line (no password)."""
    storage = huey.storage
    where = getattr(storage, "filename", None)
    if where is None and hasattr(storage, "conn"):
        kwargs = storage.conn.connection_pool.connection_kwargs
        where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
    return f"{type(storage).__name__.removesuffix('Storage').lower()} {where} (queue {huey.name!r})"


class Command(run_huey.Command):
    """``tongban worker``: Huey's consumer with Tongban's settings (``settings.HUEY["consumer"]``).

    The defaults come from the environment: TONGBAN_QUEUE_URL (SQLite file or Redis), TONGBAN_QUEUE_NAME,
    TONGBAN_WORKERS (threads). Every ``run_huey`` option still works, e.g. ``--workers 4``.
    """

    help = "Run the background worker: delivers events and runs queued and periodic tasks until Ctrl-C."

    def handle(self, *args, **options):
        from huey.contrib.djhuey import HUEY

        if HUEY.immediate:
            self.stderr.write(
                "tongban worker: TONGBAN_QUEUE_IMMEDIATE is set, so tasks run in the caller; exiting."
            )
            return
        huey_logger = logging.getLogger("huey")
        if not options.get("logfile") and not huey_logger.handlers:
            # Log through the project's LOGGING handlers, once, instead of a second handler of Huey's own.
            huey_logger.addHandler(logging.NullHandler())
            if options.get("verbose") is not None:
                huey_logger.setLevel(logging.DEBUG if options["verbose"] else logging.WARNING)
        consumer = {
            **settings.HUEY.get("consumer", {}),
            **{k: v for k, v in options.items() if v is not None},
        }
        self.stdout.write(
            f"tongban worker: queue {queue_description(HUEY)}, database {connection.vendor} "
            f"{connection.settings_dict['NAME']}, {consumer.get('workers', 1)} {consumer.get('worker_type')} workers"
        )
        self.stdout.flush()
        # Deliveries left by a worker that died (killed, out of memory) are due again once their lease ends: sweep
        # now instead of at the next minute.
        from tongban.core.tasks import deliver_due_events

        deliver_due_events()
        super().handle(*args, **options)
