"""The audit chain (留痕): tamper-evident records of every action and personal-data read.

Writing
    A service calls :func:`audit_record` inside its ``transaction.atomic()``; the entry commits or
    rolls back with the change it describes.

Chains
    The log is ``settings.TONGBAN_AUDIT_SHARDS`` independent hash chains. Each entry links to the
    previous entry *of its chain*, so concurrent writers append to different chains instead of
    queueing on one head.

    * PostgreSQL: a writer takes a transaction-level advisory lock on a free chain
      (``pg_try_advisory_xact_lock``, trying every chain from the thread's preferred one) and only
      waits when every chain is busy. Advisory locks rather than ``SELECT ... FOR UPDATE SKIP
      LOCKED`` on chain-head rows, because a head table costs an extra UPDATE of a hot row per
      entry (dead tuples, WAL, vacuum), while an advisory lock writes nothing, is re-entrant
      (several entries of one transaction stay on one chain), and is released by the database at
      commit or rollback. The head is read from the entries themselves (the chain's last ``seq``,
      an index lookup) and the unique (chain, seq) constraint makes a fork impossible even for a
      writer that skipped the lock. All of it runs in the database function
      ``tongban_audit_append`` (``audit_sql``), one round trip per entry.
    * SQLite: the database serialises writers (``BEGIN IMMEDIATE``), so the writer simply appends to
      its preferred chain, computing the hash in Python.

Hash
    ``hash = sha256(utf8("TBA1" ␟ prev_hash ␟ chain ␟ seq ␟ at ␟ actor_kind ␟ actor_id ␟ actor_label
    ␟ actor_role ␟ actor_department ␟ action ␟ subject_type ␟ subject_id ␟ case_id ␟ ticket_id ␟
    purpose ␟ details))`` in lowercase hex, where ␟ is U+001F, numbers are in decimal, ``at`` is
    the time in microseconds since 1970-01-01 UTC (which is also how it is stored) and ``details``
    is the stored canonical JSON text. No field may contain U+001F (it is replaced by U+241F on the
    way in), so the fields cannot be re-split. The first entry of a chain has ``prev_hash`` = 64
    zeros. Everything hashed is stored as hashed, so verification never re-serialises anything:
    the database concatenates the columns and Python hashes the result.

Checkpoints
    :func:`audit_checkpoint_create` (a Huey periodic task, and ``tongban audit checkpoint``) signs
    the heads of all chains with the Ed25519 key from the settings. Verification checks every
    checkpoint's signature and that every head it names still exists with that hash, so deleting
    the tail of a chain, or rewriting a chain and recomputing its hashes, is caught. Entries newer
    than the last checkpoint are protected by the chain only: keep the interval short, and copy the
    checkpoints (``tongban audit checkpoint`` prints it) out of the database's reach.

Verifying
    :func:`audit_verify` first reads the whole table once in id order (a sequential read, split into
    id ranges across processes), following every chain through it with the minimum per row in
    Python: one dict lookup, compare ``seq``, compare ``prev_hash``, hash the text the database
    built, compare. The parts the processes saw are then joined per chain. Any chain that fails
    anywhere is walked again in ``seq`` order, which names its first bad entry (id, chain, seq)
    and what is wrong with it: edited, missing (deleted), unlinked (inserted or reordered),
    duplicate, truncated behind a checkpoint, or rewritten behind a checkpoint.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import random
import sqlite3
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.audit_keys import chain_key, chain_keys, current_chain_key
from tongban.core.audit_witness import witness
from tongban.core.db import fast
from tongban.core.models import AuditCheckpoint, AuditEntry
from tongban.core.models.audit import EPOCH, MICROSECOND, epoch_microseconds

logger = logging.getLogger(__name__)


# --- actors ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff member, a citizen, the system itself, or an anonymous visitor."""

    kind: str  # "staff" | "citizen" | "system" | "anonymous" | "client" (an API client's system)
    id: str
    label: str
    role: str = ""
    department: str = ""


SYSTEM = Actor(kind="system", id="system", label="system")
ACTOR_KINDS = frozenset({"staff", "citizen", "system", "anonymous", "client"})


# --- canonical serialisation and hash --------------------------------------------------------------

MAGIC = "TBA1"  # plain SHA-256 entries, written before chain keys (still verified as such)
MAGIC_KEYED = "TBA2"  # HMAC-SHA256 with a chain key held outside the database (core.audit_keys)
SEP = "\x1f"
SEP_REPLACEMENT = "\u241f"
GENESIS = "0" * 64
# The text fields in hash order, after MAGIC, prev_hash, chain, seq and at.
HASHED_TEXT_FIELDS = (
    "actor_kind",
    "actor_id",
    "actor_label",
    "actor_role",
    "actor_department",
    "action",
    "subject_type",
    "subject_id",
    "case_id",
    "ticket_id",
    "purpose",
    "details",
)
# Free text is shortened to fit its column; identifiers that do not fit are a programming error.
TRUNCATED_FIELDS = frozenset({"actor_label", "purpose"})


def canonical_time(at: datetime) -> str:
    """``at`` as hashed: microseconds since 1970-01-01 UTC in decimal, as the database stores it."""
    return str(epoch_microseconds(at))


def canonical_json(data) -> str:
    """JSON text with sorted keys and no spaces, non-ASCII kept as is: the stored and hashed form."""
    return json.dumps(
        data if data is not None else {},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        cls=DjangoJSONEncoder,
    )


def entry_message(*, prev_hash: str, chain: int, seq: int, at: str, texts) -> str:
    """The canonical text hashed for a plain (TBA1) entry; ``at`` is :func:`canonical_time`, ``texts`` follow
    :data:`HASHED_TEXT_FIELDS`."""
    return SEP.join((MAGIC, prev_hash, str(chain), str(seq), at, *texts))


def keyed_prefix(key_id: str) -> str:
    """What a keyed entry's text starts with, before ``prev_hash``: the scheme and the key's id."""
    return f"{MAGIC_KEYED}{SEP}{key_id}{SEP}"


def keyed_message(*, key_id: str, prev_hash: str, chain: int, seq: int, at: str, texts) -> str:
    """The canonical text of a keyed (TBA2) entry: the plain text's fields after the scheme and key id."""
    return keyed_prefix(key_id) + SEP.join((prev_hash, str(chain), str(seq), at, *texts))


