"""Primary keys are time-ordered UUIDs (core.models.keys): new rows sort after older ones, every process draws its
own, and the migrations that made them so change no table."""

import os
import uuid

import pytest
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from tongban.core.models import OutboxEvent
from tongban.core.models.keys import new_id


def test_new_ids_are_version_7_and_increase_in_a_process():
    ids = [new_id() for _ in range(2000)]
    assert all(isinstance(value, uuid.UUID) and value.version == 7 for value in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_forked_processes_draw_different_ids():
    """A forked server or worker process must not repeat its parent's or a sibling's keys."""
    new_id()  # the parent's generator has state before the fork
    reader, writer = os.pipe()
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(reader)
            os.write(writer, ("".join(new_id().hex for _ in range(200)) + "\n").encode())
            os._exit(0)
        children.append(pid)
    os.close(writer)
    for pid in children:
        os.waitpid(pid, 0)
    with os.fdopen(reader) as pipe:
        text = pipe.read()
    drawn = [line[i : i + 32] for line in text.split() for i in range(0, len(line), 32)]
    assert len(drawn) == 800 and len(set(drawn)) == 800


@pytest.mark.django_db
def test_a_model_s_new_rows_sort_by_creation():
    """Rows made one after another get keys in the same order: the right edge of each index that holds them."""
    made = [OutboxEvent.objects.create(name="keys.order", payload={"n": n}) for n in range(5)]
    assert [event.pk.version for event in made] == [7] * 5
    assert [event.pk for event in made] == sorted(event.pk for event in made)
    stored = list(
        OutboxEvent.objects.filter(name="keys.order").order_by("pk").values_list("payload", flat=True)
    )
    assert stored == [{"n": n} for n in range(5)]


def test_the_migrations_that_made_keys_time_ordered_change_no_table():
    """Each app's migration changes the ids' default in the migration state only: no statement reaches a table."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = {key: m for key, m in loader.disk_migrations.items() if key[1].endswith("_ids_time_ordered")}
    assert len(found) >= 16
    for key, migration in found.items():
        for operation in migration.operations:
            assert isinstance(operation, migrations.SeparateDatabaseAndState), key
            assert operation.database_operations == [], key
            assert all(
                isinstance(op, migrations.AlterField) and op.name == "id" for op in operation.state_operations
            )
