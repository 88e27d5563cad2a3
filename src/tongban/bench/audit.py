"""Core's benchmarks (``core/bench.py`` is the registry itself, so core's own live here).

``tongban bench audit`` measures the audit chain on the configured database, in a scratch copy of
the audit tables that it removes afterwards, so the real log is never touched: a scratch SQLite
file beside the database, or a scratch schema in the PostgreSQL database.
"""

import copy
import multiprocessing
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from tongban.core.audit import (
    GENESIS,
    HASHED_TEXT_FIELDS,
    _append,
    audit_checkpoint_create,
    audit_verify,
    canonical_json,
    keyed_hash,
    keyed_message,
    shard_count,
)
from tongban.core.audit_keys import current_chain_key
from tongban.core.audit_sql import install_append_function, install_guards
from tongban.core.bench import benchmark
from tongban.core.models import AuditCheckpoint, AuditEntry
from tongban.core.models.audit import epoch_microseconds

ALIAS = "audit_bench"


def _values(i: int, writer: int = 0) -> dict:
    """A realistic entry: a handler reading a case's applicant data for a purpose."""
    return {
        "actor_kind": "staff",
        "actor_id": f"{writer * 1000 + i % 500}",
        "actor_label": f"张伟{i % 500}",
        "actor_role": "dept_handler",
        "actor_department": "public-security-310104",
        "action": "case.read_applicant",
        "subject_type": "person",
        "subject_id": str(uuid.UUID(int=i + 1)),
        "case_id": f"SH-2026-{i:08d}",
        "ticket_id": "",
        "purpose": "核验户籍信息以受理出生登记",
        "details": canonical_json({"fields": ["name", "resident_id", "household"], "n": i, "writer": writer}),
    }


def _open_scratch() -> tuple[str, callable]:
    """Register a scratch database alias with empty audit tables; return a description and a cleanup."""
    default = connections[DEFAULT_DB_ALIAS]
    scratch = copy.deepcopy(default.settings_dict)
    if default.vendor == "sqlite":
        path = Path(settings.VAR_DIR) / f"bench-audit-{os.getpid()}.sqlite3"
        scratch["NAME"] = str(path)
        description = f"scratch SQLite file {path}"

        def drop():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        drop()
    elif default.vendor == "postgresql":
        schema = f"tongban_bench_audit_{os.getpid()}"
        with default.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        scratch["OPTIONS"] = {**scratch.get("OPTIONS", {}), "options": f"-c search_path={schema}"}
        scratch["CONN_MAX_AGE"] = 0
        description = f"scratch schema {schema} in database {scratch['NAME']}"

        def drop():
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    else:
        raise RuntimeError(f"tongban bench audit needs SQLite or PostgreSQL, not {default.vendor}")
    connections.settings[ALIAS] = scratch
    connection = connections[ALIAS]
    with connection.schema_editor() as editor:
        editor.create_model(AuditEntry)
        editor.create_model(AuditCheckpoint)
    install_guards(connection)
    install_append_function(connection)
    # The scratch log's checkpoints go to a scratch witness: the deployment's witness is the real log's.
    witness_dir = tempfile.mkdtemp(prefix="bench-audit-witness-")
    real_witness_dir = settings.TONGBAN_AUDIT_WITNESS_DIR
    settings.TONGBAN_AUDIT_WITNESS_DIR = witness_dir

    def cleanup():
        connections[ALIAS].close()
        del connections[ALIAS]
        del connections.settings[ALIAS]
        drop()
        settings.TONGBAN_AUDIT_WITNESS_DIR = real_witness_dir
        shutil.rmtree(witness_dir, ignore_errors=True)

    return description, cleanup


def _write(count: int, batch: int, writer: int) -> tuple[float, float]:
    """Append ``count`` entries, ``batch`` per transaction; return (start, end) times."""
    values = [_values(i, writer) for i in range(count)]
    start = time.perf_counter()
    for first in range(0, count, batch):
        with transaction.atomic(using=ALIAS):
            for item in values[first : first + batch]:
                _append(using=ALIAS, values=item)
    end = time.perf_counter()
    return start, end


def _writer_process(count, batch, writer, barrier, results):
    barrier.wait()
    results.put(_write(count, batch, writer))
    connections[ALIAS].close()


