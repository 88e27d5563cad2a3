"""``tongban bench hotline``: routing throughput (tickets classified per second), held-out accuracy, and intake
through the REST API (tickets taken per second).

Run ``TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench hotline``.
Classification uses the model in use (training v1 from the corpus first if there is none) on a batch of held-out
texts in one process, best of ``--rounds``. Intake forks ``--workers`` processes (default one per core); each logs
an operator in with a verified second factor and POSTs ``/api/v1/tickets/`` through the whole Django stack
(middleware, session, permission, serializer, classification, duplicate search, ticket, step, audit entry and
event in one transaction) with held-out texts in random districts. The per-client intake limit is lifted in the
workers (a city's load comes from many clients); everything else is as in production. Tickets cannot be deleted
(the audit log refuses it), so intake runs only on a scratch database.
"""

import multiprocessing
import os
import random
import time

from django.core.management.base import CommandError
from django.db import connections

from tongban.core.bench import benchmark
from tongban.hotline.corpus import CONFUSABLE_PAIRS, corpus_load
from tongban.hotline.routing import evaluate, model_current, predict


@benchmark(
    "hotline",
    help="hotline routing: tickets classified per second and accuracy on the held-out split",
    arguments=[
        (("--tickets",), {"type": int, "default": 2000, "help": "batch size (default 2,000 held-out texts)"}),
        (("--rounds",), {"type": int, "default": 5, "help": "rounds; the best is reported (default 5)"}),
        (("--intake",), {"type": int, "default": 2000, "help": "tickets POSTed through the API (0: skip)"}),
        (("--workers",), {"type": int, "default": 0, "help": "intake processes (default: one per core)"}),
        (
            ("--learning",),
            {
                "action": "store_true",
                "help": "replay dispatchers' corrections from the evaluation set's corrections part, retrain, and "
                "report accuracy on its measured part after 0, 100, 300 and 1,000 corrections",
            },
        ),
        (
            ("--steps",),
            {
                "default": "0,100,300,1000",
                "help": "correction counts for --learning (default 0,100,300,1000)",
            },
        ),
    ],
)
def bench_hotline(*, stdout, options):
    if options.get("learning"):
        return bench_learning(
            stdout=stdout, steps=[int(n) for n in str(options["steps"]).split(",") if n.strip()]
        )
    started = time.perf_counter()
    model = model_current()
    load_s = time.perf_counter() - started
    heldout = corpus_load(split="test")
    texts = [row["text"] for row in heldout]
    texts = (texts * (options["tickets"] // max(len(texts), 1) + 1))[: options["tickets"]]
    predict(model, texts[:10])  # warm jieba's dictionary
    rates = []
    for _ in range(max(options["rounds"], 1)):
        started = time.perf_counter()
        predict(model, texts)
        rates.append(len(texts) / (time.perf_counter() - started))
    report = evaluate(model, heldout)
    pairs = {
        group: evaluate(model, [row for row in heldout if row["topic"] in topics])["accuracy"]
        for group, topics in CONFUSABLE_PAIRS.items()
    }
    stdout.write(
        f"model v{model.version}: {max(rates):,.0f} tickets/s (best of {len(rates)}, batch {len(texts)}); "
        f"held-out accuracy {report['accuracy']:.4f} on {report['total']} tickets"
    )
    for group, accuracy in pairs.items():
        stdout.write(f"  confusable {group}: {accuracy:.4f}")
    intake = _intake(options, texts, stdout) if options["intake"] > 0 else {}
    return {
        **intake,
        "model_version": model.version,
        "classify_per_s": round(max(rates), 1),
        "classify_per_s_median": round(sorted(rates)[len(rates) // 2], 1),
        "batch": len(texts),
        "model_load_s": round(load_s, 3),
        "heldout_accuracy": report["accuracy"],
        "heldout_size": report["total"],
        "confusable_accuracy": pairs,
    }


def _intake_users(workers):
    from tongban.core.audit import SYSTEM
    from tongban.hotline.models import Ticket
    from tongban.identity import services as identity
    from tongban.identity.models import User
    from tongban.identity.selectors import department_get

    if Ticket.objects.exclude(taken_by__username__startswith="bench.operator.").exists():
        raise CommandError(
            "tongban bench hotline writes tickets that cannot be deleted (the audit log refuses it): run it on a "
            "scratch database, e.g. TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate, then run it there, "
            "or pass --intake 0."
        )
    department = department_get("big-data-center")
    if department is None:
        identity.departments_ensure(actor=SYSTEM)
        department = department_get("big-data-center")
    users = []
    for index in range(workers):
        username = f"bench.operator.{index}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = identity.user_create(actor=SYSTEM, username=username, password=None, check_password=False)
            identity.staff_create(actor=SYSTEM, user=user, department=department, roles=["hotline_operator"])
        identity.totp_device_ensure(actor=SYSTEM, user=user)
        users.append(user.pk)
    return users


def _intake_worker(args):
    index, user_pk, count, texts = args
    connections.close_all()
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from rest_framework.settings import api_settings

    from tongban.core.audit import SYSTEM
    from tongban.core.ids import DISTRICTS
    from tongban.identity import services as identity
    from tongban.identity.models import User

    # Lift the per-client limits in this process only (DRF's throttles share this dict).
    for scope in list(api_settings.DEFAULT_THROTTLE_RATES):
        api_settings.DEFAULT_THROTTLE_RATES[scope] = None
    user = User.objects.get(pk=user_pk)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = identity.totp_device_ensure(actor=SYSTEM, user=user).persistent_id
    session.save()
    rng = random.Random(index)
    districts = list(DISTRICTS)
    kinds = ["complaint", "complaint", "help", "suggestion", "report"]
    created, failed, latencies = 0, 0, []
    started = time.perf_counter()
    for i in range(count):
        body = {
            "ticket_type": rng.choice(kinds),
            "text": texts[(index * count + i) % len(texts)],
            "district": rng.choice(districts),
            "channel": "app",
        }
        t0 = time.perf_counter()
        response = client.post("/api/v1/tickets/", body, content_type="application/json")
        latencies.append(time.perf_counter() - t0)
        if response.status_code == 201:
            created += 1
        else:
            failed += 1
    return {
        "created": created,
        "failed": failed,
        "seconds": time.perf_counter() - started,
        "latencies": latencies,
    }


def _intake(options, texts, stdout):
    from django.db import connection

    from tongban.hotline.models import Ticket
    from tongban.hotline.routing import model_current

    workers = options["workers"] or os.cpu_count() or 1
    total = options["intake"]
    users = _intake_users(workers)
    model_current()  # loaded before the fork: the workers share it
    before = Ticket.objects.count()
    shares = [total // workers + (1 if i < total % workers else 0) for i in range(workers)]
    connections.close_all()
    started = time.perf_counter()
    jobs = [(i, users[i], shares[i], texts) for i in range(workers)]
    if workers == 1:
        results = [_intake_worker(jobs[0])]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_intake_worker, jobs)
    seconds = time.perf_counter() - started
    created = sum(r["created"] for r in results)
    failed = sum(r["failed"] for r in results)
    stored = Ticket.objects.count() - before
    latencies = sorted(x for r in results for x in r["latencies"])
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else None
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else None
    rate = created / seconds if seconds else 0.0
    stdout.write(
        f"API intake ({connection.vendor}, {workers} worker(s)): {rate:,.1f} tickets/s, {created} created, "
        f"{failed} failed, {stored} stored; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    return {
        "database": connection.vendor,
        "intake_workers": workers,
        "intake_tickets": total,
        "intake_per_s": round(rate, 1),
        "intake_created": created,
        "intake_failed": failed,
        "intake_stored": stored,
        "intake_p50_ms": round(p50, 2) if p50 is not None else None,
        "intake_p99_ms": round(p99, 2) if p99 is not None else None,
    }


def bench_learning(*, stdout, steps, train_rows=None, seed=12345):
    """Learning from corrections, measured: the evaluation set's ``corrections`` part is replayed (in a fixed
    shuffled order) as dispatchers' corrections, the model is retrained with the first N of them, and its
    routing is measured on the ``measure`` part, which no replay touches. Each step also says whether the
    retrain would be activated (at least as good as the previous step on the hand-written validation check)."""
    from tongban.hotline.evaluation import evaluation_load, measure
    from tongban.hotline.routing import evaluate, train, training_rows, validation_rows

    replay = evaluation_load(part="corrections")
    random.Random(seed).shuffle(replay)
    measured = evaluation_load(part="measure")
    rows = training_rows() if train_rows is None else train_rows
    validation = validation_rows()
    results, previous_check = [], None
    for count in steps:
        corrections = [
            {"text": row["text"], "department": row["department"], "topic": row["topic"]}
            for row in replay[:count]
        ]
        started = time.perf_counter()
        model = train(rows, corrections, validation=validation)
        seconds = time.perf_counter() - started
        report = measure(model, measured, threshold=model.manifest["auto_dispatch_threshold"])
        check = evaluate(model, validation)["accuracy"]
        activated = previous_check is None or check >= previous_check
        previous_check = check if activated else previous_check
        step = {
            "corrections": len(corrections),
            "top1": report["top1"],
            "top3": report["top3"],
            "topic_accuracy": report["topic_accuracy"],
            "threshold": report["threshold"],
            "auto_dispatch_coverage": report["auto_dispatch_coverage"],
            "auto_dispatch_precision": report["auto_dispatch_precision"],
            "check_accuracy": check,
            "activated": activated,
            "train_s": round(seconds, 1),
        }
        results.append(step)
        stdout.write(
            f"{len(corrections):>5} corrections: top-1 {step['top1']:.4f}, top-3 {step['top3']:.4f}, topic "
            f"{step['topic_accuracy']:.4f}; auto-dispatch {step['auto_dispatch_coverage']:.3f} at precision "
            f"{step['auto_dispatch_precision'] or 0:.3f}; check {check:.4f} "
            f"({'activated' if activated else 'kept inactive'}); trained in {seconds:.0f} s"
        )
    return {
        "learning": results,
        "measured_size": len(measured),
        "replay_pool": len(replay),
    }
