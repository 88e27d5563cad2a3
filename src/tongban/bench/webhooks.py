"""``tongban bench webhooks``: how fast outbox events become signed CloudEvents at webhook receivers.

Records ``--events`` outbox events, adds ``--subscribers`` subscribers pointing at a receiver on 127.0.0.1 (an
``http.server`` in a thread that answers 204), then times the relay (outbox rows read, deliveries written) and
the delivery (CloudEvent built, signed, POSTed, outcome recorded), one process, one sender. Writes events,
deliveries and audit-free subscriber rows, so run it on a scratch database::

    TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench webhooks
"""

from __future__ import annotations

import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import CommandError
from django.db import transaction

from tongban.core.bench import benchmark


class _Receiver(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@benchmark(
    "webhooks",
    help="webhook relay (deliveries written/s) and delivery (signed CloudEvents POSTed/s) to a local receiver",
    arguments=[
        (("--events",), {"type": int, "default": 500, "help": "outbox events (default 500)"}),
        (("--subscribers",), {"type": int, "default": 2, "help": "subscribers receiving each (default 2)"}),
    ],
)
def bench_webhooks(*, stdout, options):
    from tongban.core.events import events_emit
    from tongban.integrations import services
    from tongban.integrations.models import WebhookDelivery, WebhookSubscriber

    events, subscribers = options["events"], options["subscribers"]
    if events < 1 or subscribers < 1:
        raise CommandError("--events and --subscribers must be at least 1")
    if WebhookDelivery.objects.exists():
        raise CommandError("run it on a scratch database (webhook deliveries exist here)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        run = uuid.uuid4().hex[:8]
        WebhookSubscriber.objects.filter(name__startswith="bench-").update(active=False)
        for number in range(subscribers):
            WebhookSubscriber.objects.create(name=f"bench-{run}-{number}", url=url)
        with transaction.atomic():
            events_emit(
                [
                    ("bench.webhook", {"n": n, "case": str(uuid.uuid4())}, "bench", str(n))
                    for n in range(events)
                ]
            )
        started = time.perf_counter()
        written = services.webhooks_relay()
        relay_s = time.perf_counter() - started
        started = time.perf_counter()
        sent = services.webhooks_deliver()
        deliver_s = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
        # Its receiver is gone: the bench's subscribers must not keep the worker retrying.
        WebhookSubscriber.objects.filter(name__startswith="bench-").update(active=False)
    if written != events * subscribers or _Receiver.received != written:
        raise CommandError(
            f"expected {events * subscribers} deliveries, wrote {written}, received {_Receiver.received}"
        )
    figures = {
        "events": events,
        "subscribers": subscribers,
        "relay_deliveries_per_s": round(written / relay_s, 1),
        "delivered_per_s": round(sent / deliver_s, 1),
    }
    stdout.write(
        f"relay: {written} deliveries written in {relay_s:.2f} s ({figures['relay_deliveries_per_s']:,.1f}/s); "
        f"delivery: {sent} signed CloudEvents POSTed in {deliver_s:.2f} s ({figures['delivered_per_s']:,.1f}/s).\n"
    )
    return figures