def entry_hash(message: str) -> str:
    """SHA-256 of a plain (TBA1) entry's text: the scheme of entries written before chain keys."""
    return hashlib.sha256(message.encode()).hexdigest()


def keyed_hash(key: bytes, message: str) -> str:
    """HMAC-SHA256 of a keyed (TBA2) entry's text with the chain key (core.audit_keys)."""
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def compute_entry_hash(entry: AuditEntry) -> str:
    """The hash an entry's stored fields call for (slow path; verification builds the text in SQL)."""
    fields = {
        "prev_hash": entry.prev_hash,
        "chain": entry.chain,
        "seq": entry.seq,
        "at": canonical_time(entry.at),
        "texts": [getattr(entry, name) for name in HASHED_TEXT_FIELDS],
    }
    if entry.key_id is None:
        return entry_hash(entry_message(**fields))
    key = chain_key(entry.key_id)
    if key is None:
        return ""
    return keyed_hash(key, keyed_message(key_id=entry.key_id, **fields))


def _canonical_sql(connection) -> tuple[str, list]:
    """SQL (and its parameters) yielding, per row of the audit table, the UTF-8 bytes of
    :func:`entry_message` after its scheme (``TBA1`` and a separator), which :class:`_Hasher` prepends with the
    scheme of the row's ``key_id``.

    Building the text in the database, in one function call per row, keeps the per-row Python work
    to one hash. Each piece is formatted as :func:`entry_message` formats it (the tests compare both).
    """
    qn = connection.ops.quote_name

    def col(name):
        return qn(AuditEntry._meta.get_field(name).column)

    pieces = [col("prev_hash"), col("chain"), col("seq"), col("at"), *map(col, HASHED_TEXT_FIELDS)]
    if connection.vendor == "postgresql":
        return f"convert_to(concat_ws(%s::text, {', '.join(pieces)}), 'UTF8')", [SEP]
    if connection.vendor == "sqlite":
        # One printf builds the whole text.
        return f"CAST(printf(%s, {', '.join(pieces)}) AS BLOB)", [SEP.join(["%s"] * len(pieces))]
    raise ImproperlyConfigured(f"the audit chain supports SQLite and PostgreSQL, not {connection.vendor}")


# --- writing ---------------------------------------------------------------------------------------

# Per thread and database alias, the chain this thread last appended to (PostgreSQL locks chains
# with two-key advisory locks, audit_sql.LOCK_NAMESPACE and the chain number).
_local = threading.local()


def _forget_preferred_chains():
    # A forked process starts afresh, or every child of one parent would aim at the same chain.
    _local.__dict__.clear()


os.register_at_fork(after_in_child=_forget_preferred_chains)


def shard_count() -> int:
    return max(1, int(settings.TONGBAN_AUDIT_SHARDS))


def _preferred_chain(alias: str, shards: int) -> int:
    """This thread's chain for ``alias``: random at first, then the last one it got."""
    preferred = getattr(_local, "preferred", None)
    if preferred is None:
        preferred = _local.preferred = {}
    chain = preferred.get(alias)
    if chain is None or chain >= shards:
        chain = preferred[alias] = random.randrange(shards)
    return chain


# PostgreSQL: shards, preferred chain, time, then the text fields (see audit_sql.PG_APPEND_SQL).
_PG_APPEND = (
    "SELECT * FROM tongban_audit_append(%s, %s, %s, "  # noqa: S608 - placeholders only
    + ", ".join(["%s"] * len(HASHED_TEXT_FIELDS))
    + ", %s, %s, %s)"
)


@lru_cache(maxsize=8)
def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys, so that PostgreSQL computes the HMAC with its sha256()."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


# The INSERT's columns, in the model's field order so that the row can become a model instance as is.
_INSERT_FIELDS = ("chain", "seq", "at", *HASHED_TEXT_FIELDS, "prev_hash", "hash", "key_id")


def _statements(returning: bool):
    """The head lookup and the plain INSERT (``%s`` placeholders), for the batch append."""
    meta = AuditEntry._meta
    table = meta.db_table
    head = f"SELECT seq, hash FROM {table} WHERE chain = %s ORDER BY seq DESC LIMIT 1"  # noqa: S608
    insert = (
        f"INSERT INTO {table} ({', '.join(meta.get_field(c).column for c in _INSERT_FIELDS)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))})"
    )
    if returning:
        insert += f" RETURNING {meta.pk.column}"
    return head, insert


SQLITE_HASH_FUNCTION = "tongban_audit_hmac"


def _sqlite_entry_hash(key_id, prev_hash, chain, seq, at_us, *texts):
    """The keyed hash, for SQLite's one-statement append: the key never enters the database."""
    key = chain_key(key_id)
    if key is None:
        raise ValueError(f"no audit chain key {key_id!r}")
    message = keyed_message(
        key_id=key_id, prev_hash=prev_hash, chain=chain, seq=seq, at=str(at_us), texts=texts
    )
    return keyed_hash(key, message)


@lru_cache(maxsize=1)
def _sqlite_append_sql() -> str:
    """One statement that reads a chain's head, hashes and inserts the next entry, and returns it.

    Parameters: ?1 chain, ?2 time (microseconds), ?3... the text fields, then the key id; the head is the
    chain's highest sequence number, or (0, GENESIS) for an empty chain. The hash is :func:`keyed_hash`,
    computed by a Python function registered on the connection (``tongban_audit_hmac``), which holds the key.
    """
    meta = AuditEntry._meta
    table = meta.db_table
    column = {name: meta.get_field(name).column for name in _INSERT_FIELDS}
    texts = [f"?{3 + i}" for i in range(len(HASHED_TEXT_FIELDS))]
    key_id = f"?{3 + len(HASHED_TEXT_FIELDS)}"
    genesis = GENESIS.replace("'", "''")
    return (
        f"INSERT INTO {table} ({', '.join(column[c] for c in _INSERT_FIELDS)}) "  # noqa: S608
        f"SELECT ?1, head.seq + 1, ?2, {', '.join(texts)}, head.hash, "
        f"{SQLITE_HASH_FUNCTION}({key_id}, head.hash, ?1, head.seq + 1, ?2, {', '.join(texts)}), {key_id} "
        f"FROM (SELECT 0 AS seq, '{genesis}' AS hash UNION ALL SELECT * FROM ("
        f"SELECT {column['seq']}, {column['hash']} FROM {table} WHERE {column['chain']} = ?1 "
        f"ORDER BY {column['seq']} DESC LIMIT 1) ORDER BY seq DESC LIMIT 1) AS head "
        f"RETURNING {meta.pk.column}, {column['seq']}, {column['prev_hash']}, {column['hash']}"
    )


