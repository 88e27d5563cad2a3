"""Appending many audit entries at once (bulk loads): the chain stays one chain that verifies."""

import datetime as dt

import pytest

from tongban.core.audit import SYSTEM, audit_record, audit_record_batch, audit_verify, canonical_json
from tongban.core.models import AuditEntry

AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _rows(n, action="case.submitted"):
    return [
        (AT + dt.timedelta(seconds=i), "citizen", f"p{i}", f"某人{i}", "", "", action, "case", f"c{i}", f"c{i}", "", "",
         canonical_json({"n": i}))
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_batch_continues_a_chain_and_the_log_verifies():
    first = audit_record(actor=SYSTEM, action="demo.seed")
    written = audit_record_batch(_rows(7), chain=first.chain)
    after = audit_record(actor=SYSTEM, action="demo.after")
    entries = list(AuditEntry.objects.filter(chain=first.chain).order_by("seq"))
    assert written == 7
    assert [e.seq for e in entries][:9] == list(range(1, 10))
    assert entries[1].prev_hash == first.hash and entries[7].action == "case.submitted"
    assert after.chain != first.chain or after.prev_hash == entries[7].hash
    assert entries[1].at == AT  # the time given, not the time written
    assert audit_verify(workers=1).ok


@pytest.mark.django_db
def test_a_batch_refuses_an_unknown_actor_kind_and_an_empty_action():
    with pytest.raises(ValueError, match="actor kind"):
        audit_record_batch([(AT, "robot", "x", "x", "", "", "a", "", "", "", "", "", "{}")])
    with pytest.raises(ValueError, match="action"):
        audit_record_batch([(AT, "system", "x", "x", "", "", "", "", "", "", "", "", "{}")])
