# ruff: noqa: S608 - tests tamper with the tables through SQL built from constants
"""The audit trail anchored outside the database: the attacks of issue 13, each by someone with full access to
the database but not to the chain key file or the witness, each caught and named by ``audit verify``."""

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.db import connection
from django.utils import timezone, translation

from tongban.core import audit
from tongban.core.audit import (
    Actor,
    audit_checkpoint_create,
    audit_record,
    audit_verify,
    canonical_time,
    entry_hash,
    entry_message,
)
from tongban.core.audit_keys import chain_keys, current_chain_key, rotate_chain_key
from tongban.core.audit_sql import remove_guards
from tongban.core.audit_witness import DirectoryWitness, WitnessError
from tongban.core.models import AuditCheckpoint, AuditEntry
from tongban.core.models.audit import epoch_microseconds

pytestmark = pytest.mark.django_db

CLERK = Actor(kind="staff", id="17", label="王芳", role="window_clerk", department="civil-affairs")
TABLE = AuditEntry._meta.db_table


@pytest.fixture(autouse=True)
def setup(settings, tmp_path):
    settings.TONGBAN_AUDIT_SHARDS = 1
    settings.TONGBAN_AUDIT_SIGNING_KEY = ""
    settings.TONGBAN_AUDIT_SIGNING_KEY_FILE = str(tmp_path / "signing.pem")
    settings.TONGBAN_AUDIT_CHAIN_KEY_FILE = str(tmp_path / "keys" / "audit-chain.keys")
    audit._signing_key.cache_clear()
    with translation.override("en"):
        yield
    audit._signing_key.cache_clear()


@pytest.fixture
def tamper():
    """Drop the triggers, as someone with the database's owner rights would."""
    remove_guards(connection)


def record(n):
    return [
        audit_record(
            actor=CLERK, action="case.accept", subject_type="case", subject_id=f"c{i}", details={"i": i}
        )
        for i in range(n)
    ]


def execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def problems():
    report = audit_verify(workers=1)
    assert not report.ok
    return report.problems


def rechain_plain(from_seq, edit=None):
    """Rewrite chain 0 from ``from_seq`` with the published algorithm (plain SHA-256), editing one entry."""
    entries = list(AuditEntry.objects.filter(chain=0).order_by("seq"))
    prev = entries[from_seq - 2].hash if from_seq > 1 else audit.GENESIS
    for entry in entries[from_seq - 1 :]:
        if edit and entry.seq == edit:
            entry.actor_label = "nobody"
        texts = [getattr(entry, name) for name in audit.HASHED_TEXT_FIELDS]
        digest = entry_hash(
            entry_message(prev_hash=prev, chain=0, seq=entry.seq, at=canonical_time(entry.at), texts=texts)
        )
        execute(
            f"UPDATE {TABLE} SET actor_label = %s, prev_hash = %s, hash = %s, key_id = NULL WHERE id = %s",
            [entry.actor_label, prev, digest, entry.pk],
        )
        prev = digest


def test_a_rewrite_with_recomputed_hashes_and_no_checkpoints_left_is_caught_and_the_edit_named(tamper):
    """The outside test's first attack: triggers dropped, an entry edited, the rest re-hashed with the published
    algorithm, every checkpoint row deleted. Verify names the edited entry and the deleted checkpoints."""
    entries = record(6)
    first = audit_checkpoint_create()
    record(2)
    second = audit_checkpoint_create()
    rechain_plain(3, edit=3)
    execute("DELETE FROM core_auditcheckpoint")
    found = problems()
    messages = " | ".join(p.message for p in found)
    assert f"checkpoint #{first.pk} is in the witness but not in the database" in messages
    assert f"checkpoint #{second.pk} is in the witness but not in the database" in messages
    edited = next(p for p in found if p.entry_id is not None)
    assert (edited.entry_id, edited.seq) == (entries[2].pk, 3)
    assert "without the chain key" in edited.message


def test_a_rewrite_after_the_last_checkpoint_is_caught_and_named(tamper):
    record(3)
    audit_checkpoint_create()
    later = record(3)
    rechain_plain(5, edit=5)
    (problem,) = problems()
    assert (problem.entry_id, problem.seq) == (later[1].pk, 5)


def test_a_rewrite_with_a_key_of_the_attackers_own_is_caught_at_the_edited_entry(tamper):
    entries = record(4)
    key_id = entries[0].key_id
    forged_key = b"k" * 32
    entry = AuditEntry.objects.get(pk=entries[1].pk)
    texts = [getattr(entry, name) for name in audit.HASHED_TEXT_FIELDS]
    texts[2] = "nobody"
    message = audit.keyed_message(
        key_id=key_id, prev_hash=entry.prev_hash, chain=0, seq=2, at=canonical_time(entry.at), texts=texts
    )
    execute(
        f"UPDATE {TABLE} SET actor_label = 'nobody', hash = %s WHERE id = %s",
        [hmac.new(forged_key, message.encode(), hashlib.sha256).hexdigest(), entry.pk],
    )
    (problem,) = problems()
    assert (problem.kind, problem.entry_id) == ("edited", entry.pk)


def test_an_entry_appended_at_the_head_with_the_published_hash_is_named(tamper):
    entries = record(2)
    head = entries[-1]
    texts = [getattr(head, name) for name in audit.HASHED_TEXT_FIELDS]
    texts[5] = "case.approve"  # action
    digest = entry_hash(
        entry_message(prev_hash=head.hash, chain=0, seq=3, at=canonical_time(head.at), texts=texts)
    )
    execute(
        f"INSERT INTO {TABLE} ({', '.join(audit._INSERT_FIELDS)}) "
        f"VALUES ({', '.join(['%s'] * len(audit._INSERT_FIELDS))})",
        [0, 3, epoch_microseconds(head.at), *texts, head.hash, digest, None],
    )
    (problem,) = problems()
    assert problem.seq == 3 and "without the chain key" in problem.message