@lru_cache(maxsize=1)
def _limits() -> tuple[tuple[str, int], ...]:
    return tuple((name, AuditEntry._meta.get_field(name).max_length or 0) for name in HASHED_TEXT_FIELDS)


def _clean_texts(values: dict) -> list[str]:
    """The text fields in hash order: strings, without U+001F, fitting their columns."""
    texts = []
    for name, limit in _limits():
        value = values.get(name)
        text = value if value.__class__ is str else ("" if value is None else str(value))
        if SEP in text:
            text = text.replace(SEP, SEP_REPLACEMENT)
        if len(text) > limit > 0:
            if name not in TRUNCATED_FIELDS:
                raise ValueError(f"audit {name} is longer than {limit} characters: {text[:40]!r}...")
            text = text[: limit - 1] + "…"
        texts.append(text)
    return texts


# Below this many entries a transaction's appends go one by one (one statement each); from it, as one batch
# (SQLite: the head and one multi-row INSERT; PostgreSQL: the chain's lock, the head and a COPY).
BATCH_FROM = {"sqlite": 3, "postgresql": 4}


@contextmanager
def audits_collected(using: str | None = None):
    """Append the entries recorded inside the block together when it ends, inside the caller's transaction.

    A hot path that records several entries from several services (a case step: the task, the registries, the
    licences, the case) writes them as one batch (``audit_record_batch``): two statements on SQLite instead of one
    per entry. Each entry keeps the time it was recorded at; ``audit_record`` returns it unsaved (no id, no hash)
    inside the block. A block left by an exception writes none (its transaction rolls back). Nested blocks join
    the outermost one.
    """
    using = using or router.db_for_write(AuditEntry)
    connection = connections[using]
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("audits_collected() is used inside transaction.atomic()")
    if getattr(connection, "_tongban_audits", None) is not None:
        yield
        return
    collected: list[tuple[datetime, dict]] = []
    connection._tongban_audits = collected
    try:
        yield
    finally:
        connection._tongban_audits = None
    if len(collected) >= BATCH_FROM.get(connection.vendor, 3):
        audit_record_batch(
            ((at, *(values[name] for name in HASHED_TEXT_FIELDS)) for at, values in collected),
            using=using,
            savepoint=False,
        )
    else:
        for at, values in collected:
            _append(using=using, values=values, at=at)


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject_type: str = "",
    subject_id: str = "",
    case_id: str = "",
    ticket_id: str = "",
    purpose: str = "",
    details: dict | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the audit log and return it.

    Call it inside the service's ``transaction.atomic()``: the entry joins that transaction, so it
    exists exactly when the change it records does. (Called outside a transaction, it runs in its
    own.) ``details`` must be JSON-serialisable (dates, UUIDs and decimals are turned into strings).
    ``at``: when it happened, if not now (a record written later, ``core.db.deferred``).
    """
    if actor.kind not in ACTOR_KINDS:
        raise ValueError(f"unknown actor kind {actor.kind!r}; expected one of {sorted(ACTOR_KINDS)}")
    if not action:
        raise ValueError("an audit entry needs an action")
    values = {
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "actor_role": actor.role,
        "actor_department": actor.department,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "case_id": case_id,
        "ticket_id": ticket_id,
        "purpose": purpose,
        "details": canonical_json(details),
    }
    using = router.db_for_write(AuditEntry)
    collected = getattr(connections[using], "_tongban_audits", None)
    if collected is not None:  # audits_collected(): written with the others when the block ends
        at = at or timezone.now()
        collected.append((at, values))
        return fast.new(AuditEntry, at=at, **values)
    return _append(using=using, values=values, at=at)


def _append(*, using: str, values: dict, at: datetime | None = None) -> AuditEntry:
    """Append an entry with the given text ``values`` to a chain of database ``using``."""
    texts = _clean_texts(values)
    at = at or timezone.now()
    at_us = epoch_microseconds(at)
    connection = connections[using]
    shards = shard_count()
    preferred = _preferred_chain(using, shards)
    key_id, key = current_chain_key()
    if connection.vendor == "postgresql":
        # One statement claims a chain, reads its head and inserts (see audit_sql.PG_APPEND_SQL); the
        # chain's lock is held until the surrounding transaction ends. The HMAC's padded keys travel with the
        # statement; the key is never stored in the database.
        inner, outer = _hmac_pads(key)
        with connection.cursor() as cursor:
            cursor.execute(_PG_APPEND, [shards, preferred, at_us, *texts, key_id, inner, outer])
            pk, chain, seq, prev_hash, digest = cursor.fetchone()
        _local.preferred[using] = chain
    else:
        # SQLite: the transaction holds the database's write lock (BEGIN IMMEDIATE), so the head
        # cannot move between reading it and inserting. Inside the caller's transaction nothing more is
        # needed (a failure fails the caller's transaction, as it should); alone, it gets its own.
        chain = preferred
        if connection.in_atomic_block:
            pk, seq, prev_hash, digest = _sqlite_append(connection, chain, at_us, texts, key_id)
        else:
            with transaction.atomic(using=using):
                pk, seq, prev_hash, digest = _sqlite_append(connection, chain, at_us, texts, key_id)
    return _entry(using, (pk, chain, seq, at, *texts, prev_hash, digest, key_id))


def _sqlite_append(
    connection, chain: int, at_us: int, texts: list[str], key_id: str
) -> tuple[int, int, str, str]:
    """Read ``chain``'s head and insert the next entry, in one statement; return (pk, seq, prev_hash, hash).

    The hot path talks to the sqlite3 driver directly, with its own "?" placeholders: Django's cursor
    wrapper and placeholder rewriting cost more than the statement itself. The transaction holds the write
    lock, so the head cannot move between the read and the insert (they are one statement anyway).
    """
    connection.ensure_connection()
    raw = connection.connection
    cursor = raw.cursor()
    params = (chain, at_us, *texts, key_id)
    try:
        try:
            row = cursor.execute(_sqlite_append_sql(), params).fetchone()
        except sqlite3.OperationalError as exc:
            if SQLITE_HASH_FUNCTION not in str(exc):
                raise
            # A new connection: register the hash function once, then append.
            raw.create_function(SQLITE_HASH_FUNCTION, 5 + len(texts), _sqlite_entry_hash, deterministic=True)
            row = cursor.execute(_sqlite_append_sql(), params).fetchone()
        pk, seq, prev_hash, digest = row
        return pk, seq, prev_hash, digest
    finally:
        cursor.close()


SQLITE_ROWS_PER_INSERT = 500  # 19 parameters a row: within SQLite's limit of 32,766


def audit_record_batch(
    entries, *, chain: int | None = None, using: str | None = None, savepoint: bool = True
) -> int:
    """Append many entries to one chain in order, in a few multi-row statements: for bulk loads
    (``tongban seed --cases``), where one round trip per entry would dominate.

    ``entries`` yields tuples ``(at, actor_kind, actor_id, actor_label, actor_role, actor_department,
    action, subject_type, subject_id, case_id, ticket_id, purpose, details)``: ``at`` a datetime or
    microseconds since 1970 UTC, ``details`` the canonical JSON text (:func:`canonical_json`). The
    entries are chained exactly as :func:`audit_record` chains them, so ``audit verify`` holds. Runs in
    the caller's transaction (or its own); the chain is held for it (SQLite: the write lock;
    PostgreSQL: the chain's advisory lock). Returns the number written.
    """
    from .audit_sql import LOCK_NAMESPACE

    using = using or router.db_for_write(AuditEntry)
    connection = connections[using]
    shards = shard_count()
    chain = _preferred_chain(using, shards) if chain is None else chain % shards
    written = 0
    key_id, key = current_chain_key()
    # A savepoint lets a caller catch a refused entry and go on; ``audits_collected`` (entries checked when
    # recorded, a refusal failing the whole step anyway) writes without one.
    # SQLite's default database: the statements go to the driver directly (core.db.fast), as the appends do.
    direct = connection.vendor == "sqlite" and using == DEFAULT_DB_ALIAS
    with (
        transaction.atomic(using=using, savepoint=savepoint),
        nullcontext() if direct else connection.cursor() as cursor,
    ):
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, chain])
        head_sql, insert_sql = _statements(False)
        if direct:
            row = fast.fetchone(head_sql, [chain])
        else:
            cursor.execute(head_sql, [chain])
            row = cursor.fetchone()
        seq, prev_hash = row if row else (0, GENESIS)
        limits = _limits()
        batch: list[tuple] = []

        def flush():
            if not batch:
                return
            if connection.vendor == "postgresql":
                columns = ", ".join(AuditEntry._meta.get_field(c).column for c in _INSERT_FIELDS)
                table = AuditEntry._meta.db_table
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for values in batch:
                        copy.write_row(values)
            else:  # multi-row INSERTs (executemany would be one statement per entry)
                values = insert_sql[insert_sql.index("VALUES ") + len("VALUES ") :]
                for start in range(0, len(batch), SQLITE_ROWS_PER_INSERT):
                    rows = batch[start : start + SQLITE_ROWS_PER_INSERT]
                    sql, params = (
                        insert_sql + (", " + values) * (len(rows) - 1),
                        [v for row in rows for v in row],
                    )
                    if direct:
                        fast.execute(sql, params)
                    else:
                        cursor.execute(sql, params)
            batch.clear()

        for entry in entries:
            at = entry[0]
            at_us = at if at.__class__ is int else epoch_microseconds(at)
            texts = list(entry[1:])
            for index, (name, limit) in enumerate(limits):
                text = texts[index]
                if text.__class__ is not str:
                    text = "" if text is None else str(text)
                if SEP in text:
                    text = text.replace(SEP, SEP_REPLACEMENT)
                if len(text) > limit > 0:
                    if name not in TRUNCATED_FIELDS:
                        raise ValueError(f"audit {name} is longer than {limit} characters: {text[:40]!r}...")
                    text = text[: limit - 1] + "…"
                texts[index] = text
            if texts[0] not in ACTOR_KINDS or not texts[5]:
                raise ValueError(f"an audit entry needs a known actor kind and an action: {texts[:6]!r}")
            seq += 1
            digest = keyed_hash(
                key,
                keyed_message(
                    key_id=key_id, prev_hash=prev_hash, chain=chain, seq=seq, at=str(at_us), texts=texts
                ),
            )
            batch.append((chain, seq, at_us, *texts, prev_hash, digest, key_id))
            prev_hash = digest
            written += 1
            if len(batch) >= 5_000:
                flush()
        flush()
    return written


@lru_cache(maxsize=1)
def _attnames() -> tuple[str, ...]:
    return tuple(f.attname for f in AuditEntry._meta.concrete_fields)


def _entry(using: str, values: tuple) -> AuditEntry:
    """The model instance of a row just written, ``values`` in field order.

    What ``Model.from_db`` gives, without running ``__init__`` field by field: on the append path
    that cost as much as the INSERT. AuditEntry has no ``pre_init``/``post_init`` receivers to miss.
    """
    entry = AuditEntry.__new__(AuditEntry)
    entry.__dict__.update(zip(_attnames(), values, strict=True))
    entry._state = ModelState()
    entry._state.adding = False
    entry._state.db = using
    return entry


# --- signing key -----------------------------------------------------------------------------------


def _load_private_key(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:  # TypeError: the key is encrypted
            raise ImproperlyConfigured(f"TONGBAN_AUDIT_SIGNING_KEY is not a readable PEM key: {exc}") from exc
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except ValueError as exc:
            raise ImproperlyConfigured("TONGBAN_AUDIT_SIGNING_KEY is neither PEM nor base64") from exc
        if len(raw) != 32:
            raise ImproperlyConfigured("TONGBAN_AUDIT_SIGNING_KEY must be 32 raw bytes in base64 (or PEM)")
        key = Ed25519PrivateKey.from_private_bytes(raw)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("TONGBAN_AUDIT_SIGNING_KEY must be an Ed25519 private key")
    return key


def _key_file(path: Path) -> Ed25519PrivateKey:
    """Read the demo key file, creating it (mode 0600) on first use."""
    try:
        return _load_private_key(path.read_text())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written whole under a temporary name, then linked to its name (which fails if it exists): another process
    # never reads a file half written (it once read it empty while this one was writing it).
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(temporary, path)
    except FileExistsError:  # another process made it first
        return _load_private_key(path.read_text())
    finally:
        temporary.unlink(missing_ok=True)
    logger.warning("Created the audit signing key %s; set TONGBAN_AUDIT_SIGNING_KEY in production.", path)
    return key


@lru_cache(maxsize=4)
def _signing_key(configured: str, key_file: str) -> Ed25519PrivateKey:
    return _load_private_key(configured) if configured else _key_file(Path(key_file))


def signing_key() -> Ed25519PrivateKey:
    """The Ed25519 key that signs checkpoints (settings, or the demo key file)."""
    return _signing_key(settings.TONGBAN_AUDIT_SIGNING_KEY, settings.TONGBAN_AUDIT_SIGNING_KEY_FILE)


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, in hex."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()


def generate_signing_key() -> tuple[str, str]:
    """A new key as (base64 of the raw 32 private bytes, fingerprint): for TONGBAN_AUDIT_SIGNING_KEY."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode(), key_fingerprint(key)


