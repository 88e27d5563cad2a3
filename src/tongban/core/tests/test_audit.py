# ruff: noqa: S608 - tests tamper with the table through SQL built from constants
"""The audit chain: appending, the database's refusal to change it, checkpoints, and verification
that catches and names every kind of tampering."""

import base64
import io
import itertools
import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import translation

from tongban.conftest import using_postgres
from tongban.core import audit
from tongban.core.audit import (
    GENESIS,
    SYSTEM,
    Actor,
    audit_checkpoint_create,
    audit_record,
    audit_verify,
    canonical_time,
    compute_entry_hash,
    entry_hash,
    entry_message,
)
from tongban.core.audit_sql import guards_present, remove_guards
from tongban.core.models import AuditCheckpoint, AuditEntry
from tongban.core.models.audit import epoch_microseconds
from tongban.core.selectors import audit_entry_list

pytestmark = pytest.mark.django_db

CLERK = Actor(kind="staff", id="17", label="王芳", role="window_clerk", department="civil-affairs")
HANDLER = Actor(kind="staff", id="23", label="李强", role="dept_handler", department="public-security")
TABLE = AuditEntry._meta.db_table


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English; operators see them in the active language (zh-Hans first)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def signing_key(settings, tmp_path):
    """A fresh key for every test, so that no test depends on another's key file."""
    settings.TONGBAN_AUDIT_SIGNING_KEY = ""
    settings.TONGBAN_AUDIT_SIGNING_KEY_FILE = str(tmp_path / "audit-key.pem")
    audit._signing_key.cache_clear()
    yield
    audit._signing_key.cache_clear()


def record(n=1, actor=CLERK, **kwargs):
    entries = []
    for i in range(n):
        entries.append(
            audit_record(
                actor=actor,
                action=kwargs.get("action", "case.accept"),
                subject_type="case",
                subject_id=kwargs.get("subject_id", f"case-{i}"),
                case_id=kwargs.get("case_id", f"SH-{i}"),
                purpose="受理",
                details={"i": i, "名": "测试"},
            )
        )
    return entries


def one_chain(n, settings):
    """``n`` entries on one chain (a single shard), returned in seq order."""
    settings.TONGBAN_AUDIT_SHARDS = 1
    return record(n)


def execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def first_problem():
    report = audit_verify(workers=1)
    assert not report.ok
    return report.problems[0]


# --- appending -------------------------------------------------------------------------------------


def test_an_entry_records_who_did_what_on_which_subject_and_is_chained_from_genesis(settings):
    (entry,) = one_chain(1, settings)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.chain, stored.seq, stored.prev_hash) == (0, 1, GENESIS)
    assert stored.actor_label == "王芳"
    assert (stored.actor_role, stored.actor_department) == ("window_clerk", "civil-affairs")
    assert (stored.action, stored.subject_type, stored.subject_id, stored.case_id) == (
        "case.accept",
        "case",
        "case-0",
        "SH-0",
    )
    assert stored.details == '{"i":0,"名":"测试"}'  # canonical: sorted keys, no spaces, not escaped
    assert stored.details_data == {"i": 0, "名": "测试"}
    assert stored.hash == entry.hash == compute_entry_hash(stored)


def test_entries_of_a_chain_count_up_and_link_to_the_previous_one(settings):
    entries = one_chain(4, settings)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash


def test_entries_of_one_transaction_stay_on_one_chain():
    with transaction.atomic():
        entries = record(5)
    assert len({e.chain for e in entries}) == 1


def test_the_returned_entry_is_the_stored_row():
    (entry,) = record(1)
    assert (entry._state.adding, entry._state.db) == (False, "default")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert entry == stored
    for field in AuditEntry._meta.concrete_fields:
        assert getattr(entry, field.attname) == getattr(stored, field.attname), field.name


def test_the_insert_follows_the_model_field_order():
    assert [f.name for f in AuditEntry._meta.concrete_fields] == ["id", *audit._INSERT_FIELDS]