def test_the_deleted_last_entry_of_a_chain_is_caught_by_the_witness(tamper):
    entries = record(3)
    checkpoint = audit_checkpoint_create()
    execute("DELETE FROM core_auditcheckpoint")
    execute(f"DELETE FROM {TABLE} WHERE id = %s", [entries[-1].pk])
    found = problems()
    truncated = next(p for p in found if p.kind == "truncated")
    assert truncated.seq == 3 and truncated.checkpoint_id == checkpoint.pk


def test_checkpoints_re_signed_with_the_key_beside_the_database_are_caught(tamper, settings):
    """The attacker rewrites the chain, deletes the checkpoints and signs new ones with the signing key they
    found: the witness holds the real ones."""
    record(4)
    real = audit_checkpoint_create()
    rechain_plain(2, edit=2)
    execute("DELETE FROM core_auditcheckpoint")
    settings.TONGBAN_AUDIT_WITNESS = "none"  # the attacker's own checkpoint goes to no witness
    forged = audit_checkpoint_create(force=True)
    settings.TONGBAN_AUDIT_WITNESS = "tongban.core.audit_witness.DirectoryWitness"
    messages = " | ".join(p.message for p in problems())
    assert f"checkpoint #{forged.pk} is not in the witness" in messages
    assert f"checkpoint #{real.pk} is in the witness but not in the database" in messages


def test_a_checkpoint_row_re_signed_in_place_differs_from_the_witness(tamper):
    record(2)
    checkpoint = audit_checkpoint_create()
    record(1)
    heads = audit.canonical_json([[0, 3, AuditEntry.objects.get(seq=3).hash]])
    execute("UPDATE core_auditcheckpoint SET heads = %s WHERE id = %s", [heads, checkpoint.pk])
    messages = " | ".join(p.message for p in problems())
    assert f"checkpoint #{checkpoint.pk} differs from the witness" in messages


def test_a_line_removed_from_the_witness_is_noticed(settings):
    record(1)
    audit_checkpoint_create()
    record(1)
    audit_checkpoint_create()
    record(1)
    audit_checkpoint_create()
    (path,) = DirectoryWitness().directory.glob("checkpoints-*.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + lines[2])
    messages = " | ".join(p.message for p in problems())
    assert "the witness is damaged" in messages


def test_an_intact_log_with_its_witness_verifies_and_counts_the_witnessed_checkpoints():
    record(3)
    audit_checkpoint_create()
    record(2)
    audit_checkpoint_create()
    report = audit_verify(workers=1)
    assert report.ok, report.problems
    assert (report.checkpoints, report.witnessed, report.warnings) == (2, 2, [])


def test_a_checkpoint_is_not_made_when_the_witness_cannot_be_written(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.TONGBAN_AUDIT_WITNESS_DIR = str(blocker / "witness")
    record(1)
    with pytest.raises(WitnessError):
        audit_checkpoint_create()
    assert AuditCheckpoint.objects.count() == 0


def test_an_unanchored_tail_older_than_two_intervals_is_reported(settings):
    record(2)
    audit_checkpoint_create()
    old = timezone.now() - dt.timedelta(minutes=3 * settings.TONGBAN_AUDIT_CHECKPOINT_MINUTES)
    audit._append(
        using="default",
        at=old,
        values={"actor_kind": "system", "actor_id": "x", "actor_label": "x", "action": "late"},
    )
    report = audit_verify(workers=1)
    assert report.ok
    (warning,) = report.warnings
    assert "chain 0: 1 entries from seq 3" in warning


def test_entries_stay_verifiable_across_a_key_rotation():
    before = record(2)
    old_key = current_chain_key()[0]
    new_key = rotate_chain_key()
    after = record(2)
    assert {e.key_id for e in before} == {old_key} and {e.key_id for e in after} == {new_key}
    assert set(chain_keys()) == {old_key, new_key}
    assert audit_verify(workers=1).ok


def test_entries_of_the_plain_scheme_from_before_the_upgrade_still_verify(tamper):
    """Rows written before chain keys (key_id NULL, plain SHA-256) verify as before, and keyed entries follow."""
    prev = audit.GENESIS
    at = timezone.now()
    for seq in (1, 2):
        texts = ["system", "system", "system", "", "", "old.action", "", "", "", "", "", "{}"]
        digest = entry_hash(
            entry_message(prev_hash=prev, chain=0, seq=seq, at=canonical_time(at), texts=texts)
        )
        execute(
            f"INSERT INTO {TABLE} ({', '.join(audit._INSERT_FIELDS)}) "
            f"VALUES ({', '.join(['%s'] * len(audit._INSERT_FIELDS))})",
            [0, seq, epoch_microseconds(at), *texts, prev, digest, None],
        )
        prev = digest
    record(2)
    assert list(AuditEntry.objects.order_by("seq").values_list("key_id", flat=True))[:2] == [None, None]
    report = audit_verify(workers=1)
    assert report.ok, report.problems


def test_the_key_file_is_created_outside_the_database_with_owner_only_access(settings, tmp_path):
    record(1)
    path = tmp_path / "keys" / "audit-chain.keys"
    assert path.stat().st_mode & 0o777 == 0o600
    key_id, encoded = path.read_text().split()
    assert len(base64.b64decode(encoded)) == 32
    assert AuditEntry.objects.get().key_id == key_id
    assert encoded not in json.dumps(list(AuditEntry.objects.values()), default=str)