def trusted_public_keys() -> dict[str, Ed25519PublicKey]:
    """Keys whose checkpoints verify: the signing key, plus retired ones an operator still trusts
    (``TONGBAN_AUDIT_TRUSTED_KEYS``: base64 raw public keys), by fingerprint."""
    keys = {}
    for text in settings.TONGBAN_AUDIT_TRUSTED_KEYS:
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TONGBAN_AUDIT_TRUSTED_KEYS: {text!r} is not a base64 Ed25519 public key"
            ) from exc
        keys[key_fingerprint(public)] = public
    current = signing_key().public_key()
    keys[key_fingerprint(current)] = current
    return keys


# --- checkpoints -----------------------------------------------------------------------------------


def _chain_heads(connection) -> list[tuple[int, int, str]]:
    """``(chain, seq, hash)`` of the last entry of every non-empty chain, by index seeks only."""
    table = AuditEntry._meta.db_table
    heads = []
    chain = -1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(f"SELECT MIN(chain) FROM {table} WHERE chain > %s", [chain])  # noqa: S608
            (chain,) = cursor.fetchone()
            if chain is None:
                return heads
            cursor.execute(
                f"SELECT seq, hash FROM {table} WHERE chain = %s ORDER BY seq DESC LIMIT 1",  # noqa: S608
                [chain],
            )
            seq, digest = cursor.fetchone()
            heads.append((chain, seq, digest))