def test_an_entry_rolled_back_with_its_transaction_leaves_the_chain_intact(settings):
    one_chain(2, settings)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(1)
        raise RuntimeError("the service failed")
    entries = one_chain(1, settings)
    assert entries[0].seq == 3
    assert audit_verify().ok


def test_the_python_and_the_database_build_the_same_canonical_text(settings):
    """The hash is computed in Python on append and over SQL-built text on verify: they must agree."""
    settings.TONGBAN_AUDIT_SHARDS = 1
    awkward = [
        datetime(2026, 2, 17, 0, 0, 0, 0, tzinfo=UTC),  # no fraction at all
        datetime(2026, 2, 17, 8, 30, 1, 120000, tzinfo=UTC),
        datetime(2026, 10, 1, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    for at in awkward:
        audit._append(
            using="default",
            at=at,
            values={
                "actor_kind": "citizen",
                "actor_id": "310104199001011234",
                "actor_label": "Zoë 张 ' \" % \\ \n",
                "action": "data.read",
                "purpose": "",
                "details": audit.canonical_json({"a": [1, 2.5, None, True], "b": "％%s"}),
            },
        )
    sql, params = audit._canonical_sql(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {sql} FROM {TABLE} ORDER BY id", params)
        from_sql = dict(cursor.fetchall())
    for entry in AuditEntry.objects.all():
        expected = entry_message(
            prev_hash=entry.prev_hash,
            chain=entry.chain,
            seq=entry.seq,
            at=canonical_time(entry.at),
            texts=[getattr(entry, name) for name in audit.HASHED_TEXT_FIELDS],
        )
        # The database builds the text after the scheme; the verifier prepends TBA1 or TBA2 and the key id.
        assert bytes(from_sql[entry.pk]) == expected.encode().removeprefix(b"TBA1\x1f")
        assert audit.compute_entry_hash(entry) == entry.hash


def test_the_field_separator_cannot_be_smuggled_into_a_field():
    (entry,) = [audit_record(actor=Actor(kind="citizen", id="1", label="a\x1fb"), action="login")]
    assert entry.actor_label == "a\u241fb"


def test_long_free_text_is_shortened_but_a_long_identifier_is_refused():
    entry = audit_record(actor=CLERK, action="case.accept", purpose="很" * 600)
    assert len(entry.purpose) == 500 and entry.purpose.endswith("…")
    with pytest.raises(ValueError, match="subject_id"):
        audit_record(actor=CLERK, action="case.accept", subject_id="x" * 101)


def test_an_unknown_actor_kind_or_a_missing_action_is_refused():
    with pytest.raises(ValueError, match="actor kind"):
        audit_record(actor=Actor(kind="robot", id="1", label="r2"), action="x")
    with pytest.raises(ValueError, match="action"):
        audit_record(actor=SYSTEM, action="")


def test_details_with_dates_uuids_and_decimals_are_stored_as_canonical_json():
    import decimal
    import uuid

    entry = audit_record(
        actor=SYSTEM,
        action="fee.charged",
        details={
            "z": decimal.Decimal("12.50"),
            "a": uuid.UUID(int=1),
            "on": datetime(2026, 1, 2, tzinfo=UTC),
        },
    )
    assert entry.details == (
        '{"a":"00000000-0000-0000-0000-000000000001","on":"2026-01-02T00:00:00Z","z":"12.50"}'
    )


# --- the database refuses changes ------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["UPDATE {table} SET action = 'x'", "DELETE FROM {table}"])
@pytest.mark.parametrize("table", ["core_auditentry", "core_auditcheckpoint"])
def test_the_database_refuses_update_and_delete_through_raw_sql(statement, table):
    record(2)
    audit_checkpoint_create()
    if table == "core_auditcheckpoint":
        statement = statement.replace("action", "signature")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute(statement.format(table=table))
    assert AuditEntry.objects.count() == 2
    assert AuditCheckpoint.objects.count() == 1


def test_the_orm_cannot_change_or_delete_an_entry_either():
    (entry,) = record(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).actor_label == "王芳"


def test_the_triggers_are_installed_by_the_migrations():
    assert guards_present(connection)


# --- verification catches tampering ----------------------------------------------------------------


@pytest.fixture
def tamper():
    """Drop the triggers, as someone editing the database by hand would (undone with the test)."""
    remove_guards(connection)
    assert not guards_present(connection)


def test_an_intact_log_verifies():
    record(20)
    audit_checkpoint_create()
    record(3)
    report = audit_verify()
    assert report.ok, report.problems
    assert (report.entries, report.checkpoints) == (23, 1)


def test_an_empty_log_verifies():
    report = audit_verify()
    assert report.ok and report.entries == 0


def test_an_edited_entry_is_named(settings, tamper):
    entries = one_chain(5, settings)
    execute(f"UPDATE {TABLE} SET actor_label = 'someone else' WHERE id = %s", [entries[2].pk])
    problem = first_problem()
    assert (problem.kind, problem.entry_id, problem.chain, problem.seq) == ("edited", entries[2].pk, 0, 3)
    assert f"id={entries[2].pk}" in problem.message and "chain 0" in problem.message


@pytest.mark.parametrize(
    "column, value",
    [("details", '{"i":99}'), ("at", None), ("case_id", "SH-other"), ("chain", 5), ("hash", "0" * 64)],
)
def test_any_edited_column_is_caught(settings, tamper, column, value):
    entries = one_chain(3, settings)
    if column == "at":
        AuditEntry.objects.filter(pk=entries[1].pk).update(at=datetime(2020, 1, 1, tzinfo=UTC))
    else:
        execute(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, entries[1].pk])
    assert not audit_verify().ok


def test_a_deleted_entry_is_named_by_the_entry_after_the_gap(settings, tamper):
    entries = one_chain(5, settings)
    execute(f"DELETE FROM {TABLE} WHERE id = %s", [entries[1].pk])
    problem = first_problem()
    assert (problem.kind, problem.entry_id, problem.seq) == ("missing", entries[2].pk, 3)
    assert "seq 2" in problem.message


def test_the_deleted_first_entry_is_caught(settings, tamper):
    entries = one_chain(3, settings)
    execute(f"DELETE FROM {TABLE} WHERE id = %s", [entries[0].pk])
    assert first_problem().kind == "missing"


def test_an_inserted_entry_with_a_valid_plain_hash_is_named(settings, tamper):
    """The forger renumbers the later entries and inserts an entry in the gap, hashed with the published plain
    scheme (the chain key is out of reach): a plain entry after keyed ones is a rewrite, named."""
    entries = one_chain(4, settings)
    for entry in reversed(entries[2:]):
        execute(f"UPDATE {TABLE} SET seq = seq + 1 WHERE id = %s", [entry.pk])
    forged_at = entries[1].at
    texts = [getattr(entries[1], name) for name in audit.HASHED_TEXT_FIELDS]
    texts[2] = "nobody"  # actor_label
    digest = entry_hash(
        entry_message(prev_hash=entries[1].hash, chain=0, seq=3, at=canonical_time(forged_at), texts=texts)
    )
    columns = ", ".join(audit._INSERT_FIELDS)
    execute(
        f"INSERT INTO {TABLE} ({columns}) VALUES ({', '.join(['%s'] * len(audit._INSERT_FIELDS))})",
        [0, 3, epoch_microseconds(forged_at), *texts, entries[1].hash, digest, None],
    )
    forged = AuditEntry.objects.get(chain=0, seq=3)
    problem = first_problem()
    assert (problem.kind, problem.entry_id, problem.seq) == ("edited", forged.pk, 3)
    assert "without the chain key" in problem.message


def test_an_entry_appended_with_a_wrong_hash_is_named(settings, tamper):
    entries = one_chain(2, settings)
    texts = [getattr(entries[1], name) for name in audit.HASHED_TEXT_FIELDS]
    execute(
        f"INSERT INTO {TABLE} ({', '.join(audit._INSERT_FIELDS)}) "
        f"VALUES ({', '.join(['%s'] * len(audit._INSERT_FIELDS))})",
        [0, 3, epoch_microseconds(entries[1].at), *texts, entries[1].hash, "f" * 64, entries[1].key_id],
    )
    problem = first_problem()
    assert (problem.kind, problem.seq) == ("edited", 3)


def test_reordered_entries_are_named(settings, tamper):
    entries = one_chain(5, settings)
    # Swap the seq of entries 2 and 3 (through a free number, past the unique constraint).
    execute(f"UPDATE {TABLE} SET seq = 99 WHERE id = %s", [entries[1].pk])
    execute(f"UPDATE {TABLE} SET seq = 2 WHERE id = %s", [entries[2].pk])
    execute(f"UPDATE {TABLE} SET seq = 3 WHERE id = %s", [entries[1].pk])
    problem = first_problem()
    assert (problem.entry_id, problem.chain, problem.seq) == (entries[2].pk, 0, 2)
    assert problem.kind == "unlinked"


@pytest.mark.postgres
def test_a_duplicated_entry_is_caught_when_the_unique_constraint_is_gone_too(settings, tamper):
    if not using_postgres():
        pytest.skip("needs PostgreSQL: SQLite cannot drop a table's unique constraint")
    entries = one_chain(3, settings)
    execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT core_audit_chain_seq_unique")
    texts = [getattr(entries[1], name) for name in audit.HASHED_TEXT_FIELDS]
    execute(
        f"INSERT INTO {TABLE} ({', '.join(audit._INSERT_FIELDS)}) "
        f"VALUES ({', '.join(['%s'] * len(audit._INSERT_FIELDS))})",
        [
            0,
            2,
            epoch_microseconds(entries[1].at),
            *texts,
            entries[1].prev_hash,
            entries[1].hash,
            entries[1].key_id,
        ],
    )
    problem = first_problem()
    assert (problem.kind, problem.chain, problem.seq) == ("duplicate", 0, 2)


@pytest.mark.postgres
def test_an_entry_taken_off_its_chain_is_caught(settings, tamper):
    if not using_postgres():
        pytest.skip("needs PostgreSQL: SQLite cannot drop a NOT NULL constraint")
    entries = one_chain(3, settings)
    execute(f"ALTER TABLE {TABLE} ALTER COLUMN chain DROP NOT NULL")
    execute(f"UPDATE {TABLE} SET chain = NULL WHERE id = %s", [entries[2].pk])
    problems = audit_verify().problems
    assert {(p.chain, p.entry_id) for p in problems} == {(None, entries[2].pk)}


def test_a_truncated_tail_is_caught_against_the_checkpoint(settings, tamper):
    entries = one_chain(6, settings)
    checkpoint = audit_checkpoint_create()
    execute(f"DELETE FROM {TABLE} WHERE seq > 4")
    problem = first_problem()
    assert (problem.kind, problem.chain, problem.seq, problem.checkpoint_id) == (
        "truncated",
        0,
        5,
        checkpoint.pk,
    )
    assert "seq 4" in problem.message and "seq 6" in problem.message
    assert entries  # the chain itself is consistent: only the checkpoint shows the loss


def test_a_chain_deleted_entirely_is_caught_against_the_checkpoint(settings, tamper):
    one_chain(3, settings)
    audit_checkpoint_create()
    execute(f"DELETE FROM {TABLE}")
    assert first_problem().kind == "truncated"


def test_a_chain_rewritten_with_recomputed_hashes_is_caught_against_the_checkpoint(settings, tamper):
    entries = one_chain(4, settings)
    checkpoint = audit_checkpoint_create()
    # Rewrite entry 2 and re-hash it and everything after, as a careful forger would.
    prev_hash = entries[0].hash
    for entry in entries[1:]:
        entry.refresh_from_db()
        if entry.seq == 2:
            entry.actor_label = "nobody"
        entry.prev_hash = prev_hash
        entry.hash = compute_entry_hash(entry)
        execute(
            f"UPDATE {TABLE} SET actor_label = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [entry.actor_label, entry.prev_hash, entry.hash, entry.pk],
        )
        prev_hash = entry.hash
    problem = first_problem()
    assert (problem.kind, problem.seq, problem.checkpoint_id) == ("checkpoint", 4, checkpoint.pk)


def test_a_forged_checkpoint_signature_is_caught(tamper, settings):
    settings.TONGBAN_AUDIT_WITNESS = "none"  # the signature on its own (the witness would also catch it)
    record(3)
    checkpoint = audit_checkpoint_create()
    execute("UPDATE core_auditcheckpoint SET signature = %s WHERE id = %s", ["00" * 64, checkpoint.pk])
    problem = first_problem()
    assert (problem.kind, problem.checkpoint_id) == ("checkpoint", checkpoint.pk)
    assert "invalid signature" in problem.message


def test_a_checkpoint_with_edited_heads_is_caught(tamper, settings):
    """Lowering a head to hide a truncation breaks the signature."""
    settings.TONGBAN_AUDIT_WITNESS = "none"
    record(3)
    checkpoint = audit_checkpoint_create()
    heads = json.loads(checkpoint.heads)
    heads[0][1] -= 1
    execute(
        "UPDATE core_auditcheckpoint SET heads = %s WHERE id = %s",
        [audit.canonical_json(heads), checkpoint.pk],
    )
    assert "invalid signature" in first_problem().message


def test_a_checkpoint_signed_by_another_key_is_caught(settings):
    record(2)
    audit_checkpoint_create()
    settings.TONGBAN_AUDIT_SIGNING_KEY = audit.generate_signing_key()[0]
    assert "unknown key" in first_problem().message


def test_a_retired_key_still_trusted_verifies_its_checkpoints(settings):
    record(2)
    old = audit_checkpoint_create()
    old_public = base64.b64encode(audit.public_key_bytes(audit.signing_key())).decode()
    settings.TONGBAN_AUDIT_SIGNING_KEY = audit.generate_signing_key()[0]
    settings.TONGBAN_AUDIT_TRUSTED_KEYS = [old_public]
    record(1)
    new = audit_checkpoint_create()
    assert old.key_fingerprint != new.key_fingerprint
    assert audit_verify().ok


def test_verification_reports_the_first_problem_of_every_bad_chain(settings, tamper):
    settings.TONGBAN_AUDIT_SHARDS = 2
    # Pin writers to a chain each, as two processes would be.
    audit._local.preferred = {"default": 0}
    first = record(3)
    audit._local.preferred = {"default": 1}
    second = record(3)
    execute(
        f"UPDATE {TABLE} SET action = 'x' WHERE id IN (%s, %s, %s)", [first[1].pk, first[2].pk, second[0].pk]
    )
    problems = audit_verify().problems
    assert [(p.chain, p.seq) for p in problems] == [(0, 2), (1, 1)]


# --- checkpoints and the signing key ---------------------------------------------------------------


def test_a_checkpoint_signs_the_heads_of_all_chains(settings):
    settings.TONGBAN_AUDIT_SHARDS = 3
    for chain in range(3):
        audit._local.preferred = {"default": chain}
        record(chain + 1)
    checkpoint = audit_checkpoint_create()
    heads = checkpoint.heads_data
    assert [(c, s) for c, s, _h in heads] == [(0, 1), (1, 2), (2, 3)]
    assert checkpoint.entries == 6
    for chain, seq, digest in heads:
        assert AuditEntry.objects.get(chain=chain, seq=seq).hash == digest
    public = audit.signing_key().public_key()
    public.verify(
        bytes.fromhex(checkpoint.signature),
        audit.checkpoint_message(
            at=canonical_time(checkpoint.at),
            heads=checkpoint.heads,
            entries=checkpoint.entries,
            fingerprint=checkpoint.key_fingerprint,
        ),
    )


def test_no_checkpoint_is_made_for_an_empty_or_unchanged_log_unless_forced():
    assert audit_checkpoint_create() is None
    record(1)
    assert audit_checkpoint_create() is not None
    assert audit_checkpoint_create() is None
    assert audit_checkpoint_create(force=True) is not None
    record(1)
    assert audit_checkpoint_create() is not None


def test_the_periodic_task_makes_a_checkpoint():
    from tongban.core.tasks import audit_checkpoint

    record(2)
    audit_checkpoint.call_local()
    assert AuditCheckpoint.objects.count() == 1


def test_the_demo_key_file_is_made_on_first_use_readable_by_the_owner_only(settings):
    path = settings.TONGBAN_AUDIT_SIGNING_KEY_FILE
    assert not os.path.exists(path)
    key = audit.signing_key()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    audit._signing_key.cache_clear()
    assert audit.key_fingerprint(audit.signing_key()) == audit.key_fingerprint(key)


def test_the_key_may_be_given_as_base64_or_pem(settings):
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    for text in (base64.b64encode(raw).decode(), pem):
        settings.TONGBAN_AUDIT_SIGNING_KEY = text
        assert audit.key_fingerprint(audit.signing_key()) == audit.key_fingerprint(key)
    assert not os.path.exists(settings.TONGBAN_AUDIT_SIGNING_KEY_FILE)


@pytest.mark.parametrize(
    "text",
    [
        "not a key!",
        base64.b64encode(b"short").decode(),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ],
)
def test_a_malformed_key_is_a_configuration_error(settings, text):
    from django.core.exceptions import ImproperlyConfigured

    settings.TONGBAN_AUDIT_SIGNING_KEY = text
    with pytest.raises(ImproperlyConfigured):
        audit.signing_key()


# --- the command -----------------------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue()


def test_audit_verify_says_an_intact_log_is_intact():
    record(3)
    assert "intact" in run("verify")


def test_audit_verify_fails_naming_the_edited_entry(settings, tamper):
    entries = one_chain(3, settings)
    execute(f"UPDATE {TABLE} SET purpose = 'other' WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match=f"id={entries[1].pk} \\(chain 0, seq 2\\)") as failure:
        run("verify")
    assert failure.value.returncode == 1


def test_audit_checkpoint_signs_now_and_prints_a_copy():
    record(2)
    output = run("checkpoint")
    copy = json.loads(output.strip().splitlines()[-1])
    assert copy["id"] == AuditCheckpoint.objects.get().pk
    assert copy["entries"] == 2
    assert "No checkpoint" in run("checkpoint")


def test_audit_keygen_prints_a_usable_key(settings):
    output = run("keygen")
    line = next(line for line in output.splitlines() if line.startswith("TONGBAN_AUDIT_SIGNING_KEY="))
    settings.TONGBAN_AUDIT_SIGNING_KEY = line.split("=", 1)[1]
    assert len(base64.b64decode(settings.TONGBAN_AUDIT_SIGNING_KEY)) == 32
    assert audit.key_fingerprint(audit.signing_key()) in output


# --- selector and admin ----------------------------------------------------------------------------


def test_audit_entry_list_filters_by_actor_department_subject_and_case():
    record(2, actor=CLERK, subject_id="p-1", case_id="SH-1")
    record(3, actor=HANDLER, subject_id="p-2", case_id="SH-2")
    assert len(audit_entry_list(limit=None)) == 5
    assert {e.actor_id for e in audit_entry_list(department="public-security")} == {"23"}
    assert {e.actor_id for e in audit_entry_list(actor=CLERK)} == {"17"}
    assert len(audit_entry_list(subject=("case", "p-2"))) == 3
    assert len(audit_entry_list(case_id="SH-1")) == 2
    assert len(audit_entry_list(limit=4)) == 4


def test_audit_entry_list_is_newest_first():
    entries = record(3)
    assert [e.pk for e in audit_entry_list()] == [e.pk for e in reversed(entries)]


@pytest.fixture
def admin_client(client, admin_user):
    """An administrator logged in with a verified second factor, as the admin site requires."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(admin_user)
    device = TOTPDevice.objects.create(user=admin_user, name="default", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_the_admin_shows_the_log_but_cannot_change_it(admin_client):
    (entry,) = record(1)
    audit_checkpoint_create()
    assert admin_client.get("/admin/core/auditentry/").status_code == 200
    assert admin_client.get(f"/admin/core/auditentry/{entry.pk}/change/").status_code == 200
    assert admin_client.get("/admin/core/auditentry/?q=civil-affairs").status_code == 200
    assert admin_client.get("/admin/core/auditcheckpoint/").status_code == 200
    assert admin_client.get("/admin/core/auditentry/add/").status_code == 403
    assert admin_client.get(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    response = admin_client.post(f"/admin/core/auditentry/{entry.pk}/change/", {"actor_label": "x"})
    assert response.status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).actor_label == "王芳"


def test_the_log_has_no_add_change_or_delete_permissions():
    from django.contrib.auth.models import Permission

    codenames = set(
        Permission.objects.filter(content_type__app_label="core", codename__contains="audit").values_list(
            "codename", flat=True
        )
    )
    assert codenames == {"view_auditentry", "view_auditcheckpoint"}


# --- several processes -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_parallel_verification_names_the_bad_entries_even_across_its_split(settings):
    settings.TONGBAN_AUDIT_SHARDS = 4
    for _round in range(30):
        for chain in range(4):  # interleaved, so that every chain runs through both halves of the table
            audit._local.preferred = {"default": chain}
            record(1)
    audit_checkpoint_create()
    assert audit_verify(workers=2).ok
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    cut = ids[0] - 1 + len(ids) // 2  # where the two processes split the table
    edited = AuditEntry.objects.get(chain=2, seq=17)
    # The first entry of chain 1 in the second half: only joining the halves shows it is gone.
    deleted = AuditEntry.objects.filter(chain=1, id__gt=cut).order_by("id").first()
    with transaction.atomic():
        remove_guards(connection)  # the flush after this test puts them back
        execute(f"UPDATE {TABLE} SET subject_id = 'other' WHERE id = %s", [edited.pk])
        execute(f"DELETE FROM {TABLE} WHERE id = %s", [deleted.pk])
    report = audit_verify(workers=2)
    assert report.workers == 2
    assert [(p.kind, p.chain, p.seq) for p in report.problems] == [
        ("missing", 1, deleted.seq + 1),
        ("edited", 2, 17),
    ]
    assert report.entries == 119


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_log_and_keeps_the_triggers():
    record(3)
    audit_checkpoint_create()
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert AuditCheckpoint.objects.count() == 0
    assert guards_present(connection)


def _hold_a_chain(ready, release, chains):
    with transaction.atomic():
        chains.put(record(1)[0].chain)
        ready.set()
        release.wait(30)
    connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_postgresql_take_different_chains_and_the_log_verifies(settings):
    if not using_postgres():
        pytest.skip("needs PostgreSQL: on SQLite the database serialises writers on one lock")
    settings.TONGBAN_AUDIT_SHARDS = 4
    connections.close_all()
    context = multiprocessing.get_context("fork")
    ready, release, chains = context.Event(), context.Event(), context.Queue()
    holder = context.Process(target=_hold_a_chain, args=(ready, release, chains))
    holder.start()
    try:
        assert ready.wait(30)
        held = chains.get(timeout=30)
        # The holder's transaction is open and holds its chain: this writer must take another one,
        # even when it prefers the held chain.
        audit._local.preferred = {"default": held}
        mine = record(3)
        assert {e.chain for e in mine} == {(held + 1) % 4}
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0
    assert AuditEntry.objects.count() == 4
    assert audit_verify(workers=2).ok


def test_processes_making_the_key_file_at_once_all_read_one_whole_key(tmp_path):
    # Each process writes the key whole under its own name and links it: none reads a file half written (one
    # once read it empty while another was writing it), and all end with the same key.
    import multiprocessing

    path = tmp_path / "keys" / "audit-signing-key.pem"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        fingerprints = pool.map(_key_file_fingerprint, [str(path)] * 8)
    assert len(set(fingerprints)) == 1
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def _key_file_fingerprint(path: str) -> str:
    from pathlib import Path

    return audit.key_fingerprint(audit._key_file(Path(path)))