def _concurrent(count: int, batch: int, writers: int) -> float:
    """Entries per second appended by ``writers`` processes with ``count`` entries each."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers)
    results = context.Queue()
    processes = [
        context.Process(target=_writer_process, args=(count, batch, 100 + w, barrier, results))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    spans = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode:
            raise RuntimeError(f"a writer process failed with exit code {process.exitcode}")
    return writers * count / (max(end for _s, end in spans) - min(start for start, _e in spans))


def _fill(count: int, shards: int) -> None:
    """Bulk-load ``count`` more entries for the verification run (same hash, fewer round trips)."""
    connection = connections[ALIAS]
    table = AuditEntry._meta.db_table
    columns = ["chain", "seq", "at", *HASHED_TEXT_FIELDS, "prev_hash", "hash", "key_id"]
    key_id, key = current_chain_key()
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    heads = {}
    with connection.cursor() as cursor:
        for chain in range(shards):
            head = f"SELECT seq, hash FROM {table} WHERE chain = %s ORDER BY seq DESC LIMIT 1"  # noqa: S608
            cursor.execute(head, [chain])
            heads[chain] = cursor.fetchone() or (0, GENESIS)
    at_db = epoch_microseconds(timezone.now())
    at_text = str(at_db)
    done = 0
    while done < count:
        rows = []
        for i in range(done, min(count, done + 10_000)):
            chain = i % shards
            seq, prev = heads[chain]
            seq += 1
            texts = [_values(i, 9)[name] for name in HASHED_TEXT_FIELDS]
            message = keyed_message(
                key_id=key_id, prev_hash=prev, chain=chain, seq=seq, at=at_text, texts=texts
            )
            digest = keyed_hash(key, message)
            rows.append([chain, seq, at_db, *texts, prev, digest, key_id])
            heads[chain] = (seq, digest)
        with transaction.atomic(using=ALIAS), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        done += len(rows)


def _chains_used(since_id: int) -> int:
    return AuditEntry.objects.using(ALIAS).filter(id__gt=since_id).values("chain").distinct().count()


def _last_id() -> int:
    return AuditEntry.objects.using(ALIAS).order_by("-id").values_list("id", flat=True).first() or 0


@benchmark(
    "audit",
    help="audit entries appended per second (1 and 2 writers) and verified per second",
    arguments=[
        (
            ["--entries"],
            {
                "type": int,
                "default": 10_000,
                "help": "entries each writer appends in each mode (default 10000)",
            },
        ),
        (
            ["--batch"],
            {
                "type": int,
                "default": 50,
                "help": "entries per transaction in the batched mode (default 50)",
            },
        ),
        (
            ["--verify-entries"],
            {
                "type": int,
                "default": 1_000_000,
                "help": "entries in the log when verifying (default 1000000)",
            },
        ),
        (
            ["--workers"],
            {"type": int, "default": None, "help": "verification processes (default: one per CPU)"},
        ),
    ],
)
def bench_audit(*, stdout, options):
    """Append in two modes: one entry per transaction (each one a commit, the worst case), and
    ``--batch`` entries per transaction (a busy service writing several entries per commit); each
    with one writer and with two writer processes. Then verify a log of ``--verify-entries``."""
    entries, batch = options["entries"], max(1, options["batch"])
    shards = shard_count()
    description, cleanup = _open_scratch()
    stdout.write(f"Audit chain on {connections[ALIAS].vendor}, {description}, {shards} chains.")
    figures = {"entries_per_writer": entries, "batch": batch, "shards": shards}
    try:
        for per_transaction, key in ((1, "append"), (batch, "append_batched")):
            start, end = _write(entries, per_transaction, writer=0)
            single = entries / (end - start)
            since = _last_id()
            double = _concurrent(entries, per_transaction, writers=2)
            chains = _chains_used(since)
            stdout.write(
                f"  append, {per_transaction:>3} per transaction, 1 writer:  {single:>9,.0f} entries/s"
                f"  ({entries:,} entries)"
            )
            stdout.write(
                f"  append, {per_transaction:>3} per transaction, 2 writers: {double:>9,.0f} entries/s"
                f"  ({2 * entries:,} entries in 2 processes on {chains} chains)"
            )
            figures[f"{key}_per_s"] = round(single)
            figures[f"{key}_2_writers_per_s"] = round(double)
            figures[f"{key}_2_writers_chains"] = chains

        in_log = AuditEntry.objects.using(ALIAS).count()
        stdout.write(f"  loading {max(0, options['verify_entries'] - in_log):,} more entries to verify ...")
        _fill(max(0, options["verify_entries"] - in_log), shards)
        audit_checkpoint_create(force=True, using=ALIAS)

        single_report = audit_verify(using=ALIAS, workers=1)
        parallel_report = audit_verify(using=ALIAS, workers=options["workers"] or os.cpu_count() or 1)
        for report in (single_report, parallel_report):
            if not report.ok:
                raise RuntimeError(
                    f"the benchmark's own log failed verification: {report.problems[0].message}"
                )
        stdout.write(
            f"  verify, 1 process:   {single_report.rate:>11,.0f} entries/s  ({single_report.entries:,} entries)"
        )
        stdout.write(
            f"  verify, {parallel_report.workers} processes: {parallel_report.rate:>11,.0f} entries/s  "
            f"({parallel_report.entries:,} entries, {parallel_report.chains} chains)"
        )
    finally:
        cleanup()
    figures.update(
        verify_per_s=round(parallel_report.rate),
        verify_workers=parallel_report.workers,
        verify_1_process_per_s=round(single_report.rate),
        verify_entries=parallel_report.entries,
        scratch=description,
    )
    return figures