def checkpoint_message(*, at: str, heads: str, entries: int, fingerprint: str) -> bytes:
    """What a checkpoint's signature covers."""
    return SEP.join(("TBC1", at, heads, str(entries), fingerprint)).encode()


def audit_checkpoint_create(*, force: bool = False, using: str | None = None) -> AuditCheckpoint | None:
    """Sign the current heads of all chains and store them; ``None`` when nothing changed since the
    last checkpoint (unless ``force``) or the log is empty.

    A checkpoint is not itself audited: that entry would move a head, so an idle log would never
    stop producing checkpoints.
    """
    using = using or router.db_for_write(AuditCheckpoint)
    connection = connections[using]
    key = signing_key()
    with transaction.atomic(using=using):
        heads = _chain_heads(connection)
        if not heads:
            return None
        heads_text = canonical_json([list(head) for head in heads])
        last = AuditCheckpoint.objects.using(using).order_by("-id").only("heads").first()
        if last and last.heads == heads_text and not force:
            return None
        at = timezone.now()
        entries = sum(seq for _chain, seq, _hash in heads)
        fingerprint = key_fingerprint(key)
        message = checkpoint_message(
            at=canonical_time(at), heads=heads_text, entries=entries, fingerprint=fingerprint
        )
        checkpoint = AuditCheckpoint.objects.using(using).create(
            at=at,
            heads=heads_text,
            entries=entries,
            key_fingerprint=fingerprint,
            signature=key.sign(message).hex(),
        )
        # Also outside the database, before the commit: a checkpoint that cannot be witnessed is not made
        # (WitnessError rolls it back). A commit that fails after this leaves a witnessed checkpoint the
        # database lacks, which verify reports; it cannot leave an unwitnessed one.
        target = witness()
        if target is not None:
            target.append(checkpoint_record(checkpoint))
        return checkpoint


def checkpoint_record(checkpoint: AuditCheckpoint) -> dict:
    """A checkpoint as the witness keeps it: everything its signature covers."""
    return {
        "id": checkpoint.pk,
        "at_us": epoch_microseconds(checkpoint.at),
        "heads": checkpoint.heads,
        "entries": checkpoint.entries,
        "key_fingerprint": checkpoint.key_fingerprint,
        "signature": checkpoint.signature,
    }


def checkpoint_as_json(checkpoint: AuditCheckpoint) -> str:
    """A checkpoint as one JSON line, to keep a copy outside the database."""
    return json.dumps(
        {
            "id": checkpoint.pk,
            "at": checkpoint.at.isoformat(),
            "at_us": epoch_microseconds(checkpoint.at),
            "heads": checkpoint.heads_data,
            "entries": checkpoint.entries,
            "key_fingerprint": checkpoint.key_fingerprint,
            "signature": checkpoint.signature,
        },
        separators=(",", ":"),
    )


# --- verification ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditProblem:
    """Something wrong in the log: ``entry_id``/``chain``/``seq`` name the first bad entry of a chain."""

    kind: str  # edited, unlinked, missing, duplicate, truncated, checkpoint
    message: str
    chain: int | None = None
    seq: int | None = None
    entry_id: int | None = None
    checkpoint_id: int | None = None


@dataclass
class AuditVerification:
    """What :func:`audit_verify` found."""

    chains: int = 0
    entries: int = 0
    checkpoints: int = 0
    witnessed: int = 0  # checkpoints the witness holds (None: no witness configured)
    warnings: list[str] = field(default_factory=list)  # e.g. an unanchored tail: not a proof of tampering
    seconds: float = 0.0
    workers: int = 1
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


# Per chain, the checkpointed heads: {chain: {seq: (hash, checkpoint id)}}.
Marks = dict[int, dict[int, tuple[str, int]]]


def _witness_checkpoints(rows, problems: list) -> tuple[list, int | None]:
    """Hold the database's checkpoints against the witness's; return the rows whose heads count and the number
    of witnessed checkpoints (``None`` without a witness).

    Every witnessed checkpoint must be in the database unchanged (none deleted, none re-signed), and every
    checkpoint in the database must be witnessed (none added). The witnessed heads count even when the
    database lost or altered the row: they are the anchor."""
    target = witness()
    if target is None:
        return rows, None
    records = target.records()
    by_id = {row[0]: row for row in rows}
    counted = []
    seen = set()
    for record in records:
        if "broken" in record:
            problems.append(
                AuditProblem(
                    kind="checkpoint",
                    message=_("the witness is damaged: %(what)s") % {"what": record["broken"]},
                )
            )
            continue
        pk = record["id"]
        seen.add(pk)
        witnessed = (
            pk,
            _from_epoch_us(record["at_us"]),
            record["heads"],
            record["entries"],
            record["key_fingerprint"],
            record["signature"],
        )
        row = by_id.get(pk)
        if row is None:
            problems.append(
                AuditProblem(
                    kind="checkpoint",
                    checkpoint_id=pk,
                    message=_(
                        "checkpoint #%(id)s is in the witness but not in the database: it was deleted (or its "
                        "transaction failed after it was witnessed)"
                    )
                    % {"id": pk},
                )
            )
        elif (row[2], row[3], row[4], row[5]) != witnessed[2:] or epoch_microseconds(row[1]) != record[
            "at_us"
        ]:
            problems.append(
                AuditProblem(
                    kind="checkpoint",
                    checkpoint_id=pk,
                    message=_("checkpoint #%(id)s differs from the witness: it was re-signed or altered")
                    % {"id": pk},
                )
            )
        counted.append(witnessed)
    for pk in sorted(set(by_id) - seen):
        problems.append(
            AuditProblem(
                kind="checkpoint",
                checkpoint_id=pk,
                message=_(
                    "checkpoint #%(id)s is not in the witness: it was made outside the application (forged or "
                    "re-signed)"
                )
                % {"id": pk},
            )
        )
    return counted, len(records)


def _from_epoch_us(value: int) -> datetime:
    """A time stored as microseconds since 1970 UTC, as the model's field reads it."""
    return EPOCH + value * MICROSECOND


def _verify_checkpoints(using: str, problems: list) -> tuple[int, Marks, int | None]:
    """Check the checkpoints against the witness and every signature; return the database's number of
    checkpoints, the heads of the valid ones (the witness's) and the number witnessed."""
    keys = trusted_public_keys()
    marks: Marks = {}
    rows = list(
        AuditCheckpoint.objects.using(using)
        .order_by("id")
        .values_list("id", "at", "heads", "entries", "key_fingerprint", "signature")
    )
    count = len(rows)
    rows, witnessed = _witness_checkpoints(rows, problems)
    for pk, at, heads_text, entries, fingerprint, signature in rows:
        public = keys.get(fingerprint)
        if public is None:
            problems.append(
                AuditProblem(
                    kind="checkpoint",
                    checkpoint_id=pk,
                    message=_("checkpoint #%(id)s is signed by an unknown key %(fingerprint)s")
                    % {"id": pk, "fingerprint": fingerprint[:16]},
                )
            )
            continue
        message = checkpoint_message(
            at=canonical_time(at), heads=heads_text, entries=entries, fingerprint=fingerprint
        )
        try:
            public.verify(bytes.fromhex(signature), message)
            heads = json.loads(heads_text)
        except (InvalidSignature, ValueError):
            problems.append(
                AuditProblem(
                    kind="checkpoint",
                    checkpoint_id=pk,
                    message=_("checkpoint #%(id)s has an invalid signature: it was forged or altered")
                    % {"id": pk},
                )
            )
            continue
        for chain, seq, digest in heads:
            known = marks.setdefault(chain, {}).get(seq)
            if known is None:
                marks[chain][seq] = (digest, pk)
            elif known[0] != digest:
                problems.append(
                    AuditProblem(
                        kind="checkpoint",
                        chain=chain,
                        seq=seq,
                        checkpoint_id=pk,
                        message=_(
                            "checkpoints #%(first)s and #%(second)s disagree on chain %(chain)s seq %(seq)s: "
                            "the chain was rewritten between them"
                        )
                        % {"first": known[1], "second": pk, "chain": chain, "seq": seq},
                    )
                )
    return count, marks, witnessed


class _Hasher:
    """Per row, the hash its scheme calls for: plain SHA-256 for an entry without a key id (TBA1), HMAC-SHA256
    with the named chain key otherwise (TBA2). Prefixed hash objects are copied, so a row costs one copy and one
    update; an entry naming a key that is not in the key file cannot verify (``None``)."""

    def __init__(self):
        self.bases = {None: hashlib.sha256(f"{MAGIC}{SEP}".encode())}
        for key_id, key in chain_keys().items():
            self.bases[key_id] = hmac.new(key, keyed_prefix(key_id).encode(), hashlib.sha256)

    def __call__(self, key_id, blob) -> str | None:
        base = self.bases.get(key_id)
        if base is None:
            return None
        digest = base.copy()
        digest.update(blob)
        return digest.hexdigest()


# The fast pass. Entries are read in id order, a plain sequential scan, and each chain is followed
# through them: within a chain, ids grow with seq (a writer holds the chain while it reads the head
# and inserts). The rows are split into id ranges, one per process; each reports, per chain, how
# its part starts and ends, and the parent checks that the parts join up. Any chain that does not
# pass is walked again, slowly and in seq order, by _walk_chain, which names its first bad entry.

_scan_context: dict = {}  # set before forking: the workers inherit it instead of unpickling it


@dataclass
class _ScanResult:
    # chain -> [first seq, first prev_hash, next seq, last hash]
    parts: dict = field(default_factory=dict)
    suspects: set = field(default_factory=set)
    rows: int = 0


@contextmanager
def _batches(using: str, sql: str, params: list, size: int = 10_000):
    """Stream a query's rows, ``size`` at a time, with little memory.

    PostgreSQL: a binary server-side cursor (less parsing per row than text), in a transaction, in
    id or seq order straight from the index rather than sorted. SQLite streams rows by itself, and
    a transaction there would take the write lock and stop writers for the whole read.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_sort = off")
            name = f"tongban_audit_{os.getpid()}_{threading.get_ident()}"
            with connection.connection.cursor(name=name, binary=True) as cursor:
                cursor.execute(sql, params)
                yield iter(lambda: cursor.fetchmany(size), [])
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            yield iter(lambda: cursor.fetchmany(size), [])


def _scan_range(bounds: tuple[int | None, int | None]) -> _ScanResult:
    using, marks = _scan_context["using"], _scan_context["marks"]
    low, high = bounds
    connection = connections[using]
    canonical, params = _canonical_sql(connection)
    where, where_params = [], []
    if low is not None:
        where.append("id > %s")
        where_params.append(low)
    if high is not None:
        where.append("id <= %s")
        where_params.append(high)
    sql = (
        f"SELECT chain, seq, prev_hash, hash, key_id, {canonical} FROM {AuditEntry._meta.db_table}"  # noqa: S608
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY id"
    )
    result = _ScanResult()
    parts, suspects = result.parts, result.suspects
    hasher = _Hasher()
    with _batches(using, sql, params + where_params) as batches:
        for rows in batches:
            result.rows += len(rows)
            for chain, seq, prev_hash, digest, key_id, blob in rows:
                # The hot loop: one dict lookup, a few comparisons and one hash per entry.
                state = parts.get(chain)
                if state is None:
                    state = parts[chain] = [seq, prev_hash, seq, prev_hash, marks.get(chain), False, False]
                if key_id is None:
                    state[6] = True  # a plain entry: none may follow a keyed one (a rewrite without the key)
                    if state[5]:
                        suspects.add(chain)
                        state[2] = -1
                        continue
                else:
                    state[5] = True
                try:
                    good = seq == state[2] and prev_hash == state[3] and hasher(key_id, blob) == digest
                except TypeError:  # a NULL where the canonical text should be
                    good = False
                if not good:
                    suspects.add(chain)
                    state[2] = -1  # stop following this chain: _walk_chain will
                    continue
                state[2] = seq + 1
                state[3] = digest
                if state[4] is not None:
                    mark = state[4].get(seq)
                    if mark is not None and mark[0] != digest:
                        suspects.add(chain)
                        state[2] = -1
    for chain in parts:
        parts[chain] = [*parts[chain][:4], parts[chain][5], parts[chain][6]]
    return result


def _diagnose(chain, row, expected_seq, last_hash, last_id, keyed_before=False) -> AuditProblem:
    """Name what is wrong with ``row``, the first entry of ``chain`` that failed its check."""
    entry_id, seq, prev_hash, _digest, key_id, _blob = row
    where = {"id": entry_id, "chain": chain, "seq": seq}
    if key_id is None and keyed_before:
        kind = "edited"
        message = (
            _(
                "entry id=%(id)s (chain %(chain)s, seq %(seq)s) has no key after keyed entries: the chain was "
                "rewritten from here without the chain key"
            )
            % where
        )
    elif key_id is not None and chain_key(key_id) is None:
        kind = "edited"
        message = _(
            "entry id=%(id)s (chain %(chain)s, seq %(seq)s) names chain key %(key)s, which the key file does "
            "not hold: forged, or the key file is incomplete"
        ) % {**where, "key": key_id}
    elif seq != expected_seq:
        if isinstance(seq, int) and seq > expected_seq:
            kind = "missing"
            message = _(
                "entry id=%(id)s (chain %(chain)s, seq %(seq)s): the entries before it from seq %(missing)s "
                "are missing (deleted?)"
            ) % {**where, "missing": expected_seq}
        else:
            kind = "duplicate"
            message = (
                _(
                    "entry id=%(id)s (chain %(chain)s, seq %(seq)s): sequence number out of order or repeated "
                    "(inserted entry?)"
                )
                % where
            )
    elif prev_hash != last_hash:
        kind = "unlinked"
        message = _(
            "entry id=%(id)s (chain %(chain)s, seq %(seq)s) does not link to the entry before it "
            "(id=%(previous)s): an entry was inserted, reordered or rewritten here"
        ) % {**where, "previous": last_id if last_id is not None else "-"}
    else:
        kind = "edited"
        message = (
            _("entry id=%(id)s (chain %(chain)s, seq %(seq)s) does not match its hash: it was edited") % where
        )
    return AuditProblem(kind=kind, message=message, chain=chain, seq=seq, entry_id=entry_id)


def _walk_chain(using: str, chain: int, marks: dict[int, tuple[str, int]]) -> tuple[int, AuditProblem | None]:
    """Walk one chain in ``seq`` order and return its length and its first problem, if any."""
    connection = connections[using]
    canonical, params = _canonical_sql(connection)
    where = "chain IS NULL" if chain is None else "chain = %s"  # NULL: a row taken off every chain
    sql = (
        f"SELECT id, seq, prev_hash, hash, key_id, {canonical} "  # noqa: S608
        f"FROM {AuditEntry._meta.db_table} WHERE {where} ORDER BY seq"
    )
    hasher = _Hasher()
    next_seq, last_hash, last_id, keyed = 1, GENESIS, None, False
    with _batches(using, sql, params if chain is None else [*params, chain]) as batches:
        for rows in batches:
            for row in rows:
                entry_id, seq, prev_hash, digest, key_id, blob = row
                try:
                    good = (
                        seq == next_seq
                        and prev_hash == last_hash
                        and not (key_id is None and keyed)
                        and hasher(key_id, blob) == digest
                    )
                except TypeError:
                    good = False
                if not good:
                    return next_seq - 1, _diagnose(chain, row, next_seq, last_hash, last_id, keyed)
                keyed = keyed or key_id is not None
                mark = marks.get(seq)
                if mark is not None and mark[0] != digest:
                    return seq, AuditProblem(
                        kind="checkpoint",
                        chain=chain,
                        seq=seq,
                        entry_id=entry_id,
                        checkpoint_id=mark[1],
                        message=_(
                            "entry id=%(id)s (chain %(chain)s, seq %(seq)s) differs from checkpoint "
                            "#%(checkpoint)s: the chain was rewritten from here or earlier"
                        )
                        % {"id": entry_id, "chain": chain, "seq": seq, "checkpoint": mark[1]},
                    )
                last_hash, last_id = digest, entry_id
                next_seq += 1
    length = next_seq - 1
    beyond = [seq for seq in marks if seq > length]
    if beyond:
        checkpoint = marks[max(beyond)][1]
        return length, AuditProblem(
            kind="truncated",
            chain=chain,
            seq=length + 1,
            checkpoint_id=checkpoint,
            message=_(
                "chain %(chain)s ends at seq %(last)s but checkpoint #%(checkpoint)s recorded seq %(seq)s: "
                "the entries from seq %(missing)s on were deleted"
            )
            % {
                "chain": chain,
                "last": length,
                "checkpoint": checkpoint,
                "seq": max(beyond),
                "missing": length + 1,
            },
        )
    return length, None


def _walk_chain_job(args):
    return _walk_chain(*args)


def _join(scans: list[_ScanResult], marks: Marks) -> tuple[dict[int, int], set]:
    """Join the parts each range found; return every chain's length and the chains that need a walk."""
    suspects = set().union(*(scan.suspects for scan in scans))
    ends: dict = {}  # chain -> (next seq, last hash) so far
    keyed: set = set()  # chains with a keyed entry in an earlier range
    for scan in scans:
        for chain, (first_seq, first_prev, next_seq, last_hash, has_keyed, has_plain) in scan.parts.items():
            expected = ends.get(chain, (1, GENESIS))
            if (first_seq, first_prev) != expected or not isinstance(chain, int):
                suspects.add(chain)
            if has_plain and chain in keyed:
                suspects.add(chain)
            if has_keyed:
                keyed.add(chain)
            ends[chain] = (next_seq, last_hash)
    lengths = {chain: next_seq - 1 for chain, (next_seq, _hash) in ends.items()}
    for chain, chain_marks in marks.items():
        # A checkpointed head past the end of its chain: the tail (or the whole chain) is gone.
        if max(chain_marks) > lengths.get(chain, 0):
            suspects.add(chain)
    return lengths, suspects


def _unanchored_tails(using: str, lengths: dict, marks: Marks) -> list[str]:
    """Chains whose entries past the last witnessed head are older than two checkpoint intervals: the
    checkpoint task is not running, and those entries rest on the chain key alone."""
    if witness() is None:
        return []
    limit = timezone.now() - 2 * dt.timedelta(minutes=settings.TONGBAN_AUDIT_CHECKPOINT_MINUTES)
    warnings = []
    for chain, length in sorted((c, n) for c, n in lengths.items() if isinstance(c, int)):
        anchored = max(marks.get(chain, {0: None}))
        if length <= anchored:
            continue
        first = (
            AuditEntry.objects.using(using)
            .filter(chain=chain, seq=anchored + 1)
            .values_list("at", flat=True)
            .first()
        )
        if first is not None and first < limit:
            warnings.append(
                _(
                    "chain %(chain)s: %(count)s entries from seq %(seq)s (the oldest of %(at)s) are in no witnessed "
                    "checkpoint; is the checkpoint task running?"
                )
                % {"chain": chain, "count": length - anchored, "seq": anchored + 1, "at": first.isoformat()}
            )
    return warnings


def _pool(workers: int):
    return multiprocessing.get_context("fork").Pool(workers)


def audit_verify(*, workers: int | None = None, using: str | None = None) -> AuditVerification:
    """Verify the whole log: every chain's order, links and hashes, every checkpoint's signature and
    the heads it recorded. Returns the first problem of each bad chain, naming its entry.

    ``workers`` processes share the work, each with its own database connection; by default one per
    CPU once the log is large. Inside a transaction it works in this process only, since other
    processes could not see uncommitted entries. The processes are forked: from a multi-threaded
    process (a web server) pass ``workers=1``, or run it in a task or the command.
    """
    using = using or router.db_for_read(AuditEntry)
    connection = connections[using]
    started = time.perf_counter()
    report = AuditVerification()
    report.checkpoints, marks, report.witnessed = _verify_checkpoints(using, report.problems)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {AuditEntry._meta.db_table}")  # noqa: S608
        low, high = cursor.fetchone()
    size = (high - low + 1) if low is not None else 0
    if workers is None:
        workers = (os.cpu_count() or 1) if size >= 200_000 else 1
    if workers > 1 and (connection.in_atomic_block or "fork" not in multiprocessing.get_all_start_methods()):
        workers = 1
    workers = max(1, workers)
    # Id ranges: (None, b1], (b1, b2], ..., (bn, None), so that no row can fall outside them.
    cuts = [low - 1 + size * i // workers for i in range(1, workers)] if size else []
    ranges = list(zip([None, *cuts], [*cuts, None], strict=True))

    _scan_context.update(using=using, marks=marks)
    try:
        if workers > 1:
            connections.close_all()  # no connection may be shared across fork
            with _pool(workers) as pool:
                scans = pool.map(_scan_range, ranges)
        else:
            scans = [_scan_range(bounds) for bounds in ranges]
    finally:
        _scan_context.clear()
    lengths, suspects = _join(scans, marks)

    # Walk the chains that did not pass, in seq order, to name their first bad entry.
    walks = [(using, chain, marks.get(chain, {})) for chain in sorted(suspects, key=str)]
    if len(walks) > 1 and workers > 1:
        with _pool(min(workers, len(walks))) as pool:
            walked = pool.map(_walk_chain_job, walks)
    else:
        walked = [_walk_chain_job(job) for job in walks]
    for (_using, chain, _marks), (length, problem) in zip(walks, walked, strict=True):
        lengths[chain] = length
        if problem is not None:
            report.problems.append(problem)
    report.problems.sort(
        key=lambda p: (isinstance(p.chain, int), p.chain if isinstance(p.chain, int) else 0, p.seq or 0)
    )
    report.chains = len(lengths)
    report.warnings.extend(_unanchored_tails(using, lengths, marks))
    report.entries = sum(scan.rows for scan in scans)
    report.workers = workers
    report.seconds = time.perf_counter() - started
    return report
